// The simulator's event queues, ordered by (time, sequence number). The sequence number is the
// tie-break: events at the same virtual millisecond run in the order they were scheduled, which
// keeps runs deterministic. BucketQueue is the fast one the simulator uses; EventQueue (a binary
// heap) holds its far-future overflow and serves as the reference in tests.
import { assertInvariant } from '../core/index.js';

export interface Scheduled {
  atMs: number;
  seq: number;
}

export class EventQueue<E extends Scheduled> {
  private readonly heap: E[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Stamps `event` with the next sequence number and enqueues it. */
  push(event: E): void {
    event.seq = this.nextSeq++;
    const heap = this.heap;
    let i = heap.length;
    heap.push(event);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as E;
      if (p.atMs < event.atMs || (p.atMs === event.atMs && p.seq < event.seq)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = event;
  }

  peekTime(): number {
    const top = this.heap[0];
    return top === undefined ? Infinity : top.atMs;
  }

  pop(): E | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (top === undefined) return undefined;
    const last = heap.pop() as E;
    const n = heap.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      let child = heap[l] as E;
      if (r < n) {
        const right = heap[r] as E;
        if (right.atMs < child.atMs || (right.atMs === child.atMs && right.seq < child.seq)) {
          c = r;
          child = right;
        }
      }
      if (last.atMs < child.atMs || (last.atMs === child.atMs && last.seq < child.seq)) break;
      heap[i] = child;
      i = c;
    }
    heap[i] = last;
    return top;
  }
}

const WINDOW_MS = 4096;

/**
 * A calendar queue for integer times: one FIFO bucket per millisecond over a sliding window,
 * and a heap for events beyond it. Push and pop are O(1) within the window. Far events move
 * into their bucket when the window reaches them, before any later push can land there, so
 * every bucket stays in sequence order.
 */
export class BucketQueue<E extends Scheduled> {
  private readonly buckets: E[][] = Array.from({ length: WINDOW_MS }, () => []);
  private readonly heads = new Int32Array(WINDOW_MS);
  private readonly far = new EventQueue<E>();
  /** Start of the window: no event earlier than this remains. */
  private cursorMs = 0;
  private inBuckets = 0;
  private nextSeq = 0;

  get size(): number {
    return this.inBuckets + this.far.size;
  }

  push(event: E): void {
    assertInvariant(event.atMs >= this.cursorMs, () => `event queue: event at ${event.atMs} ms is before ${this.cursorMs} ms`);
    if (event.atMs >= this.cursorMs + WINDOW_MS) {
      this.far.push(event); // the heap stamps its own order; buckets keep ours
      return;
    }
    event.seq = this.nextSeq++;
    (this.buckets[event.atMs % WINDOW_MS] as E[]).push(event);
    this.inBuckets++;
  }

  /** The time of the earliest event if it is <= limitMs, else Infinity; never moves past limitMs. */
  peekTime(limitMs = Infinity): number {
    return this.seek(limitMs) ? this.cursorMs : Infinity;
  }

  pop(): E | undefined {
    if (!this.seek(Infinity)) return undefined;
    const slot = this.cursorMs % WINDOW_MS;
    const bucket = this.buckets[slot] as E[];
    const head = this.heads[slot] as number;
    const event = bucket[head] as E;
    bucket[head] = undefined as unknown as E;
    if (head + 1 === bucket.length) {
      bucket.length = 0;
      this.heads[slot] = 0;
    } else {
      this.heads[slot] = head + 1;
    }
    this.inBuckets--;
    return event;
  }

  /**
   * Moves the cursor to the earliest pending event if it is at or before `limitMs`; false when
   * there is none. The cursor never passes `limitMs`, so the host may still schedule at any time
   * from then on.
   */
  private seek(limitMs: number): boolean {
    for (;;) {
      if (this.inBuckets === 0) {
        const t = this.far.peekTime();
        if (t === Infinity || t > limitMs) return false;
        this.advanceTo(t);
        continue;
      }
      const slot = this.cursorMs % WINDOW_MS;
      if ((this.buckets[slot] as E[]).length > (this.heads[slot] as number)) return true;
      if (this.cursorMs + 1 > limitMs) return false;
      this.advanceTo(this.cursorMs + 1);
    }
  }

  private advanceTo(timeMs: number): void {
    this.cursorMs = timeMs;
    const horizon = timeMs + WINDOW_MS;
    while (this.far.peekTime() < horizon) {
      const event = this.far.pop() as E;
      event.seq = this.nextSeq++;
      (this.buckets[event.atMs % WINDOW_MS] as E[]).push(event);
      this.inBuckets++;
    }
  }
}
