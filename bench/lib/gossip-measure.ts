// The measurements behind `npm run bench -- gossip`: SWIM with Lifeguard (src/gossip) in the
// simulator, against the SWIM and Lifeguard papers — how fast one update reaches every member,
// how fast a crash is suspected and then held dead everywhere, messages and bytes per member per
// protocol period, false positives with and without Lifeguard, and the simulator's own rate.
import type { NodeId } from '../../src/core/index.js';
import { resolveGossipConfig, type GossipConfig } from '../../src/gossip/config.js';
import { suspicionBoundsMs } from '../../src/gossip/lifeguard.js';
import { GOSSIP_SIM_CONFIG, GossipCluster } from '../../src/gossip/sim/cluster.js';
import type { GossipEvent } from '../../src/gossip/members.js';
import type { SwimNode } from '../../src/gossip/swim.js';
import type { RandomStream } from '../../src/sim/rng.js';

/**
 * The simulator's configuration (LOCAL five times faster: probe every 200 ms, timeout 50 ms, 3
 * indirect checks, gossip to 3 members every 40 ms, retransmitMult 2, suspicionMult 3) with room
 * for 10,000 members and without push-pull and reconnects: what is measured is the failure
 * detector and infection-style gossip alone (a push-pull message carries the whole member list,
 * O(N) bytes, and would reach stragglers that gossip missed).
 */
export const BENCH_GOSSIP_CONFIG: GossipConfig = resolveGossipConfig({ retransmitMult: 4, maxMembers: 16_384, pushPullIntervalMs: 0, reconnectIntervalMs: 0 }, GOSSIP_SIM_CONFIG);

/** SWIM's expected number of protocol periods until some member detects a crash: e/(e − 1). */
export const SWIM_FIRST_DETECTION_PERIODS = Math.E / (Math.E - 1);

/** A message's size as a UDP host would send it: its JSON text. */
export function messageBytes(msg: unknown): number {
  return JSON.stringify(msg).length;
}

export function benchCluster(o: { seed: number; nodes: number; config?: Partial<GossipConfig>; lossRate?: number }): GossipCluster {
  return new GossipCluster({
    seed: o.seed,
    nodes: o.nodes,
    trace: false,
    startSettled: true,
    linkRandomness: 'per-sender',
    messageBytes,
    config: { ...BENCH_GOSSIP_CONFIG, ...o.config },
    ...(o.lossRate === undefined ? {} : { link: { lossRate: o.lossRate } }),
  });
}

function swim(cluster: GossipCluster, id: NodeId): SwimNode {
  const node = cluster.node(id);
  if (node === undefined) throw new Error(`member ${id} is down`);
  return node;
}

/**
 * Runs in `stepMs` steps until `done` holds for every id (looked at in order, stopping at the
 * first that fails, so that a check is cheap while the update is young) or `limitMs` passed;
 * returns the ids for which it never held.
 */
function runUntilAll(cluster: GossipCluster, ids: readonly NodeId[], done: (id: NodeId) => boolean, limitMs: number, stepMs: number): NodeId[] {
  const deadline = cluster.nowMs + limitMs;
  let from = 0;
  for (;;) {
    while (from < ids.length && done(ids[from] as NodeId)) from++;
    if (from === ids.length || cluster.nowMs >= deadline) break;
    cluster.runFor(Math.min(stepMs, deadline - cluster.nowMs));
  }
  return ids.slice(from).filter((id) => !done(id));
}

/**
 * When `observer` logged its latest event about `member` that `match` accepts, on its own clock
 * (the simulator's time here: no clock faults, no pauses): exact to the millisecond without
 * looking at every member every millisecond.
 */
function eventAtMs(node: SwimNode, member: NodeId, match: (e: GossipEvent) => boolean, which: 'first' | 'last'): number | undefined {
  const events = node.events();
  if (which === 'last') {
    for (let i = events.length - 1; i >= 0; i--) {
      const e = events[i] as GossipEvent;
      if (e.member === member && match(e)) return e.atMs;
    }
    return undefined;
  }
  for (const e of events) if (e.member === member && match(e)) return e.atMs;
  return undefined;
}

