// What the randomized real-process lock runs (etcd-lock-run.ts, synod-lock-run.ts) share: the
// fault schedule (every 2-6 s one fault at a time: pause a random member or the leader, or kill
// one and restart it, for 1-5 s), the clients-and-faults runner with its progress lines, and the
// count of violations by how the granted client had waited.
import { setTimeout as delay } from 'node:timers/promises';
import { checkQueueGrants, type QueueGrant, type QueueKeyChange } from '../../check/lock-safety.js';
import type { RandomStream } from '../../sim/rng.js';

const MAX_FAULTS = 10_000;

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
export async function runFaultSchedule<M>(rng: RandomStream, target: FaultTarget<M>, deadline: number, counts: FaultCounts, log: (line: string) => void, startedAt: number, signal?: AbortSignal): Promise<void> {
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

/** Runs the clients and, unless `faults` is undefined, the fault schedule together; a progress line every 10 s. */
export async function runClientsAndFaults(clients: readonly (() => Promise<void>)[], faults: (() => Promise<void>) | undefined, log: (line: string) => void, startedAt: number, grantCount: () => number): Promise<void> {
  const progress = setInterval(() => log(`  ${((Date.now() - startedAt) / 1000).toFixed(0)} s: ${grantCount()} grants`), 10_000);
  try {
    await Promise.all([...clients.map((c) => c()), ...(faults === undefined ? [] : [faults()])]);
  } finally {
    clearInterval(progress);
  }
}

/** The checker's violations by how the client of each grant (`modes`, same index) had waited. */
export function violationsByMode<Mode extends string>(changes: readonly QueueKeyChange[], grants: readonly QueueGrant[], modes: readonly Mode[], zero: Record<Mode, number>): Record<Mode, number> {
  const out = { ...zero };
  grants.forEach((g, i) => {
    if (!checkQueueGrants(changes, [g]).ok) out[modes[i] as Mode]++;
  });
  return out;
}
