// A closed-loop load driver: keeps N operations in flight for a fixed count or duration and
// reports throughput and latency percentiles. Shared by every side-by-side benchmark.

export interface LoadResult {
  readonly ops: number;
  readonly errors: number;
  readonly wallMs: number;
  readonly opsPerSecond: number;
  readonly latencyMsP50: number;
  readonly latencyMsP99: number;
  readonly latencyMsMax: number;
  /** Up to three distinct error messages with their counts, so that errors are explained. */
  readonly errorSamples: readonly { readonly message: string; readonly count: number }[];
}

export interface LoadOptions {
  /** Operations kept in flight. */
  readonly concurrency: number;
  /** Stop after this many operations... */
  readonly totalOps: number;
  /** ...or after this long, whichever is first. */
  readonly maxWallMs: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** Runs `op(i)` (i = 0, 1, ...) with `concurrency` in flight; an op that throws counts as an error. */
export async function runLoad(options: LoadOptions, op: (i: number) => Promise<void>): Promise<LoadResult> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const samples = new Map<string, number>();
  const start = performance.now();
  const deadline = start + options.maxWallMs;
  const worker = async (): Promise<void> => {
    while (next < options.totalOps && performance.now() < deadline) {
      const i = next++;
      const t0 = performance.now();
      try {
        await op(i);
        latencies.push(performance.now() - t0);
      } catch (err) {
        errors++;
        // the message without the key or index, so the same failure counts once
        const message = String((err as Error).message ?? err).replace(/\/[^ ]*\d[^ ]*/g, '/…').slice(0, 200);
        if (samples.has(message) || samples.size < 3) samples.set(message, (samples.get(message) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return summarizeLoad(latencies, errors, performance.now() - start, samples);
}

/** A run's result from its latencies (sorted here), error count, wall time and error samples. */
export function summarizeLoad(latencies: number[], errors: number, wallMs: number, samples: ReadonlyMap<string, number>): LoadResult {
  latencies.sort((a, b) => a - b);
  return {
    ops: latencies.length,
    errors,
    wallMs,
    opsPerSecond: latencies.length / (wallMs / 1000),
    latencyMsP50: percentile(latencies, 50),
    latencyMsP99: percentile(latencies, 99),
    latencyMsMax: latencies[latencies.length - 1] ?? NaN,
    errorSamples: [...samples].map(([message, count]) => ({ message, count })),
  };
}

export function formatLoad(r: LoadResult): string {
  const errors = r.errorSamples.map((e) => `\n      ${e.count} x ${e.message}`).join('');
  return `${Math.round(r.opsPerSecond).toLocaleString('en').padStart(8)} ops/s  p50 ${r.latencyMsP50.toFixed(2).padStart(7)} ms  p99 ${r.latencyMsP99.toFixed(2).padStart(7)} ms  (${r.ops} ops, ${r.errors} errors)${errors}`;
}