/** Runs until no live member has anything left to gossip (checked every 100 ms), at most `limitMs`; false if it never got quiet. */
export function runUntilQuiet(cluster: GossipCluster, ids: readonly NodeId[], limitMs: number): boolean {
  const deadline = cluster.nowMs + limitMs;
  for (;;) {
    if (ids.every((id) => !cluster.isUp(id) || swim(cluster, id).membership.queue.size === 0)) return true;
    if (cluster.nowMs >= deadline) return false;
    cluster.runFor(100);
  }
}

function counters(cluster: GossipCluster): { events: number; messages: number; bytes: number } {
  const t = cluster.sim.stats.total;
  return { events: cluster.sim.stats.eventsProcessed, messages: t.sent, bytes: t.bytes ?? 0 };
}

// ------------------------------------------------------------------ load

export interface LoadResult {
  readonly members: number;
  readonly periods: number;
  readonly messagesPerMemberPerPeriod: number;
  readonly bytesPerMemberPerPeriod: number;
  /** Messages of each type per member per period. */
  readonly byTypePerMemberPerPeriod: Readonly<Record<string, number>>;
  readonly simEventsPerWallSecond: number;
  readonly simSecondsPerWallSecond: number;
}

/** Messages and bytes every member sends per protocol period in a quiet cluster (nothing to gossip, no fault). */
export function measureLoad(cluster: GossipCluster, periods: number): LoadResult {
  const members = cluster.liveIds().length;
  const byTypeBefore = new Map([...cluster.sim.stats.byType].map(([type, c]) => [type, c.sent]));
  const before = counters(cluster);
  const wallStart = performance.now();
  const durationMs = periods * cluster.config.probeIntervalMs;
  cluster.runFor(durationMs);
  const wallMs = performance.now() - wallStart;
  const after = counters(cluster);
  const per = (n: number): number => n / members / periods;
  const byType: Record<string, number> = {};
  for (const [type, c] of cluster.sim.stats.byType) {
    const sent = c.sent - (byTypeBefore.get(type) ?? 0);
    if (sent > 0) byType[type] = per(sent);
  }
  return {
    members,
    periods,
    messagesPerMemberPerPeriod: per(after.messages - before.messages),
    bytesPerMemberPerPeriod: per(after.bytes - before.bytes),
    byTypePerMemberPerPeriod: byType,
    simEventsPerWallSecond: (after.events - before.events) / (wallMs / 1000),
    simSecondsPerWallSecond: durationMs / wallMs,
  };
}

// ------------------------------------------------------------------ dissemination

