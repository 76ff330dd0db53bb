// Watch latency and event throughput: N watchers on one prefix and one writer putting keys under
// it one after another; each event's latency runs from just before its put was sent to its
// arrival at a watcher. Events still missing a while after the last put count as missing.
import type { KvTarget } from './kv-target.js';
import type { LoadResult } from './load.js';

export interface WatchLoadOptions {
  readonly watchers: number;
  /** Puts made by the one writer, one in flight. */
  readonly puts: number;
  /** Keys are `${prefix}${i}`. */
  readonly prefix: string;
  readonly value: string;
  /** How long to wait for the last events after the last put was acknowledged. */
  readonly drainMs: number;
}

/** ops, opsPerSecond and the latencies are of events (puts x watchers); errors are events missing. */
export interface WatchResult extends LoadResult {
  readonly watchers: number;
  readonly puts: number;
  readonly putsPerSecond: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** Runs the workload on a target that has `watchPrefix`; the watchers are closed at the end. */
export async function runWatchLoad(target: Required<Pick<KvTarget, 'put' | 'watchPrefix'>>, options: WatchLoadOptions): Promise<WatchResult> {
  const sentAtMs = new Float64Array(options.puts);
  const latencies: number[] = [];
  const expected = options.puts * options.watchers;
  let unexpected = 0;
  let allArrived: () => void = () => {};
  const arrived = new Promise<void>((resolve) => (allArrived = resolve));
  const onPut = (key: string): void => {
    const i = Number(key.slice(options.prefix.length));
    if (!Number.isInteger(i) || i < 0 || i >= options.puts || sentAtMs[i] === 0) {
      unexpected++;
      return;
    }
    latencies.push(performance.now() - (sentAtMs[i] as number));
    if (latencies.length === expected) allArrived();
  };
  const watches = await Promise.all(Array.from({ length: options.watchers }, () => target.watchPrefix(options.prefix, onPut)));
  try {
    const start = performance.now();
    let putErrors = 0;
    for (let i = 0; i < options.puts; i++) {
      sentAtMs[i] = performance.now();
      await target.put(`${options.prefix}${i}`, options.value).catch(() => void putErrors++);
    }
    const putsEndMs = performance.now();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([arrived, new Promise<void>((resolve) => (timer = setTimeout(resolve, options.drainMs)))]);
    clearTimeout(timer);
    const wallMs = performance.now() - start;
    latencies.sort((a, b) => a - b);
    const missing = expected - latencies.length;
    const samples = [
      ...(putErrors > 0 ? [{ message: 'put failed', count: putErrors }] : []),
      ...(missing > 0 ? [{ message: 'event missing', count: missing }] : []),
      ...(unexpected > 0 ? [{ message: 'event for a key not put in this run', count: unexpected }] : []),
    ];
    return {
      ops: latencies.length,
      errors: missing + unexpected,
      wallMs,
      opsPerSecond: latencies.length / (wallMs / 1000),
      latencyMsP50: percentile(latencies, 50),
      latencyMsP99: percentile(latencies, 99),
      latencyMsMax: latencies[latencies.length - 1] ?? NaN,
      errorSamples: samples,
      watchers: options.watchers,
      puts: options.puts,
      putsPerSecond: options.puts / ((putsEndMs - start) / 1000),
    };
  } finally {
    await Promise.all(watches.map((w) => w.close()));
  }
}
