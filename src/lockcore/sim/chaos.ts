// Chaos over locks (`synod chaos --protocol lock` and its variants): lock clients writing to the
// protected resource under the random nemesis (partitions, crashes with restart, pauses, clock
// drift and jumps, loss, duplication, reordering, slowness) on every node, clients included; then
// heal and liveness. Verdicts: the mutex checker, the grants, the fenced-resource checker, the
// resource's history as a kv register, and the Raft monitors.
import type { JsonValue, NodeId } from '../../core/index.js';
import { isInvariantError } from '../../core/index.js';
import type { LockSafetyReport } from '../../check/index.js';
import { RaftError } from '../../raft/errors.js';
import { runChaosPhases, type ChaosResult, type ChaosSubject, type Violation } from '../../sim/chaos.js';
import type { Workload } from '../../sim/client-node.js';
import { DEFAULT_RANDOM_NEMESIS, type RandomNemesisOptions } from '../../sim/nemesis.js';
import { eraseSimulation, type SimProtocol, type SimRunOptions } from '../../sim/sim-protocol.js';
import type { LockClientOp } from './lock-client.js';
import { LockSystem, type LockBackendName, type LockSystemMessage, type LockSystemOp, type LockSystemOptions, type LockSystemRequest, type LockSystemResponse } from './system.js';

/** Which checks a variant's chaos runs count as violations: what that lock promises. */
export type LockClaim = 'service' | 'clientValid' | 'grants' | 'resource';

export interface LockVariant {
  readonly name: string;
  readonly backend: LockBackendName;
  readonly fencing: boolean;
  readonly claims: readonly LockClaim[];
  readonly summary: string;
}

export const LOCK_VARIANTS: readonly LockVariant[] = [
  { name: 'lock', backend: 'synod', fencing: true, claims: ['service', 'grants', 'resource'], summary: 'the Synod lock (Raft KV lease + txn, token = createRevision) and fenced storage' },
  { name: 'lock-unfenced', backend: 'synod', fencing: false, claims: ['service', 'grants', 'resource'], summary: 'the Synod lock with storage that does not check tokens' },
  { name: 'lock-redis', backend: 'redis', fencing: true, claims: ['service', 'grants', 'resource'], summary: 'a single Redis-like node (SET NX PX and INCR of the token in one step, fsync-always) and fenced storage' },
  { name: 'redlock', backend: 'redlock', fencing: false, claims: ['service', 'clientValid', 'resource'], summary: 'Redlock over five Redis-like nodes (no token) and storage that cannot fence' },
];

export const LOCK_CHAOS = { nodes: 7, durationMs: 3000, settleMs: 4000, thinkMs: 20, ttlMs: 150, workMs: 60, checkerMaxStates: 1_000_000 } as const;

/** Faults come often and hit clients too; pauses weigh most (what a lease cannot survive); clocks drift up to 2% and jump up to 200 ms. */
export const LOCK_CHAOS_NEMESIS: Omit<RandomNemesisOptions, 'untilMs'> = {
  ...DEFAULT_RANDOM_NEMESIS,
  meanIntervalMs: 250,
  minFaultMs: 100,
  maxFaultMs: 1000,
  mix: { ...DEFAULT_RANDOM_NEMESIS.mix, pause: 5, clock: 2 },
  clockStepMaxMs: 200,
  clockDriftMaxPpm: 20_000,
};

/**
 * How many nodes of each kind for `nodes` in all: the service's, the database, and clients (at
 * least one). Synod runs 5 Raft nodes from 9 nodes in all, 3 from 6, 1 below (so that the default
 * 5 nodes of `synod sim run` still have 3 clients contending).
 */
export function lockChaosLayout(backend: LockBackendName, nodes: number): Pick<LockSystemOptions, 'kvNodes' | 'redisNodes' | 'clients'> {
  const service = backend === 'redlock' ? 5 : backend === 'redis' ? 1 : nodes >= 9 ? 5 : nodes >= 6 ? 3 : 1;
  const clients = nodes - service - 1;
  if (clients < 1) throw new RangeError(`${backend} needs at least ${service + 2} nodes (the service's ${service}, the storage, a client), got ${nodes}`);
  return backend === 'synod' ? { kvNodes: service, clients } : { redisNodes: service, clients };
}

/** Chaos runs' default: two clients or more besides the service and the storage. */
export function defaultLockNodes(backend: LockBackendName): number {
  return backend === 'redlock' ? 8 : LOCK_CHAOS.nodes;
}

export function minLockNodes(backend: LockBackendName): number {
  return (backend === 'redlock' ? 5 : 1) + 2;
}

/** Writes of values unique to the run (client index · 10⁶ + n), and some plain reads. */
export function lockWorkload(clients: readonly NodeId[]): Workload<LockClientOp> {
  return (client, n, rng) => (rng.chance(0.8) ? { f: 'write', key: 'x', value: (clients.indexOf(client) + 1) * 1_000_000 + n } : { f: 'read', key: 'x' });
}

