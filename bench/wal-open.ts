// `npm run bench -- wal-open [--sizes 10000,50000,100000,200000] [--per-record 1,64] [--repeat 3]`:
// how a node's restart time grows with the length of its log. For each length and record shape it
// writes a real data directory with RaftStorage, then opens it in fresh child processes
// (bench/lib/wal-open-child.ts) and prints the medians of RaftStorage.open and of the core's create().
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RaftStorage } from '../src/storage/index.js';
import type { LogEntry, RaftPersistOp } from '../src/raft/index.js';
import type { ChildResult } from './lib/wal-open-child.js';

const CHILD = fileURLToPath(new URL('./lib/wal-open-child.ts', import.meta.url));
/** As bench kv writes: 256-byte values. */
const VALUE = 'v'.repeat(256);
/** Persist calls in flight while writing: they group-commit, as a loaded node's calls do. */
const CALLS_IN_FLIGHT = 256;

interface Options {
  readonly sizes: readonly number[];
  readonly perRecord: readonly number[];
  readonly repeat: number;
}

function parseArgs(args: readonly string[]): Options {
  const list = (name: string, fallback: number[]): number[] => {
    const at = args.indexOf(name);
    if (at < 0) return fallback;
    const values = (args[at + 1] ?? '').split(',').map(Number);
    if (values.length === 0 || !values.every((v) => Number.isSafeInteger(v) && v >= 1)) throw new Error(`${name} takes whole numbers >= 1, comma-separated`);
    return values;
  };
  const [repeat = 3] = list('--repeat', [3]);
  return { sizes: list('--sizes', [10_000, 50_000, 100_000, 200_000]), perRecord: list('--per-record', [1, 64]), repeat };
}

/** A KV put as the node's API proposes it (no client session). */
function putEntry(index: number): LogEntry {
  return { index, term: 1, kind: 'command', data: { clientId: null, seq: 0, op: { op: 'put', key: `key-${index % 100_000}`, value: VALUE } } };
}

/**
 * Writes `entryCount` entries, `perRecord` per persist call, each call also carrying the commit
 * index (as a node's calls do), so the log holds an entries record and a hard-state record per
 * call. fsync is off to build quickly: the reader cannot tell.
 */
async function writeLog(dir: string, entryCount: number, perRecord: number): Promise<{ records: number; diskBytes: number }> {
  const storage = await RaftStorage.open(dir, { writeThrough: false, sync: { syncFile: async () => {}, syncDir: async () => {} } });
  await storage.persist([{ kind: 'hardState', state: { term: 1, vote: '1', commit: 0 } }]);
  let inFlight: Promise<void>[] = [];
  for (let first = 1; first <= entryCount; first += perRecord) {
    const last = Math.min(entryCount, first + perRecord - 1);
    const entries = Array.from({ length: last - first + 1 }, (_, k) => putEntry(first + k));
    const ops: RaftPersistOp[] = [{ kind: 'entries', entries }, { kind: 'hardState', state: { term: 1, vote: '1', commit: first - 1 } }];
    inFlight.push(storage.persist(ops));
    if (inFlight.length >= CALLS_IN_FLIGHT) {
      await Promise.all(inFlight);
      inFlight = [];
    }
  }
  await Promise.all(inFlight);
  await storage.close();
  return { records: storage.stats.records, diskBytes: storage.stats.bytesWritten };
}

function openInChild(dir: string): ChildResult {
  const out = execFileSync(process.execPath, ['--import', 'tsx', CHILD, dir], { encoding: 'utf8', maxBuffer: 1024 * 1024 });
  return JSON.parse(out) as ChildResult;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

export async function run(args: string[]): Promise<void> {
  const options = parseArgs(args);
  const cpu = cpus();
  process.stdout.write(`${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  process.stdout.write(`median of ${options.repeat} opens, each in a fresh process\n\n`);
  process.stdout.write('entries  per record  records   MiB on disk  open ms  open CPU ms  create ms  per 100k entries (open+create)  peak RSS MiB  heap MiB\n');
  const root = await mkdtemp(join(tmpdir(), 'synod-bench-wal-open-'));
  try {
    for (const perRecord of options.perRecord) {
      for (const entryCount of options.sizes) {
        const dir = join(root, `${entryCount}-${perRecord}`);
        const written = await writeLog(dir, entryCount, perRecord);
        const runs = Array.from({ length: options.repeat }, () => openInChild(dir));
        const first = runs[0] as ChildResult;
        if (first.lastIndex !== entryCount) throw new Error(`opened ${dir}: last index ${first.lastIndex}, expected ${entryCount}`);
        const openMs = median(runs.map((r) => r.openMs));
        const createMs = median(runs.map((r) => r.createMs));
        const cells = [
          String(entryCount).padStart(7),
          String(perRecord).padStart(11),
          String(written.records).padStart(8),
          (written.diskBytes / 2 ** 20).toFixed(1).padStart(13),
          openMs.toFixed(0).padStart(8),
          median(runs.map((r) => r.openCpuMs)).toFixed(0).padStart(12),
          createMs.toFixed(0).padStart(10),
          (((openMs + createMs) * 100_000) / entryCount).toFixed(0).padStart(31),
          median(runs.map((r) => r.peakRssMiB)).toFixed(0).padStart(13),
          median(runs.map((r) => r.heapMiB)).toFixed(0).padStart(9),
        ];
        process.stdout.write(cells.join(' ') + '\n');
        await rm(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
