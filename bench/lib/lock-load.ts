// The load of `bench lock`: N clients, each looping acquire → hold for one event-loop turn →
// release on its own lock name (or all on one), for a fixed time; latency from the acquire call to
// the release's answer. A ledger counts overlapping holders and fencing tokens that went backwards,
// so that a broken lock cannot pass for a fast one.
import { summarizeLoad, type LoadResult } from './load.js';

/** A grant as the load sees it: its fencing token (null where the backend has none) and how to give it back. */
export interface HeldLock {
  readonly token: number | null;
  release(): Promise<void>;
}

/** One client of a lock backend (its own connections): waits until `name` is granted. */
export interface LockClient {
  acquire(name: string): Promise<HeldLock>;
  close(): Promise<void>;
}

/**
 * Who holds which name right now, as the clients saw their grants: more than one holder of a name
 * at once is an overlap, and a grant whose token is not above the name's last one is a regression.
 * A hold spans an event-loop turn, so that another client's grant can arrive inside it.
 */
export class HolderLedger {
  private readonly holders = new Map<string, number>();
  private readonly lastToken = new Map<string, number>();
  overlaps = 0;
  tokenRegressions = 0;

  enter(name: string, token: number | null): void {
    const now = (this.holders.get(name) ?? 0) + 1;
    this.holders.set(name, now);
    if (now > 1) this.overlaps++;
    if (token === null) return;
    const last = this.lastToken.get(name);
    if (last !== undefined && token <= last) this.tokenRegressions++;
    this.lastToken.set(name, token);
  }

  leave(name: string): void {
    this.holders.set(name, (this.holders.get(name) ?? 0) - 1);
  }

  get violations(): number {
    return this.overlaps + this.tokenRegressions;
  }
}

export interface LockLoadOptions {
  /** The name client i locks (the same for all: contention; one each: none). */
  readonly nameOf: (client: number) => string;
  readonly durationMs: number;
  /** Stop everything at the first overlap or token regression (for backends that promise fencing). */
  readonly stopOnViolation: boolean;
  /** A bound on the acquire+release pairs of one client in one run. */
  readonly maxOpsPerClient?: number;
}

/** A load's result (`ops` are acquire+release pairs, latency from the acquire call to the release's answer) with the lock's own counts. */
export interface LockLoadResult extends LoadResult {
  /** The fewest and the most pairs one client completed (fairness under contention). */
  readonly clientOpsMin: number;
  readonly clientOpsMax: number;
  readonly overlaps: number;
  readonly tokenRegressions: number;
}

const DEFAULT_MAX_OPS_PER_CLIENT = 1_000_000;
/** After a failed acquire or release, a client pauses this long, so that a failing backend is not spun on. */
const ERROR_PAUSE_MS = 10;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs every client's loop until `durationMs` has passed (a pair under way then completes), and sums up. */
export async function runLockLoad(clients: readonly LockClient[], options: LockLoadOptions): Promise<LockLoadResult> {
  const ledger = new HolderLedger();
  const latencies: number[] = [];
  const perClient = clients.map(() => 0);
  const samples = new Map<string, number>();
  let errors = 0;
  let stopped = false;
  const maxOps = options.maxOpsPerClient ?? DEFAULT_MAX_OPS_PER_CLIENT;
  const start = performance.now();
  const deadline = start + options.durationMs;
  const failed = (err: unknown): void => {
    errors++;
    const message = String(err instanceof Error ? err.message : err).replace(/\d{3,}/g, '…').slice(0, 200);
    if (samples.has(message) || samples.size < 3) samples.set(message, (samples.get(message) ?? 0) + 1);
  };
  const loop = async (client: LockClient, i: number): Promise<void> => {
    const name = options.nameOf(i);
    for (let n = 0; n < maxOps && !stopped && performance.now() < deadline; n++) {
      const t0 = performance.now();
      let held: HeldLock;
      try {
        held = await client.acquire(name);
      } catch (err) {
        failed(err);
        await sleep(ERROR_PAUSE_MS);
        continue;
      }
      ledger.enter(name, held.token);
      if (options.stopOnViolation && ledger.violations > 0) stopped = true;
      await nextTurn();
      ledger.leave(name);
      try {
        await held.release();
      } catch (err) {
        failed(err);
        await sleep(ERROR_PAUSE_MS);
        continue;
      }
      latencies.push(performance.now() - t0);
      perClient[i] = (perClient[i] as number) + 1;
    }
  };
  await Promise.all(clients.map(loop));
  return {
    ...summarizeLoad(latencies, errors, performance.now() - start, samples),
    clientOpsMin: Math.min(...perClient),
    clientOpsMax: Math.max(...perClient),
    overlaps: ledger.overlaps,
    tokenRegressions: ledger.tokenRegressions,
  };
}
