// The op-log store: ops come back in order after a reopen, compaction writes a checkpoint that
// recovery starts from, and a record that is not an op of the store is refused at open.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OpLogStore } from './op-log.js';

type Op = { readonly key: string; readonly value: number };
const decodeOp = (v: unknown): { op: Op } | { problem: string } => {
  const o = v as Partial<Op> | null;
  return typeof o === 'object' && o !== null && typeof o.key === 'string' && typeof o.value === 'number' ? { op: { key: o.key, value: o.value } } : { problem: 'not a {key, value} op' };
};
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
    for (let i = 0; i < 25; i++) await store.persist([{ key: `k${i % 3}`, value: i }]);
    expect(store.stats.checkpoints).toBe(2);
    await store.close();
    const again = await OpLogStore.open<Op>(dir, { decodeOp, compact: latest, compactEveryOps: 10 });
    // the checkpoint after op 20 holds three ops; the five after it are records
    expect(again.recovered.length).toBe(3 + 5);
    expect(latest(again.recovered)).toEqual([{ key: 'k0', value: 24 }, { key: 'k1', value: 22 }, { key: 'k2', value: 23 }]);
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
