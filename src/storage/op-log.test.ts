// The op-log store: ops come back in order after a reopen, compaction writes a checkpoint that
// recovery starts from, and a record that is not an op of the store is refused at open.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OpLogStore } from './op-log.js';
import { decodeKeyValueOp as decodeOp, LatestValueFolder as LatestFolder, type KeyValueOp as Op } from './test/kv-ops.js';

/** Latest value per key, in first-write order. */
const latest = (ops: readonly Op[]): Op[] => [...new Map(ops.map((op) => [op.key, op])).values()];

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'synod-oplog-'));
  dirs.push(d);
  return d;
}

describe('OpLogStore', () => {
  it('gives the persisted ops back in order after a reopen', async () => {
    const dir = tempDir();
    const store = await OpLogStore.open<Op>(dir, { decodeOp });
    expect(store.recovered).toEqual([]);
    await store.persist([{ key: 'a', value: 1 }, { key: 'b', value: 2 }]);
    await store.persist([{ key: 'a', value: 3 }]);
    await store.close();
    const again = await OpLogStore.open<Op>(dir, { decodeOp });
    expect(again.recovered).toEqual([{ key: 'a', value: 1 }, { key: 'b', value: 2 }, { key: 'a', value: 3 }]);
    await again.close();
  });

  it('compacts into a checkpoint that recovery starts from', async () => {
    const dir = tempDir();
    const store = await OpLogStore.open<Op>(dir, { decodeOp, compact: latest, compactEveryOps: 10 });
    for (let i = 0; i < 25; i++) {
      await store.persist([{ key: `k${i % 3}`, value: i }]);
      await store.checkpointed();
    }
    expect(store.stats.checkpoints).toBe(2);
    await store.close();
    const again = await OpLogStore.open<Op>(dir, { decodeOp, compact: latest, compactEveryOps: 10 });
    // the checkpoint after op 20 holds three ops; the five after it are records
    expect(again.recovered.length).toBe(3 + 5);
    expect(latest(again.recovered)).toEqual([{ key: 'k0', value: 24 }, { key: 'k1', value: 22 }, { key: 'k2', value: 23 }]);
    await again.close();
  });

  it('folds op by op with a folder, and waits for as many new ops as the last checkpoint held', async () => {
    const dir = tempDir();
    const store = await OpLogStore.open<Op>(dir, { decodeOp, folder: () => new LatestFolder(), compactEveryOps: 10 });
    // 40 distinct keys: checkpoints after op 10 (10 ops held), 20 (20), then 40 (40): never one per 10 ops once the fold is larger
    for (let i = 0; i < 45; i++) {
      await store.persist([{ key: `k${i}`, value: i }]);
      await store.checkpointed();
    }
    expect(store.stats.checkpoints).toBe(3);
    await store.close();
    const again = await OpLogStore.open<Op>(dir, { decodeOp, folder: () => new LatestFolder(), compactEveryOps: 10 });
    expect(again.recovered.length).toBe(40 + 5);
    // the recovered ops seed the fold: the next checkpoint holds all 45 keys and their latest values
    for (let i = 0; i < 40; i++) {
      await again.persist([{ key: `k${i % 3}`, value: 100 + i }]);
      await again.checkpointed();
    }
    expect(again.stats.checkpoints).toBe(1);
    await again.close();
    const third = await OpLogStore.open<Op>(dir, { decodeOp, folder: () => new LatestFolder() });
    expect(latest(third.recovered)).toHaveLength(45);
    expect(latest(third.recovered).slice(0, 3)).toEqual([{ key: 'k0', value: 139 }, { key: 'k1', value: 137 }, { key: 'k2', value: 138 }]);
    await third.close();
  });

  it('takes a batch of 200,000 ops in one call, folding it with compact (no spread of that many arguments)', async () => {
    const dir = tempDir();
    const store = await OpLogStore.open<Op>(dir, { decodeOp, compact: latest, compactEveryOps: 10, writeThrough: false });
    const ops = Array.from({ length: 200_000 }, (_, i) => ({ key: `k${i % 150_000}`, value: i }));
    await store.persist(ops);
    await store.checkpointed();
    await store.persist([{ key: 'k0', value: -1 }]);
    expect(store.stats.checkpoints).toBe(1);
    await store.close();
    const again = await OpLogStore.open<Op>(dir, { decodeOp });
    expect(again.recovered.length).toBe(150_000 + 1);
    await again.close();
  }, 60_000);

  it('goes on persisting while a checkpoint is written, and keeps what was persisted meanwhile', async () => {
    const dir = tempDir();
    let releaseSnapshot = (): void => undefined;
    const snapshotHeld = new Promise<void>((resolve) => (releaseSnapshot = resolve));
    const store = await OpLogStore.open<Op>(dir, {
      decodeOp,
      folder: () => new LatestFolder(),
      compactEveryOps: 10,
      // the snapshot's sync waits until the test lets it go
      sync: { syncFile: async (handle, path) => { if (path.endsWith('.tmp')) await snapshotHeld; await handle.datasync(); } },
    });
    for (let i = 0; i < 10; i++) await store.persist([{ key: `k${i}`, value: i }]);
    // the checkpoint of k0..k9 is being written: persists do not wait for it
    for (let i = 0; i < 20; i++) await store.persist([{ key: `k${i % 12}`, value: 100 + i }]);
    expect(store.stats.checkpoints).toBe(0);
    releaseSnapshot();
    await store.checkpointed();
    expect(store.stats.checkpoints).toBe(1);
    await store.close();
    const again = await OpLogStore.open<Op>(dir, { decodeOp });
    // the snapshot (10 ops) and every op persisted after the fold (20, all while it was written)
    expect(again.recovered).toHaveLength(10 + 20);
    const values = new Map(latest(again.recovered).map((op) => [op.key, op.value]));
    expect(values.get('k0')).toBe(112);
    expect(values.get('k11')).toBe(111);
    expect(values.get('k9')).toBe(109);
    expect(values.size).toBe(12);
    await again.close();
  });

  it('refuses at open a record that is not an op of this store', async () => {
    const dir = tempDir();
    const store = await OpLogStore.open<unknown>(dir, { decodeOp: (v) => ({ op: v }) });
    await store.persist([{ something: 'else' }]);
    await store.close();
    await expect(OpLogStore.open<Op>(dir, { decodeOp })).rejects.toThrow(/not a \{key, value\} op/);
  });
});
