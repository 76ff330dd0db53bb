// Crash images of an op log around its prepared checkpoints: the directory is copied (as a crash
// would leave it) while a checkpoint's snapshot is still being written, with the snapshot renamed
// into place but its marker not yet written, and after it is in force, each time with ops
// persisted meanwhile. Opening any image must give back every acknowledged op (folded with the
// checkpoint), nothing else, and remove what the crash left half done.
import fc from 'fast-check';
import { cp, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OpLogStore } from './op-log.js';
import { decodeKeyValueOp as decodeOp, LatestValueFolder as LatestFolder, type KeyValueOp as Op } from './test/kv-ops.js';
import { useTempDirs } from './test/helpers.js';

const latest = (ops: readonly Op[]): Record<string, number> => Object.fromEntries(ops.map((op) => [op.key, op.value]));

const newDir = useTempDirs();

/** Copies a data directory as a crash leaves it (the lock file is stale in the copy and taken over). */
async function crashImage(dir: string): Promise<string> {
  const image = await newDir();
  await rm(image, { recursive: true, force: true });
  await cp(dir, image, { recursive: true });
  return image;
}

async function recover(dir: string): Promise<Record<string, number>> {
  const store = await OpLogStore.open<Op>(dir, { decodeOp, writeThrough: false });
  const state = latest(store.recovered);
  await store.close();
  expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  return state;
}

describe('OpLogStore crash images around a prepared checkpoint', () => {
  it('every image recovers exactly the acknowledged ops', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          keys: fc.integer({ min: 1, max: 12 }),
          before: fc.integer({ min: 4, max: 30 }),
          during: fc.integer({ min: 0, max: 25 }),
          after: fc.integer({ min: 0, max: 10 }),
          segmentBytes: fc.constantFrom(96, 300, 4096),
        }),
        async ({ keys, before, during, after, segmentBytes }) => {
          const dir = await newDir();
          let release = (): void => undefined;
          const held = new Promise<void>((resolve) => (release = resolve));
          let holding = true;
          const store = await OpLogStore.open<Op>(dir, {
            decodeOp,
            folder: () => new LatestFolder(),
            compactEveryOps: before,
            segmentBytes,
            writeThrough: false,
            // the first snapshot's sync waits for the test; records sync at once
            sync: { syncFile: async (handle, path) => { if (holding && path.endsWith('.tmp')) await held; await handle.datasync(); }, syncDir: async () => undefined },
          });
          const acknowledged: Op[] = [];
          let n = 0;
          const write = async (): Promise<void> => {
            const op = { key: `k${n % keys}`, value: n++ };
            await store.persist([op]);
            acknowledged.push(op);
          };
          for (let i = 0; i < before; i++) await write(); // the last one starts the checkpoint
          for (let i = 0; i < during; i++) await write();
          // 1: the snapshot is still being written
          const whileWriting = await crashImage(dir);
          expect(await recover(whileWriting)).toEqual(latest(acknowledged));
          // 2: renamed into place, marker not written: an orphan snapshot named by the next sequence number
          const orphan = await crashImage(dir);
          const temp = (await readdir(orphan)).find((f) => f.endsWith('.tmp'));
          expect(temp).toBeDefined();
          // any sequence number past the log's end names a snapshot whose marker never came
          await rename(join(orphan, temp as string), join(orphan, `${String(Number.MAX_SAFE_INTEGER).padStart(20, '0')}.snap`));
          expect(await recover(orphan)).toEqual(latest(acknowledged));
          holding = false;
          release();
          await store.checkpointed();
          expect(store.stats.checkpoints).toBe(1);
          for (let i = 0; i < after; i++) await write();
          // 3: in force, with the ops written meanwhile before and after its marker (and any later
          // checkpoint those writes started finished first: the copy must not race its cleanup)
          await store.checkpointed();
          const inForce = await crashImage(dir);
          expect(await recover(inForce)).toEqual(latest(acknowledged));
          await store.close();
          expect(await recover(dir)).toEqual(latest(acknowledged));
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);
});
