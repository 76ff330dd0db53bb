// `npm run bench -- quorum-storage [--keys N] [--json] [--help]`: the leaderless store's local
// storage measured against the alternative the issue names, LMDB (the `lmdb` package), on the
// store's own workload: durable writes of one key's state (acknowledged only once on disk),
// 64 in flight and one at a time, then a restart that loads every key back into memory (the core
// holds the whole key set), and the bytes on disk. The store uses the project's WAL (OpLogStore as a
// node opens it: checkpoints written beside the log, at least every 50,000 ops); docs/quorum.md ("Storage") cites the result.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open as openLmdb, type RootDatabase } from 'lmdb';
import type { QuorumPersistOp } from '../src/quorum/index.js';
import { openQuorumOpLog } from '../src/server/quorum-service.js';
import type { OpLogStore } from '../src/storage/index.js';
import { runLoad, type LoadResult } from './lib/load.js';

export const USAGE = `usage: npm run bench -- quorum-storage [--keys N] [--json] [--help]
  --keys N   distinct keys (default 100000); every key is written twice, 64 writes in flight
  --json     print the results as one JSON document on stdout (progress goes to stderr)
`;

const CONCURRENCY = 64;
const VALUE = 'x'.repeat(100);
const SEQUENTIAL_OPS = 500;

/** One key's state as a replica persists it after a put (one version, its dot and version vector). */
function stateOp(i: number, keys: number): Extract<QuorumPersistOp, { op: 'state' }> {
  const counter = i + 1;
  return { op: 'state', key: `b/key-${i % keys}`, state: { kind: 'dvv', vv: [['1', counter]], siblings: [{ dot: { actor: '1', counter }, value: VALUE }] } };
}

interface Engine {
  readonly name: string;
  open(dir: string): Promise<void>;
  /** Resolves once the write is durable. */
  write(op: Extract<QuorumPersistOp, { op: 'state' }>): Promise<void>;
  /** Reopens and loads every key's state into a map, as a restarting node must; returns the key count. */
  reload(dir: string): Promise<number>;
  /** Waits for background work of the writes so far (the WAL's checkpoint being written), outside the timings. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

function walEngine(): Engine {
  let store: OpLogStore<QuorumPersistOp> | undefined;
  const openStore = (dir: string): Promise<OpLogStore<QuorumPersistOp>> => openQuorumOpLog(join(dir, 'quorum'));
  return {
    name: 'WAL (OpLogStore)',
    open: async (dir) => void (store = await openStore(dir)),
    write: (op) => (store as OpLogStore<QuorumPersistOp>).persist([op]),
    reload: async (dir) => {
      await store?.close();
      store = await openStore(dir);
      const map = new Map<string, unknown>();
      for (const op of store.recovered) if (op.op === 'state') map.set(op.key, op.state);
      return map.size;
    },
    settle: async () => store?.checkpointed(),
    close: async () => store?.close(),
  };
}

function lmdbEngine(): Engine {
  let db: RootDatabase | undefined;
  // overlappingSync off: a commit returns only after LMDB's fsync, so a resolved put is on disk (as the WAL's)
  const openDb = (dir: string): RootDatabase => openLmdb({ path: join(dir, 'lmdb'), overlappingSync: false, compression: false });
  return {
    name: 'LMDB (lmdb package)',
    open: async (dir) => void (db = openDb(dir)),
    write: async (op) => void (await (db as RootDatabase).put(op.key, op.state)),
    reload: async (dir) => {
      await db?.close();
      db = openDb(dir);
      const map = new Map<string, unknown>();
      for (const { key, value } of db.getRange()) map.set(String(key), value);
      return map.size;
    },
    settle: async () => undefined,
    close: async () => db?.close(),
  };
}

function bytesUnder(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? bytesUnder(path) : statSync(path).size;
  }
  return total;
}

interface Row {
  readonly engine: string;
  readonly concurrent: LoadResult;
  readonly sequential: LoadResult;
  readonly reloadMs: number;
  readonly keysLoaded: number;
  readonly diskBytes: number;
}

async function measure(engine: Engine, keys: number, say: (line: string) => void): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'synod-storage-'));
  try {
    await engine.open(dir);
    let next = 0;
    const total = 2 * keys;
    say(`${engine.name}: ${total} durable writes, ${CONCURRENCY} in flight`);
    const concurrent = await runLoad({ concurrency: CONCURRENCY, totalOps: total, maxWallMs: 600_000 }, () => engine.write(stateOp(next++, keys)));
    // a checkpoint the last writes started is written in the background: let it finish before the next phase
    await engine.settle();
    say(`${engine.name}: ${SEQUENTIAL_OPS} durable writes one at a time`);
    const sequential = await runLoad({ concurrency: 1, totalOps: SEQUENTIAL_OPS, maxWallMs: 120_000 }, () => engine.write(stateOp(next++, keys)));
    await engine.settle();
    const started = performance.now();
    const keysLoaded = await engine.reload(dir);
    const reloadMs = performance.now() - started;
    const diskBytes = bytesUnder(dir);
    await engine.close();
    return { engine: engine.name, concurrent, sequential, reloadMs, keysLoaded, diskBytes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(args: string[]): Promise<void> {
  if (args.includes('--help') || args.includes('-h')) return void process.stdout.write(USAGE);
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--keys') i++;
    else if (args[i] !== '--json') throw new Error(`unknown argument ${JSON.stringify(args[i])}\n${USAGE}`);
  }
  const keysText = args.includes('--keys') ? args[args.indexOf('--keys') + 1] : '100000';
  const keys = Number(keysText);
  if (!Number.isSafeInteger(keys) || keys < 100 || keys > 10_000_000) throw new Error(`--keys is a whole number from 100 to 10000000, got ${JSON.stringify(keysText)}`);
  const json = args.includes('--json');
  const say = (line: string): void => void process.stderr.write(`${line}\n`);
  const rows: Row[] = [];
  for (const engine of [walEngine(), lmdbEngine()]) rows.push(await measure(engine, keys, say));
  if (json) return void process.stdout.write(`${JSON.stringify({ keys, concurrency: CONCURRENCY, rows })}\n`);
  const wal = rows[0] as Row;
  const lines = [
    `npm run bench -- quorum-storage --keys ${keys}: ${2 * keys} durable writes of ${keys} keys (${CONCURRENCY} in flight), ${SEQUENTIAL_OPS} one at a time, then a restart loading every key`,
    '| storage | writes/s (64 in flight) | p99 ms | writes/s (1 in flight) | p50 ms | restart: load every key | disk |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => {
      const ratio = (a: number, b: number): string => (r === wal ? '' : ` (${(a / b).toFixed(2)}x)`);
      return `| ${r.engine} | ${Math.round(r.concurrent.opsPerSecond).toLocaleString('en-US')}${ratio(r.concurrent.opsPerSecond, wal.concurrent.opsPerSecond)} | ${r.concurrent.latencyMsP99.toFixed(1)} | ${Math.round(r.sequential.opsPerSecond).toLocaleString('en-US')}${ratio(r.sequential.opsPerSecond, wal.sequential.opsPerSecond)} | ${r.sequential.latencyMsP50.toFixed(2)} | ${Math.round(r.reloadMs)} ms (${r.keysLoaded} keys) | ${(r.diskBytes / 1e6).toFixed(1)} MB |`;
    }),
  ];
  const errors = rows.flatMap((r) => [...r.concurrent.errorSamples, ...r.sequential.errorSamples].map((e) => `${r.engine}: ${e.count} x ${e.message}`));
  process.stdout.write(`${[...lines, ...errors].join('\n')}\n`);
}
