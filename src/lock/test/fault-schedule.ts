// What the randomized real-process lock runs (etcd-lock-run.ts, synod-lock-run.ts) share: the
// fault schedule (every 2-6 s one fault at a time: pause a random member or the leader, or kill
// one and restart it, for 1-5 s), the clients-and-faults runner with its progress lines, and the
// verdict on the grants with the violations by how the granted client had waited.
import { setTimeout as delay } from 'node:timers/promises';
import { checkQueueGrants, type QueueGrant, type QueueGrantsResult, type QueueKeyChange } from '../../check/lock-safety.js';
import type { RandomStream } from '../../sim/rng.js';

const MAX_FAULTS = 10_000;

/** What every randomized lock run is asked. */
export interface LockRunOptions {
  readonly seed: number;
  readonly durationMs: number;
  readonly clients: number;
  /** Pauses and kills of members (default true). */
  readonly faults?: boolean;
  /** Aborting stops the clients, stops the cluster, removes its directory, and rejects. */
  readonly signal?: AbortSignal;
  /** Progress lines (stderr in the scripts). */
  readonly log?: (line: string) => void;
}

/** What every randomized lock run answers; `Mode` is how a client waited. */
export interface LockRunResult<Mode extends string> {
  readonly seed: number;
  readonly durationMs: number;
  readonly clients: number;
  readonly lockName: string;
  readonly grants: readonly QueueGrant[];
  /** The lock prefix's whole key history, from a watch from revision 1 after the run. */
  readonly changes: readonly QueueKeyChange[];
  readonly lastRevision: number;
  readonly check: QueueGrantsResult;
  /** The checker's violations, by how the granted client had waited. */
  readonly violationsByMode: Record<Mode, number>;
}

/** Waits `ms`, or less when `signal` aborts (never rejects). */
export const sleep = (ms: number, signal?: AbortSignal): Promise<void> => delay(Math.max(0, ms), undefined, signal === undefined ? {} : { signal }).catch(() => undefined);

/** How a cluster's members are found, paused and killed; `M` names a member. */
export interface FaultTarget<M> {
  readonly members: readonly M[];
  /** The leader, when one answers. */
  leader(): Promise<M | undefined>;
  pause(member: M): void;
  resume(member: M): void;
  kill(member: M): Promise<void> | void;
  restart(member: M): Promise<void>;
}

export interface FaultCounts {
  pauses: number;
  kills: number;
}

/** Injects faults until `deadline` (or `signal`); counts them in `counts`. Every draw comes from `rng`. */
async function runFaultSchedule<M>(rng: RandomStream, target: FaultTarget<M>, deadline: number, counts: FaultCounts, log: (line: string) => void, startedAt: number, signal?: AbortSignal): Promise<void> {
  for (let n = 0; n < MAX_FAULTS; n++) {
    await sleep(Math.min(rng.int(2000, 6000), deadline - Date.now()), signal);
    if (Date.now() >= deadline || signal?.aborted === true) return;
    const kind = rng.pick(['pause', 'pause-leader', 'kill'] as const);
    const downMs = rng.int(1000, 5000);
    let member = rng.pick(target.members);
    if (kind === 'pause-leader') member = (await target.leader().catch(() => undefined)) ?? member;
    const at = ((Date.now() - startedAt) / 1000).toFixed(1);
    if (kind === 'kill') {
      log(`  ${at} s: killing member ${String(member)} for ${downMs} ms`);
      counts.kills++;
      await target.kill(member);
      await sleep(downMs);
      await target.restart(member);
    } else {
      log(`  ${at} s: pausing member ${String(member)}${kind === 'pause-leader' ? ' (the leader)' : ''} for ${downMs} ms`);
      counts.pauses++;
      target.pause(member);
      await sleep(downMs);
      target.resume(member);
    }
  }
}

export interface RunShape<M> {
  /** Client `i`'s loop, for i in 0..count-1. */
  readonly client: (i: number) => Promise<void>;
  readonly count: number;
  /** The members to fault; undefined: no faults. */
  readonly faults: FaultTarget<M> | undefined;
  readonly rng: RandomStream;
  readonly deadline: number;
  readonly counts: FaultCounts;
  readonly log: (line: string) => void;
  readonly startedAt: number;
  readonly signal: AbortSignal | undefined;
  readonly grantCount: () => number;
}

/** Runs the clients and the fault schedule together until they end; a progress line every 10 s. */
export async function runClientsAndFaults<M>(run: RunShape<M>): Promise<void> {
  const progress = setInterval(() => run.log(`  ${((Date.now() - run.startedAt) / 1000).toFixed(0)} s: ${run.grantCount()} grants`), 10_000);
  const faults = run.faults;
  try {
    await Promise.all([
      ...Array.from({ length: run.count }, (_, i) => run.client(i)),
      ...(faults === undefined ? [] : [runFaultSchedule(run.rng, faults, run.deadline, run.counts, run.log, run.startedAt, run.signal)]),
    ]);
  } finally {
    clearInterval(progress);
  }
}

/**
 * Every grant judged once against the history, every violation reported, and the violations by
 * how the client of each grant (`modes`, same index) had waited.
 */
export function judgeGrants<Mode extends string>(changes: readonly QueueKeyChange[], grants: readonly QueueGrant[], modes: readonly Mode[], zero: Record<Mode, number>): { readonly check: QueueGrantsResult; readonly violationsByMode: Record<Mode, number> } {
  const check = checkQueueGrants(changes, grants, { maxReported: Math.max(1, grants.length) });
  const indexOf = new Map(grants.map((g, i) => [g, i]));
  const violationsByMode = { ...zero };
  for (const v of check.violations) violationsByMode[modes[indexOf.get(v.grant) as number] as Mode]++;
  return { check, violationsByMode };
}
