// Group-commit benchmark: appends/s with 1, 8 and 64 concurrent appenders, fsync on, in a temp
// directory under os.tmpdir(). Run: node --import tsx src/storage/test/bench.ts [seconds]
// Each appender awaits its append before issuing the next, as a Raft host awaits persist().
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openWal } from '../wal.js';

const RECORD_BYTES = 128;

async function measure(concurrency: number, durationMs: number): Promise<{ perSecond: number; batches: number; appends: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'synod-wal-bench-'));
  try {
    const { wal } = await openWal(dir);
    const payload = new Uint8Array(RECORD_BYTES).fill(7);
    const start = performance.now();
    const deadline = start + durationMs;
    const appender = async (): Promise<void> => {
      while (performance.now() < deadline) await wal.append([{ kind: 'record', type: 2, payload }]);
    };
    await Promise.all(Array.from({ length: concurrency }, appender));
    const elapsedMs = performance.now() - start;
    const { appends, batches } = wal.stats;
    await wal.close();
    return { perSecond: (appends / elapsedMs) * 1000, batches, appends };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const seconds = Number(process.argv[2] ?? 3);
for (const concurrency of [1, 8, 64]) {
  const r = await measure(concurrency, seconds * 1000);
  const perBatch = (r.appends / Math.max(1, r.batches)).toFixed(1);
  console.log(`${String(concurrency).padStart(3)} appenders: ${Math.round(r.perSecond).toString().padStart(7)} appends/s, ${r.batches} fsyncs, ${perBatch} appends per fsync`);
}
