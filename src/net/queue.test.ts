// Outbound queue tests: FIFO order through growth and wrap-around, both bounds enforced by
// dropping the oldest frames, and the drop counts reported for metrics.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameQueue } from './queue.js';

const frame = (n: number, bytes = 4): Buffer => {
  const b = Buffer.alloc(bytes);
  b.writeUInt32BE(n, 0);
  return b;
};
const ids = (q: FrameQueue): number[] => {
  const out: number[] = [];
  for (let f = q.shift(); f !== undefined; f = q.shift()) out.push(f.readUInt32BE(0));
  return out;
};

describe('FrameQueue', () => {
  it('keeps FIFO order across growth', () => {
    const q = new FrameQueue({ maxMessages: 1000, maxBytes: 1 << 20 });
    for (let i = 0; i < 100; i++) q.push(frame(i));
    expect(q.length).toBe(100);
    expect(q.bytes).toBe(400);
    expect(ids(q)).toEqual([...Array(100).keys()]);
  });

  it('drops the oldest when the message bound is reached', () => {
    const q = new FrameQueue({ maxMessages: 3, maxBytes: 1 << 20 });
    for (let i = 0; i < 3; i++) expect(q.push(frame(i)).droppedMessages).toBe(0);
    expect(q.push(frame(3))).toEqual({ droppedMessages: 1, droppedBytes: 4 });
    expect(ids(q)).toEqual([1, 2, 3]);
  });

  it('drops as many oldest frames as needed for the byte bound', () => {
    const q = new FrameQueue({ maxMessages: 100, maxBytes: 20 });
    for (let i = 0; i < 5; i++) q.push(frame(i));
    expect(q.push(frame(5, 12))).toEqual({ droppedMessages: 3, droppedBytes: 12 });
    expect(q.bytes).toBe(20);
    expect(ids(q)).toEqual([3, 4, 5]);
  });

  it('clear reports what it discarded', () => {
    const q = new FrameQueue({ maxMessages: 10, maxBytes: 100 });
    q.push(frame(1));
    q.push(frame(2, 8));
    expect(q.clear()).toEqual({ droppedMessages: 2, droppedBytes: 12 });
    expect(q.length).toBe(0);
    expect(q.peek()).toBeUndefined();
  });

  it('property: behaves like a bounded array that drops from the front', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 8, max: 200 }),
        fc.array(fc.oneof(fc.integer({ min: 4, max: 8 }), fc.constant(-1)), { maxLength: 300 }),
        (maxMessages, maxBytes, ops) => {
          const q = new FrameQueue({ maxMessages, maxBytes });
          const model: Buffer[] = [];
          let n = 0;
          for (const op of ops) {
            if (op === -1) {
              expect(q.shift()).toBe(model.shift());
              continue;
            }
            const f = frame(n++, op);
            model.push(f);
            while (model.length > maxMessages || model.reduce((s, b) => s + b.length, 0) > maxBytes) model.shift();
            q.push(f);
            expect(q.length).toBe(model.length);
            expect(q.bytes).toBeLessThanOrEqual(maxBytes);
          }
          expect(ids(q)).toEqual(model.map((f) => f.readUInt32BE(0)));
        },
      ),
    );
  });
});
