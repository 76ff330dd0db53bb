// Chaos runs for any primitive: a safety phase (a seeded random nemesis and the primitive's
// client load, with its monitors watching every step), a heal phase (every fault undone), a
// liveness phase (the primitive must settle, then serve again), and the checker's verdict on the
// recorded history. A primitive supplies what only it knows through ChaosSubject; one seed
// replays one run exactly.
import type { Message } from '../core/index.js';
import type { Verdict } from '../check/index.js';
import type { SimCluster } from './cluster.js';
import { scheduleRandomNemesis, type RandomNemesisOptions } from './nemesis.js';

/** Something a monitor, the checker or a liveness check found wrong. */
export interface Violation {
  readonly kind: string;
  readonly atMs: number;
  readonly message: string;
}

/** What a primitive brings to a chaos run. */
export interface ChaosSubject<M extends Message, Req, Res, P> {
  readonly cluster: SimCluster<M, Req, Res, P>;
  /** Starts the client load (and any disturbance of the primitive's own, such as membership changes) until `untilMs`. */
  startLoad(untilMs: number): void;
  /** Heals every fault and waits until the primitive has settled; false when it did not within `timeoutMs`. */
  settle(timeoutMs: number): boolean;
  /** After settling: the primitive must serve again (e.g. every client gets a write through). */
  afterSettle(report: (v: Violation) => void): void;
  /** Last checks of the monitors once the run is over. */
  finalChecks(): void;
  /** The linearizability checker's verdict on the history, and why when it is a violation; 'skipped' for a primitive judged by other checkers (reported as violations). */
  check(): { readonly verdict: Verdict | 'skipped'; readonly explanation?: string };
  /** What the monitors found, and how many (the list may be capped). */
  violations(): readonly Violation[];
  violationCount(): number;
  /** Elections or similar counters, for the summary. */
  elections(): number;
  /** An error a core threw that means a broken invariant (a violation, not a crash of the harness). */
  isInvariantError(err: unknown): err is Error & { readonly code: string };
}

export interface ChaosPlan {
  readonly seed: number;
  /** How long faults are injected and clients run (virtual ms). */
  readonly durationMs: number;
  readonly nemesis: Omit<RandomNemesisOptions, 'untilMs'>;
  /** How long the healed system gets to settle. */
  readonly settleMs: number;
}

export interface ChaosResult {
  readonly seed: number;
  /** No violation (a checker verdict of unknown is not one). */
  readonly ok: boolean;
  readonly violations: readonly Violation[];
  readonly linearizability: Verdict | 'skipped';
  readonly ops: { readonly ok: number; readonly fail: number; readonly unknown: number };
  readonly elections: number;
  readonly messages: number;
  readonly virtualMs: number;
  readonly traceSha256: string | undefined;
}

/** Runs the phases on `subject`: safety, heal and liveness, then the checker. */
export function runChaosPhases<M extends Message, Req, Res, P>(subject: ChaosSubject<M, Req, Res, P>, plan: ChaosPlan): ChaosResult {
  const cluster = subject.cluster;
  const sim = cluster.sim;
  const extra: Violation[] = [];
  let verdict: ChaosResult['linearizability'] = 'skipped';
  try {
    // safety: faults and load together, every monitor on
    const nemesis = { ...plan.nemesis, untilMs: plan.durationMs };
    scheduleRandomNemesis(sim, nemesis);
    subject.startLoad(plan.durationMs);
    cluster.runFor(plan.durationMs + nemesis.maxFaultMs + 1);
    // heal, then liveness: it must settle and serve again
    if (subject.settle(plan.settleMs)) subject.afterSettle((v) => extra.push(v));
    subject.finalChecks();
    const check = subject.check();
    verdict = check.verdict;
    if (check.verdict === 'not-linearizable') extra.push({ kind: 'linearizability', atMs: sim.nowMs, message: check.explanation ?? 'the history is not linearizable' });
  } catch (err) {
    if (!subject.isInvariantError(err)) throw err;
    extra.push({ kind: 'invariant', atMs: sim.nowMs, message: `${err.code}: ${err.message}` });
  }
  const violations = [...subject.violations(), ...extra];
  const ops = { ok: 0, fail: 0, unknown: 0 };
  for (const op of cluster.history().ops) ops[op.outcome]++;
  return {
    seed: plan.seed,
    ok: violations.length === 0 && subject.violationCount() === 0,
    violations,
    linearizability: verdict,
    ops,
    elections: subject.elections(),
    messages: sim.stats.total.sent,
    virtualMs: sim.nowMs,
    traceSha256: cluster.traceSha256(),
  };
}