export interface DisseminationResult {
  readonly what: 'metadata' | 'join';
  readonly members: number;
  /** Members other than the origin that got the update within the limit. */
  readonly reached: number;
  readonly coverage: number;
  /** Until the last member got it; undefined when some never did within the limit. */
  readonly allMs: number | undefined;
  readonly allRounds: number | undefined;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Messages sent per member while the update spread: all types (the probes' included), and gossip messages alone. */
  readonly messagesPerMember: number;
  readonly gossipMessagesPerMember: number;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/** Messages sent so far: all, and gossip messages. */
function sentSoFar(cluster: GossipCluster): { all: number; gossip: number } {
  return { all: cluster.sim.stats.total.sent, gossip: cluster.sim.stats.byType.get('gossip')?.sent ?? 0 };
}

function disseminationResult(what: DisseminationResult['what'], cluster: GossipCluster, members: number, times: number[], missing: number, sentBefore: { all: number; gossip: number }): DisseminationResult {
  const sent = sentSoFar(cluster);
  const sorted = [...times].sort((a, b) => a - b);
  const allMs = missing === 0 ? (sorted[sorted.length - 1] ?? 0) : undefined;
  return {
    what,
    members,
    reached: times.length,
    coverage: times.length / (times.length + missing),
    allMs,
    allRounds: allMs === undefined ? undefined : allMs / cluster.config.gossipIntervalMs,
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    messagesPerMember: (sent.all - sentBefore.all) / members,
    gossipMessagesPerMember: (sent.gossip - sentBefore.gossip) / members,
  };
}

/** A random live member changes its metadata; the time until every other live member holds the new incarnation. */
export function measureMetaDissemination(cluster: GossipCluster, rng: RandomStream, limitMs: number): DisseminationResult {
  const ids = cluster.liveIds();
  const origin = rng.pick(ids);
  const node = swim(cluster, origin);
  const before = node.incarnation;
  const meta = `{"bench":${before + 1}}`;
  cluster.request(origin, { op: 'set-meta', meta }, () => undefined);
  // the request reaches the member after the client latency: the clock starts when it applies it
  if (!cluster.runUntil(() => node.incarnation > before, 1_000)) throw new Error(`member ${origin} did not apply set-meta`);
  const startMs = cluster.nowMs;
  const incarnation = node.incarnation;
  const sentBefore = sentSoFar(cluster);
  const others = ids.filter((id) => id !== origin).map((id) => swim(cluster, id));
  const has = (n: SwimNode): boolean => (n.member(origin)?.incarnation ?? -1) >= incarnation;
  const missing = runUntilAll(cluster, others.map((n) => n.id), (id) => has(swim(cluster, id)), limitMs, 5);
  const times = others.filter(has).map((n) => (eventAtMs(n, origin, (e) => e.kind === 'update' && e.meta === meta, 'last') ?? NaN) - startMs);
  return disseminationResult('metadata', cluster, ids.length, times, missing.length, sentBefore);
}

/** A new member joins through one random seed; the time until every live member holds it alive. */
export function measureJoinDissemination(cluster: GossipCluster, rng: RandomStream, limitMs: number): DisseminationResult {
  const ids = cluster.liveIds();
  const seed = rng.pick(ids);
  const joiner = `joiner-${cluster.nodeIds.length + 1}`;
  const sentBefore = sentSoFar(cluster);
  const startMs = cluster.nowMs;
  cluster.addMember(joiner, [seed]);
  const nodes = ids.map((id) => swim(cluster, id));
  const has = (n: SwimNode): boolean => n.member(joiner)?.state === 'alive';
  const missing = runUntilAll(cluster, ids, (id) => has(swim(cluster, id)), limitMs, 5);
  const times = nodes.filter(has).map((n) => (eventAtMs(n, joiner, (e) => e.kind === 'join', 'last') ?? NaN) - startMs);
  return disseminationResult('join', cluster, ids.length + 1, times, missing.length, sentBefore);
}

// ------------------------------------------------------------------ detection

export interface DetectionResult {
  readonly members: number;
  /** From the crash until the first ping to the crashed member arrived (and was lost). */
  readonly firstPingMs: number | undefined;
  /** From the crash until the first member suspected it (its own probe failed). */
  readonly firstSuspicionMs: number | undefined;
  /** From the crash until every live member held it dead; undefined when some did not within the limit. */
  readonly allDeadMs: number | undefined;
  /** Live members that held it dead at the end. */
  readonly deadAt: number;
  /** The suspicion timeout of this cluster size: from suspicionMult × max(1, log10 N) periods to suspicionMaxTimeoutMult times that. */
  readonly suspicionMinMs: number;
  readonly suspicionMaxMs: number;
}

/**
 * Waits a random part of a protocol period (so that the crash falls anywhere in the members'
 * probe schedules), crashes a random live member (not one of `spare`) for good, and times its
 * first suspicion and its death at every live member.
 */
export function measureDetection(cluster: GossipCluster, rng: RandomStream, spare: ReadonlySet<NodeId>, limitMs: number): DetectionResult {
  cluster.runFor(rng.int(0, cluster.config.probeIntervalMs - 1));
  const candidates = cluster.liveIds().filter((id) => !spare.has(id));
  const victim = rng.pick(candidates);
  const observers = cluster.liveIds().filter((id) => id !== victim);
  const pingDrops = (): number => cluster.sim.stats.byType.get('ping')?.dropped ?? 0;
  const dropsBefore = pingDrops();
  cluster.crashForGood(victim);
  const startMs = cluster.nowMs;
  let firstPingMs: number | undefined;
  // the first ping to arrive at the crashed member: a counter, looked at every millisecond
  while (firstPingMs === undefined && cluster.nowMs - startMs < limitMs) {
    if (pingDrops() > dropsBefore) firstPingMs = cluster.nowMs - startMs;
    else cluster.runFor(1);
  }
  const missing = runUntilAll(cluster, observers, (id) => swim(cluster, id).member(victim)?.state === 'dead', limitMs - (cluster.nowMs - startMs), 10);
  const nodes = observers.map((id) => swim(cluster, id));
  // from the members' event logs: when each first held it suspect, and when each held it dead
  const suspectedMs = nodes.map((n) => eventAtMs(n, victim, (e) => e.state === 'suspect' && e.atMs >= startMs, 'first')).filter((t): t is number => t !== undefined);
  const deadMs = nodes.map((n) => eventAtMs(n, victim, (e) => e.kind === 'fail' && e.atMs >= startMs, 'last')).filter((t): t is number => t !== undefined);
  const firstSuspicionMs = suspectedMs.length === 0 ? undefined : suspectedMs.reduce((a, b) => Math.min(a, b)) - startMs;
  const bounds = suspicionBoundsMs(cluster.config, observers.length + 1);
  return {
    members: observers.length + 1,
    firstPingMs,
    firstSuspicionMs,
    allDeadMs: missing.length === 0 ? deadMs.reduce((a, b) => Math.max(a, b), 0) - startMs : undefined,
    deadAt: observers.length - missing.length,
    suspicionMinMs: bounds.minMs,
    suspicionMaxMs: bounds.maxMs,
  };
}

// ------------------------------------------------------------------ one cluster, every phase

export interface ScaleRun {
  readonly members: number;
  readonly seed: number;
  readonly setupWallMs: number;
  readonly load: LoadResult | undefined;
  readonly metadata: readonly DisseminationResult[];
  readonly detections: readonly DetectionResult[];
  readonly join: DisseminationResult | undefined;
  readonly wallMs: number;
  readonly simMs: number;
  readonly events: number;
  readonly heapMiB: number;
}

export interface ScaleOptions {
  readonly members: number;
  readonly seed: number;
  /** Protocol periods the load is measured over (0: not measured). */
  readonly loadPeriods: number;
  /** Metadata changes spread one after another. */
  readonly updates: number;
  readonly crashes: number;
  readonly join: boolean;
  readonly config?: Partial<GossipConfig>;
}

/** How long an update may take to spread before the members it missed are counted as missed. */
export const DISSEMINATION_LIMIT_ROUNDS = 200;

/**
 * One cluster that starts settled, in phases: quiet (the first gossip of every member's own
 * alive is spent), load over `loadPeriods`, `updates` metadata changes, `crashes` crashes one
 * after another (each until every member holds it dead, then quiet again), then one join.
 */
export function runScale(o: ScaleOptions): ScaleRun {
  const wallStart = performance.now();
  const cluster = benchCluster({ seed: o.seed, nodes: o.members, ...(o.config === undefined ? {} : { config: o.config }) });
  const setupWallMs = performance.now() - wallStart;
  const rng = cluster.sim.random.stream('bench');
  const periodMs = cluster.config.probeIntervalMs;
  const limitMs = DISSEMINATION_LIMIT_ROUNDS * cluster.config.gossipIntervalMs;
  const quiet = (): void => {
    if (!runUntilQuiet(cluster, cluster.liveIds(), 60 * periodMs)) throw new Error(`${o.members} members, seed ${o.seed}: gossip never went quiet`);
  };
  quiet();
  const load = o.loadPeriods > 0 ? measureLoad(cluster, o.loadPeriods) : undefined;
  const metadata: DisseminationResult[] = [];
  for (let i = 0; i < o.updates; i++) {
    metadata.push(measureMetaDissemination(cluster, rng, limitMs));
    quiet();
  }
  const detections: DetectionResult[] = [];
  const bounds = suspicionBoundsMs(cluster.config, o.members);
  for (let i = 0; i < o.crashes; i++) {
    detections.push(measureDetection(cluster, rng, new Set(), bounds.maxMs + 60 * periodMs));
    quiet();
  }
  const join = o.join ? measureJoinDissemination(cluster, rng, limitMs) : undefined;
  return {
    members: o.members,
    seed: o.seed,
    setupWallMs,
    load,
    metadata,
    detections,
    join,
    wallMs: performance.now() - wallStart,
    simMs: cluster.nowMs,
    events: cluster.sim.stats.eventsProcessed,
    heapMiB: process.memoryUsage().heapUsed / 2 ** 20,
  };
}

// ------------------------------------------------------------------ accuracy

/** What is wrong with the cluster while false positives are counted. */
export interface AccuracyScenario {
  readonly name: string;
  /** Every link loses this share of messages. */
  readonly lossRate: number;
  /**
   * The stressed members' trouble: `backlog` — a member too starved of CPU to read its socket in
   * time: every message to it is handled `delayMs` late, while its own timers fire on time (the
   * case Lifeguard was built for); `pauses` — the whole member stops (timers too) for a while,
   * again and again, like a long garbage collection.
   */
  readonly stress: { readonly kind: 'none' } | { readonly kind: 'backlog'; readonly delayMs: number } | { readonly kind: 'pauses'; readonly minMs: number; readonly maxMs: number; readonly gapMinMs: number; readonly gapMaxMs: number };
}

export interface AccuracyResult {
  readonly scenario: string;
  readonly lifeguard: boolean;
  readonly seed: number;
  readonly members: number;
  readonly stressed: number;
  readonly durationMs: number;
  /** Suspicions started from a member's own failed probe (every member is alive: each is false). */
  readonly suspicions: number;
  /** Suspicions that ran out: a member declared a live member dead. */
  readonly declarations: number;
  /** Distinct (member, incarnation) declared dead by anyone: a healthy member, a stressed one. */
  readonly healthyDeaths: number;
  readonly stressedDeaths: number;
  /** "Failed" events the members' applications saw, about healthy members and about stressed ones. */
  readonly healthyFailEvents: number;
  readonly stressedFailEvents: number;
}

/**
 * A cluster of live members (no crash) under `scenario` for `durationMs` after it settled:
 * every member declared dead is a false positive.
 */
export function measureAccuracy(o: { members: number; stressed: number; scenario: AccuracyScenario; lifeguard: boolean; seed: number; durationMs: number }): AccuracyResult {
  const cluster = benchCluster({ seed: o.seed, nodes: o.members, config: { lifeguard: o.lifeguard, maxEvents: 1_000_000 }, lossRate: o.scenario.lossRate });
  const rng = cluster.sim.random.stream('stress');
  const ids = cluster.nodeIds;
  runUntilQuiet(cluster, ids, 60 * cluster.config.probeIntervalMs);
  const stressed = new Set(o.scenario.stress.kind === 'none' ? [] : rng.shuffled(ids).slice(0, o.stressed));
  const stress = o.scenario.stress;
  if (stress.kind === 'backlog') for (const id of stressed) cluster.setLink('*', id, { extraDelayMs: stress.delayMs });
  if (stress.kind === 'pauses') {
    const pauseAgain = (id: NodeId): void => {
      const pauseMs = rng.int(stress.minMs, stress.maxMs);
      cluster.pause(id, pauseMs);
      cluster.sim.after(pauseMs + rng.int(stress.gapMinMs, stress.gapMaxMs), () => pauseAgain(id));
    };
    for (const id of stressed) cluster.sim.after(rng.int(0, stress.gapMaxMs), () => pauseAgain(id));
  }
  const nodes = ids.map((id) => swim(cluster, id));
  const eventsBefore = nodes.map((n) => n.events().length);
  const statsBefore = { suspicions: cluster.sumStat('suspicionsStarted'), declarations: cluster.sumStat('deadDeclared') };
  cluster.runFor(o.durationMs);
  const deaths = { healthy: new Set<string>(), stressed: new Set<string>() };
  const failEvents = { healthy: 0, stressed: 0 };
  nodes.forEach((n, i) => {
    for (const e of n.events().slice(eventsBefore[i])) {
      if (e.kind !== 'fail') continue;
      const which = stressed.has(e.member) ? 'stressed' : 'healthy';
      deaths[which].add(`${e.member}@${e.incarnation}`);
      failEvents[which]++;
    }
  });
  return {
    scenario: o.scenario.name,
    lifeguard: o.lifeguard,
    seed: o.seed,
    members: o.members,
    stressed: stressed.size,
    durationMs: o.durationMs,
    suspicions: cluster.sumStat('suspicionsStarted') - statsBefore.suspicions,
    declarations: cluster.sumStat('deadDeclared') - statsBefore.declarations,
    healthyDeaths: deaths.healthy.size,
    stressedDeaths: deaths.stressed.size,
    healthyFailEvents: failEvents.healthy,
    stressedFailEvents: failEvents.stressed,
  };
}