export interface LockChaosOptions {
  readonly seed: number;
  readonly variant?: LockVariant;
  readonly nodes?: number;
  readonly durationMs?: number;
  readonly trace?: LockSystemOptions['trace'];
  readonly nemesis?: Partial<Omit<RandomNemesisOptions, 'untilMs'>>;
  readonly ttlMs?: number;
  readonly workMs?: number;
}

export interface LockChaosResult extends ChaosResult {
  /** What the checkers found, counted (all of them, claimed or not). */
  readonly lock: { readonly grants: number; readonly clientOverlaps: number; readonly clientValidOverlaps: number; readonly refusedWrites: number; readonly acceptedWrites: number };
}

/** Lock findings as chaos violations, for the checks the variant claims. */
export function lockViolations(report: LockSafetyReport, claims: readonly LockClaim[], atMs: number): Violation[] {
  const out: Violation[] = [];
  if (claims.includes('service')) for (const o of report.service.overlaps) out.push({ kind: 'mutex-service', atMs: o.fromMs, message: o.message });
  if (claims.includes('clientValid')) for (const o of report.clientValid.overlaps) out.push({ kind: 'mutex-client', atMs: o.fromMs, message: o.message });
  if (claims.includes('grants')) for (const p of report.grants.problems) out.push({ kind: `grant-${p.kind}`, atMs: p.atMs, message: p.message });
  if (claims.includes('resource')) for (const v of report.resource.violations) out.push({ kind: `resource-${v.kind}`, atMs: v.atMs, message: v.message });
  for (const p of [...report.service.problems, ...report.client.problems]) out.push({ kind: 'lock-history', atMs, message: p });
  return out;
}

export function runLockChaos(options: LockChaosOptions): LockChaosResult {
  const variant = options.variant ?? (LOCK_VARIANTS[0] as LockVariant);
  const nodes = options.nodes ?? defaultLockNodes(variant.backend);
  const system = new LockSystem({
    seed: options.seed,
    backend: variant.backend,
    fencing: variant.fencing,
    ...lockChaosLayout(variant.backend, nodes),
    ttlMs: options.ttlMs ?? LOCK_CHAOS.ttlMs,
    workMs: options.workMs ?? LOCK_CHAOS.workMs,
    trace: options.trace ?? {},
  });
  const found: Violation[] = [];
  let report: LockSafetyReport | undefined;
  const lockFound = (): Violation[] => (report === undefined ? [] : lockViolations(report, variant.claims, system.nowMs));
  const subject: ChaosSubject<LockSystemMessage, LockSystemRequest, LockSystemResponse, LockSystemOp> = {
    cluster: system,
    startLoad: (untilMs) => system.driver.run(system.layout.clients, lockWorkload(system.layout.clients), { untilMs, thinkMs: LOCK_CHAOS.thinkMs }),
    settle: (timeoutMs) => {
      system.healEverything();
      return system.runUntil(() => system.idle() && (system.layout.kv.length === 0 || system.readyLeader() !== undefined), timeoutMs);
    },
    afterSettle: (report) => finalWrites(system, report),
    finalChecks: () => system.monitor?.checkLogs(),
    check: () => {
      const v = system.verdicts(LOCK_CHAOS.checkerMaxStates);
      report = v;
      return { verdict: v.linearizability === 'skipped' ? 'linearizable' : v.linearizability, explanation: 'the storage\'s reads and writes are not linearizable' };
    },
    violations: () => [...(system.monitor?.violations ?? []), ...found, ...lockFound()],
    violationCount: () => (system.monitor?.violationCount ?? 0) + found.length + lockFound().length,
    elections: () => system.monitor?.elections ?? 0,
    isInvariantError: (err): err is Error & { readonly code: string } => err instanceof RaftError || isInvariantError(err),
  };
  const result = runChaosPhases(subject, { seed: options.seed, durationMs: options.durationMs ?? LOCK_CHAOS.durationMs, nemesis: { ...LOCK_CHAOS_NEMESIS, ...options.nemesis }, settleMs: LOCK_CHAOS.settleMs });
  const r = report as LockSafetyReport | undefined;
  return {
    ...result,
    lock: {
      grants: system.events.filter((e) => e.by === 'service' && e.kind === 'acquired').length,
      clientOverlaps: r?.client.overlapCount ?? 0,
      clientValidOverlaps: r?.clientValid.overlapCount ?? 0,
      refusedWrites: r?.resource.refused ?? 0,
      acceptedWrites: r?.resource.accepted ?? 0,
    },
  };
}

/** After healing, every client gets a locked write through within a few tries: the lock is live. */
function finalWrites(system: LockSystem, report: (v: Violation) => void): void {
  for (const [i, client] of system.layout.clients.entries()) {
    let last = 'not tried';
    let ok = false;
    for (let attempt = 0; attempt < 5 && !ok; attempt++) {
      system.submit(client, { f: 'write', key: 'x', value: -(i * 10 + attempt + 1) }, (r) => {
        ok = r.outcome === 'ok';
        last = `${r.outcome}${r.error === undefined ? '' : ` (${r.error})`}`;
      });
      system.runUntil(() => !system.driver.isBusy(client), 6000);
    }
    if (!ok) report({ kind: 'liveness', atMs: system.nowMs, message: `client ${client}: no locked write got through after healing; last: ${last}` });
  }
}

// ================================================================ sim run and chaos, registered

/** One line per verdict of a run, for `synod sim run`. */
export function lockSummaryLines(system: LockSystem, variant: LockVariant): string[] {
  const c = system.driver.counts;
  const v = system.verdicts();
  const line = (name: string, ok: boolean, count: number, first: string | undefined): string => `${name}: ${ok ? 'ok' : `${count} violation(s), first: ${first ?? '?'}`}`;
  return [
    `${variant.name}: ${variant.summary}`,
    `nodes: service ${[...system.layout.kv, ...system.layout.redis].join(',')}; storage ${system.layout.db}; clients ${system.layout.clients.join(',')}`,
    `operations: ok ${c.ok}, fail ${c.fail}, unknown ${c.unknown}; grants ${system.events.filter((e) => e.by === 'service' && e.kind === 'acquired').length}; storage writes accepted ${v.resource.accepted}, refused ${v.resource.refused}; value ${JSON.stringify(system.dbValue('x') as JsonValue)}`,
    line('mutex, as the lock service saw it', v.service.ok, v.service.overlapCount, v.service.overlaps[0]?.message),
    line('mutex, as the clients believed', v.client.ok, v.client.overlapCount, v.client.overlaps[0]?.message),
    line('mutex, as the clients could believe by their clocks', v.clientValid.ok, v.clientValid.overlapCount, v.clientValid.overlaps[0]?.message),
    line('grants (clients vs service, token order)', v.grants.ok, v.grants.problemCount, v.grants.problems[0]?.message),
    line('fenced resource (no superseded write accepted)', v.resource.ok, v.resource.violationCount, v.resource.violations[0]?.message),
    `linearizability of the storage's reads and writes: ${v.linearizability}`,
  ];
}

function lockProtocol(variant: LockVariant): SimProtocol {
  return {
    name: variant.name,
    description: `${variant.summary}: client nodes take the lock and write to the storage node; the first client is paused past its lease while it works (after its lease check, before its write). Reports the mutex checker in three views, the grants and the fenced-resource checker`,
    minNodes: minLockNodes(variant.backend),
    build(o: SimRunOptions) {
      const system = new LockSystem({
        seed: o.seed,
        backend: variant.backend,
        fencing: variant.fencing,
        ...lockChaosLayout(variant.backend, o.nodes),
        ttlMs: LOCK_CHAOS.ttlMs,
        workMs: LOCK_CHAOS.workMs,
        link: o.link,
        trace: o.trace === false ? false : { sink: o.trace.sink },
      });
      system.pauseAtPhase(system.layout.clients[0] as NodeId, 'working', 3 * LOCK_CHAOS.ttlMs);
      system.driver.run(system.layout.clients, lockWorkload(system.layout.clients), { untilMs: o.durationMs, thinkMs: LOCK_CHAOS.thinkMs });
      return { sim: eraseSimulation(system.sim), summarize: () => lockSummaryLines(system, variant) };
    },
    chaos: {
      explanation: `Each seed runs ${variant.summary}, with client nodes taking the lock and writing
to the storage, under a random nemesis on every node, clients included (pauses weigh most; also
crashes with restart, partitions, clock drift up to 2% and jumps up to 200 ms, loss, duplication,
reordering, slowness); heals; every client must then get a locked write through. Counts as
violations: ${variant.claims.map((c) => ({ service: 'two grants held at once as the lock service saw them', clientValid: 'two clients holding at once by their own clocks', grants: 'a client holding a grant the service never made, or tokens out of order', resource: 'the storage accepting a superseded holder\'s write' })[c]).join('; ')}; and a non-linearizable storage history${variant.backend === 'synod' ? ', and the Raft monitors' : ''}. A seed replays exactly.`,
      defaults: { nodes: defaultLockNodes(variant.backend), durationMs: LOCK_CHAOS.durationMs },
      run: (o) => runLockChaos({ seed: o.seed, variant, nodes: o.nodes, durationMs: o.durationMs }),
    },
  };
}

export const LOCK_SIM_PROTOCOLS: readonly SimProtocol[] = LOCK_VARIANTS.map(lockProtocol);
