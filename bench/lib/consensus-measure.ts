// The measuring functions of `npm run bench -- consensus`: Raft (src/raft) and Multi-Paxos
// (src/paxos, classic majorities and Flexible Paxos quorums) in the simulator under one latency
// model: the same nodes, link latency, fsync time, client latency, tick, heartbeat and election
// timeouts, and the same KV clients. Counts what crosses the network and what reaches the disk
// from outside the cores (the simulator's trace events), times client operations from submit to
// answer, and times recovery from a leader crash until a client is answered by the new leader.
// Virtual time throughout: deterministic per seed, independent of the machine's load.
import type { Message, NodeId } from '../../src/core/index.js';
import type { KvRequest } from '../../src/kv/store.js';
import { PaxosCluster } from '../../src/paxos/sim/cluster.js';
import { RaftCluster } from '../../src/raft/cluster.js';
import type { KvSubmitter, WorkloadHost } from '../../src/raft/workload.js';
import type { FaultableSim } from '../../src/sim/faults.js';
import type { RandomStream } from '../../src/sim/rng.js';
import type { Simulation } from '../../src/sim/simulation.js';
import type { TraceEvent } from '../../src/sim/trace.js';

// ------------------------------------------------------------------ configuration

/** Raft as configured (pre-vote on), Raft without pre-vote (as in the Raft paper's Figure 16), Multi-Paxos with majorities, and Flexible Paxos. */
export const PROTOCOLS = ['raft', 'raft-no-prevote', 'multi-paxos', 'flexible-paxos'] as const;
export type ConsensusProtocol = (typeof PROTOCOLS)[number];

/** What both protocols share: the cluster, the network, the disk, the clients and the timers. */
export interface ConsensusConfig {
  readonly nodes: number;
  /** One-way latency between nodes, uniform over min..max. */
  readonly latency: { readonly minMs: number; readonly maxMs: number };
  /**
   * `fifo`: each directed link gets one latency, drawn from min..max once per run, so messages on
   * a link arrive in the order sent (as over TCP). `jitter`: every message draws its own latency
   * (the simulator's usual model), so a later message may overtake an earlier one on the same link.
   */
  readonly network: 'fifo' | 'jitter';
  /** Time an fsync takes (each write is synced before the messages that depend on it leave). */
  readonly fsyncMs: number;
  /** One-way latency between a client and a node. */
  readonly clientLatencyMs: number;
  /** Both cores' timers: a tick, heartbeats every tick, an election timeout of min..max ticks. */
  readonly tickMs: number;
  readonly electionTimeoutTicks: readonly [number, number];
  // (check-quorum is on for both; Raft's pre-vote is on for `raft`, off for `raft-no-prevote`: Paxos has none)
  /**
   * A message a node sends to itself arrives at once (true), or crosses the link model like any
   * other (false: the simulator's default). Only Raft sends any: a leader's probe of its own fsync.
   */
  readonly instantSelfSends: boolean;
  /**
   * CPU: every input a node handles (message, client request, tick) keeps it busy this many
   * virtual ms, and inputs arriving meanwhile wait; 0 is free (the simulator's default). The
   * simulator counts whole milliseconds, so a fraction runs the whole cluster with every
   * duration multiplied by 1 / cpuMsPerInput (the results are scaled back): 0.1 ms per input
   * runs latencies, fsyncs, ticks and client timeouts ten times as long and charges 1 ms.
   */
  readonly cpuMsPerInput: number;
}

/** How many simulator ms one benchmark ms lasts under `config` (see cpuMsPerInput). */
export function timeScale(config: ConsensusConfig): number {
  const c = config.cpuMsPerInput;
  if (c === 0 || c >= 1) {
    if (!Number.isInteger(c)) throw new RangeError(`cpuMsPerInput of 1 ms or more must be whole, got ${c}`);
    return 1;
  }
  const k = Math.round(1 / c);
  if (!(c > 0) || Math.abs(k * c - 1) > 1e-9) throw new RangeError(`cpuMsPerInput below 1 ms must be 1/k ms for a whole k (0.5, 0.1, 0.05, ...), got ${c}`);
  return k;
}

/**
 * The defaults: 5 nodes, 6-9 ms one way (a broadcast round trip of about 15 ms, as in the Raft
 * paper's Figure 16 and `bench raft-election`), 2 ms fsync, 1 ms to clients, ticks of 15 ms with an
 * election timeout of 150-300 ms — both cores' own defaults.
 */
export const CONSENSUS_DEFAULTS: ConsensusConfig = {
  nodes: 5,
  latency: { minMs: 6, maxMs: 9 },
  network: 'fifo',
  fsyncMs: 2,
  clientLatencyMs: 1,
  tickMs: 15,
  electionTimeoutTicks: [10, 20],
  instantSelfSends: true,
  cpuMsPerInput: 0,
};

/** Flexible Paxos as the Paxos chaos registers it: |Q2| = 2, |Q1| = N - 1 (4 and 2 for 5 nodes). */
export function flexibleQuorums(nodes: number): { phase1: number; phase2: number } {
  return { phase1: nodes - 1, phase2: 2 };
}

// ------------------------------------------------------------------ a cluster of either protocol

type AnySim = FaultableSim & Pick<Simulation<Message, unknown, unknown, unknown>, 'subscribe' | 'runUntilTrue' | 'runFor' | 'nowMs' | 'after' | 'at'>;

/** An election seen by the cores' observers: who, in which term (Raft) or ballot round (Paxos), when (simulator ms). */
export interface Election {
  readonly node: NodeId;
  readonly term: number;
  readonly atMs: number;
}

/** One cluster of either protocol, seen through what the benchmark needs. */
export interface Subject {
  readonly protocol: ConsensusProtocol;
  /** Simulator ms per benchmark ms (1 unless a CPU cost below 1 ms needs finer time: see cpuMsPerInput). */
  readonly k: number;
  readonly sim: AnySim;
  readonly host: WorkloadHost<KvSubmitter>;
  readonly counters: Counters;
  /** Every leader elected so far, in order (the first one included). */
  readonly elections: Election[];
  leader(): NodeId | undefined;
  /** Runs until a leader can serve (Raft: committed in its term; Paxos: recovered every slot); simulator ms. */
  waitForLeader(timeoutMs: number): NodeId | undefined;
}

export function buildSubject(protocol: ConsensusProtocol, seed: number, config: ConsensusConfig = CONSENSUS_DEFAULTS): Subject {
  const elections: Election[] = [];
  const k = timeScale(config);
  const timers = { tickMs: config.tickMs * k, heartbeatTicks: 1, electionTimeoutMinTicks: config.electionTimeoutTicks[0], electionTimeoutMaxTicks: config.electionTimeoutTicks[1], checkQuorum: true, retransmitTicks: 3 };
  const shared = {
    seed,
    nodes: config.nodes,
    link: { latency: { kind: 'uniform' as const, minMs: config.latency.minMs * k, maxMs: config.latency.maxMs * k } },
    fsyncMs: config.fsyncMs * k,
    clientLatencyMs: config.clientLatencyMs * k,
    // the clusters' default client timeouts (300 ms an attempt, 3 s an operation, 30 ms between retries), scaled
    client: { requestTimeoutMs: 300 * k, opTimeoutMs: 3000 * k, retryBackoffMs: 30 * k },
    trace: false as const,
  };
  let sim: AnySim;
  let cluster: RaftCluster | PaxosCluster;
  if (protocol === 'raft' || protocol === 'raft-no-prevote') {
    const raft = new RaftCluster({
      ...shared,
      raft: { ...timers, preVote: protocol === 'raft', snapshotThresholdEntries: 1000 },
      logCheckEveryMs: 0,
      observer: { becameLeader: (node, term) => void elections.push({ node, term, atMs: raft.nowMs }) },
    });
    cluster = raft;
    sim = raft.sim as unknown as AnySim;
  } else {
    const paxos: PaxosCluster = new PaxosCluster({
      ...shared,
      paxos: { ...timers, snapshotThresholdSlots: 1000, ...(protocol === 'flexible-paxos' ? { quorums: flexibleQuorums(config.nodes) } : {}) },
      observer: { becameLeader: (node, ballot) => void elections.push({ node, term: ballot.round, atMs: paxos.nowMs }) },
    });
    cluster = paxos;
    sim = paxos.sim as unknown as AnySim;
  }
  const counters = new Counters(sim);
  const linkRng = sim.random.stream('consensus-links');
  for (const from of sim.nodeIds) {
    for (const to of sim.nodeIds) {
      if (from !== to && config.network === 'fifo') sim.setLink(from, to, { latency: { kind: 'constant', ms: linkRng.int(config.latency.minMs * k, config.latency.maxMs * k) } });
    }
  }
  for (const id of sim.nodeIds) {
    if (config.instantSelfSends) sim.setLink(id, id, { latency: { kind: 'constant', ms: 0 } });
    if (config.cpuMsPerInput > 0) sim.setSlow(id, Math.round(config.cpuMsPerInput * k));
  }
  return {
    protocol,
    k,
    sim,
    host: cluster as unknown as WorkloadHost<KvSubmitter>,
    counters,
    elections,
    leader: () => cluster.leader(),
    waitForLeader: (timeoutMs) => cluster.waitForLeader(timeoutMs),
  };
}

// ------------------------------------------------------------------ counting from outside

/** Heartbeats and their answers: the cost of having a leader, paid with or without commands. */
const HEARTBEAT_TYPES = new Set(['heartbeat', 'heartbeatResp']);

/**
 * Node-to-node messages sent and disk writes, from the simulator's trace events (the cores have
 * no counters of their own). A message a node sends to itself (Raft's leader probes its own
 * fsync with a `syncProbe` to itself) is counted apart: it never crosses the network.
 */
export class Counters {
  messages = 0;
  heartbeatMessages = 0;
  selfMessages = 0;
  readonly byType = new Map<string, number>();
  /** Write batches: each is one fsync (the simulator syncs every write batch of a call once). */
  writes = 0;
  /** Durable records in those batches (Raft: entries batches and hard states; Paxos: promises, accepts, snapshots). */
  records = 0;
  /** Per node: messages delivered to it and client requests it received (what a CPU would spend its time on; ticks aside). */
  readonly inputs = new Map<NodeId, number>();

  constructor(sim: Pick<AnySim, 'subscribe'>) {
    sim.subscribe((e: TraceEvent) => {
      if (e.ev === 'send') {
        if (e.from === e.to) {
          this.selfMessages++;
          return;
        }
        this.messages++;
        if (HEARTBEAT_TYPES.has(e.type)) this.heartbeatMessages++;
        this.byType.set(e.type, (this.byType.get(e.type) ?? 0) + 1);
      } else if (e.ev === 'deliver' || e.ev === 'request') {
        const node = e.ev === 'deliver' ? e.to : e.node;
        this.inputs.set(node, (this.inputs.get(node) ?? 0) + 1);
      } else if (e.ev === 'persist') {
        this.writes++;
        this.records += e.ops;
      }
    });
  }

  reset(): void {
    this.messages = this.heartbeatMessages = this.selfMessages = this.writes = this.records = 0;
    this.byType.clear();
    this.inputs.clear();
  }

  /** The most inputs any one node handled (the leader's, in a stable run). */
  busiestInputs(): number {
    return Math.max(0, ...this.inputs.values());
  }
}

// ------------------------------------------------------------------ statistics

/** The q-quantile of sorted values (nearest rank; NaN when empty). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export interface Summary {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.length === 0 ? NaN : sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return { count: sorted.length, mean, p50: quantile(sorted, 0.5), p90: quantile(sorted, 0.9), p99: quantile(sorted, 0.99), max: sorted.length === 0 ? NaN : (sorted[sorted.length - 1] as number) };
}

// ------------------------------------------------------------------ client load

/** A client operation's life, in simulator ms. */
export interface OpRecord {
  readonly startMs: number;
  endMs: number;
  outcome: 'ok' | 'fail' | 'unknown' | undefined;
}

/** Client load of either kind, recording every operation. */
export type Load =
  /** `rate` commands per virtual second, Poisson arrivals, each on an idle client (a new one when all are busy). */
  | { readonly kind: 'open'; readonly rate: number }
  /** `clients` clients, each with one command always in flight. */
  | { readonly kind: 'closed'; readonly clients: number };

export interface LoadOptions {
  /** Send each operation first to a random node (a client that knows no leader) instead of the node that answered it last. */
  readonly randomTarget?: boolean;
  /** Told of every operation as it completes. */
  readonly onComplete?: (record: OpRecord) => void;
}

/** Puts on 1,000 keys with fresh values: every command is a write through the log. */
function putOf(i: number): KvRequest {
  return { op: 'put', key: `k${i % 1000}`, value: i };
}

/** Starts `load` now and keeps it going until `untilMs` (simulator ms); returns the operations, filled in as they complete. */
export function startLoad(subject: Subject, load: Load, untilMs: number, options: LoadOptions = {}): OpRecord[] {
  const { sim, host } = subject;
  const records: OpRecord[] = [];
  const rng: RandomStream = sim.random.stream(`consensus-load:${load.kind}`);
  let next = 0;
  const issue = (client: KvSubmitter, then: () => void): void => {
    const record: OpRecord = { startMs: sim.nowMs, endMs: NaN, outcome: undefined };
    records.push(record);
    const target = options.randomTarget === true ? rng.pick(sim.nodeIds) : undefined;
    client.submit(putOf(next++), {
      ...(target === undefined ? {} : { target }),
      onDone: (h) => {
        record.endMs = sim.nowMs;
        record.outcome = h.outcome;
        options.onComplete?.(record);
        then();
      },
    });
  };
  if (load.kind === 'closed') {
    const loop = (client: KvSubmitter): void => {
      if (sim.nowMs >= untilMs) return;
      issue(client, () => loop(client));
    };
    for (let c = 0; c < load.clients; c++) loop(host.client(`c${c}`));
    return records;
  }
  const idle: KvSubmitter[] = [];
  let clients = 0;
  // arrival times are drawn as real numbers and rounded down to the simulator's milliseconds
  let at = sim.nowMs;
  const arrive = (): void => {
    const client = idle.pop() ?? host.client(`o${clients++}`);
    issue(client, () => idle.push(client));
  };
  const schedule = (): void => {
    at += -Math.log(1 - rng.float()) * ((1000 * subject.k) / load.rate);
    if (at >= untilMs) return;
    sim.at(Math.floor(at), () => {
      arrive();
      schedule();
    });
  };
  schedule();
  return records;
}

// ------------------------------------------------------------------ steady load

export interface LoadPlan {
  readonly protocol: ConsensusProtocol;
  readonly seed: number;
  readonly load: Load;
  /** Load before the window, not counted. */
  readonly warmupMs: number;
  /** The measured window. */
  readonly windowMs: number;
  readonly config?: ConsensusConfig;
  /** A fault started with the window (and left on). */
  readonly fault?: Fault;
}

export type Fault =
  /** Loss on both directions of the link between the leader at the window's start and one follower. */
  | { readonly kind: 'lossy-link'; readonly lossRate: number }
  /** Loss on both directions of every link of the leader at the window's start. */
  | { readonly kind: 'lossy-leader'; readonly lossRate: number }
  /** A follower is cut off from every node for `downMs` every `everyMs`, then reconnected. */
  | { readonly kind: 'flapping-node'; readonly downMs: number; readonly everyMs: number };

export interface LoadResult {
  readonly protocol: ConsensusProtocol;
  readonly seed: number;
  readonly load: Load;
  readonly fault: Fault | undefined;
  readonly windowMs: number;
  /** Commands answered ok in the window, per virtual second. */
  readonly committedPerSecond: number;
  readonly committed: number;
  /** Operations begun in the window that failed or whose outcome the client could not learn. */
  readonly failed: number;
  readonly unknown: number;
  /** Client latency (submit to answer, retries included) of the commands begun in the window and committed. */
  readonly latencyMs: Summary;
  /** Per command committed in the window: node-to-node messages (all, and heartbeats among them), self-addressed messages, write batches (fsyncs) and durable records over all nodes. */
  readonly perCommand: {
    readonly messages: number;
    readonly heartbeatMessages: number;
    readonly selfMessages: number;
    readonly writes: number;
    readonly records: number;
    /** Messages and client requests the busiest node (the leader) received. */
    readonly busiestNodeInputs: number;
    readonly byType: Readonly<Record<string, number>>;
  };
  /** The client latencies summarized in latencyMs, for pooling runs. */
  readonly latenciesMs: readonly number[];
  /** Leaders elected during the window. */
  readonly leaderChanges: number;
}

export function measureLoad(plan: LoadPlan): LoadResult {
  const subject = buildSubject(plan.protocol, plan.seed, plan.config);
  const { sim, counters } = subject;
  if (subject.waitForLeader(10_000 * subject.k) === undefined) throw new Error(`${plan.protocol} seed ${plan.seed}: no leader within 10 s`);
  const k = subject.k;
  const windowStart = sim.nowMs + plan.warmupMs * k;
  const windowEnd = windowStart + plan.windowMs * k;
  const records = startLoad(subject, plan.load, windowEnd);
  sim.runFor(plan.warmupMs * k);
  counters.reset();
  const electionsBefore = subject.elections.length;
  if (plan.fault !== undefined) startFault(subject, plan.fault, windowEnd);
  sim.runUntilTrue(() => false, windowEnd - sim.nowMs);
  const committedInWindow = records.filter((r) => r.outcome === 'ok' && r.endMs > windowStart && r.endMs <= windowEnd).length;
  const snapshot = { messages: counters.messages, heartbeatMessages: counters.heartbeatMessages, selfMessages: counters.selfMessages, writes: counters.writes, records: counters.records, busiestInputs: counters.busiestInputs(), byType: new Map(counters.byType) };
  const leaderChanges = subject.elections.length - electionsBefore;
  // let the operations begun in the window finish (their latency counts; the counters stop here)
  sim.runUntilTrue(() => records.every((r) => r.outcome !== undefined), 10_000 * k);
  const begun = records.filter((r) => r.startMs >= windowStart && r.startMs < windowEnd);
  const per = (n: number): number => n / Math.max(1, committedInWindow);
  const latenciesMs = begun.filter((r) => r.outcome === 'ok').map((r) => (r.endMs - r.startMs) / k);
  return {
    protocol: plan.protocol,
    seed: plan.seed,
    load: plan.load,
    fault: plan.fault,
    windowMs: plan.windowMs,
    committed: committedInWindow,
    committedPerSecond: committedInWindow / (plan.windowMs / 1000),
    failed: begun.filter((r) => r.outcome === 'fail').length,
    unknown: begun.filter((r) => r.outcome === 'unknown' || r.outcome === undefined).length,
    latencyMs: summarize(latenciesMs),
    latenciesMs,
    perCommand: {
      messages: per(snapshot.messages),
      heartbeatMessages: per(snapshot.heartbeatMessages),
      selfMessages: per(snapshot.selfMessages),
      writes: per(snapshot.writes),
      records: per(snapshot.records),
      busiestNodeInputs: per(snapshot.busiestInputs),
      byType: Object.fromEntries([...snapshot.byType].sort(([a], [b]) => a.localeCompare(b)).map(([t, n]) => [t, per(n)])),
    },
    leaderChanges,
  };
}

function startFault(subject: Subject, fault: Fault, untilMs: number): void {
  const { sim } = subject;
  const leader = subject.leader();
  if (leader === undefined) throw new Error(`${subject.protocol}: no leader when the fault starts`);
  const follower = sim.nodeIds.find((id) => id !== leader) as NodeId;
  if (fault.kind === 'lossy-link' || fault.kind === 'lossy-leader') {
    for (const peer of fault.kind === 'lossy-link' ? [follower] : sim.nodeIds.filter((id) => id !== leader)) {
      sim.setLink(leader, peer, { lossRate: fault.lossRate });
      sim.setLink(peer, leader, { lossRate: fault.lossRate });
    }
    return;
  }
  const cycle = (): void => {
    if (sim.nowMs >= untilMs) return;
    sim.isolate(follower);
    sim.after(fault.downMs * subject.k, () => {
      sim.heal();
      sim.after(Math.max(0, fault.everyMs - fault.downMs) * subject.k, cycle);
    });
  };
  cycle();
}

// ------------------------------------------------------------------ recovery from a leader crash

export interface RecoveryPlan {
  readonly protocol: ConsensusProtocol;
  readonly seed: number;
  readonly config?: ConsensusConfig;
  /** Offered load during the trial (commands per virtual second, each sent first to a random node). */
  readonly rate: number;
}

export interface RecoveryTrial {
  /** From the crash until a node became leader in a higher term or ballot. */
  readonly electedMs: number;
  /** From the crash until a client got an ok for a command committed by a new leader. */
  readonly commitMs: number;
}

/**
 * One trial: a leader serving an open-loop load, crashed at a random moment 0.5-1.5 s later; the
 * time until a new leader is elected, and until a client is answered ok after that election
 * (an answer can only come from a new leader then: the old one is down). Clients send each
 * command first to a random node and follow the hints, so no client waits on the dead leader
 * by habit; a client whose request went to the dead node waits out its request timeout.
 */
export function recoveryTrial(plan: RecoveryPlan): RecoveryTrial {
  const subject = buildSubject(plan.protocol, plan.seed, plan.config);
  const { sim, k } = subject;
  if (subject.waitForLeader(10_000 * k) === undefined) throw new Error(`${plan.protocol} seed ${plan.seed}: no leader within 10 s`);
  const crashAt = sim.nowMs + (500 + sim.random.stream('consensus-crash').int(0, 1000)) * k;
  const untilMs = crashAt + 20_000 * k;
  let crashedTerm = Infinity;
  let crashedAt = Infinity;
  let elected: Election | undefined;
  let answeredMs: number | undefined;
  const onComplete = (r: OpRecord): void => {
    if (answeredMs !== undefined || r.outcome !== 'ok') return;
    elected ??= subject.elections.find((e) => e.term > crashedTerm && e.atMs >= crashedAt);
    if (elected !== undefined && r.endMs > elected.atMs) answeredMs = r.endMs;
  };
  startLoad(subject, { kind: 'open', rate: plan.rate }, untilMs, { randomTarget: true, onComplete });
  sim.runUntilTrue(() => false, crashAt - sim.nowMs);
  // an election may be under way at that moment: crash the leader there is next
  if (!sim.runUntilTrue(() => subject.leader() !== undefined, 10_000 * k)) throw new Error(`${plan.protocol} seed ${plan.seed}: no leader to crash`);
  const leader = subject.leader() as NodeId;
  crashedTerm = Number(sim.annotations(leader).get('term'));
  crashedAt = sim.nowMs;
  sim.crash(leader);
  if (!sim.runUntilTrue(() => answeredMs !== undefined, untilMs - sim.nowMs)) throw new Error(`${plan.protocol} seed ${plan.seed}: no command committed within 20 s of the crash`);
  elected ??= subject.elections.find((e) => e.term > crashedTerm && e.atMs >= crashedAt);
  return { electedMs: ((elected as Election).atMs - crashedAt) / k, commitMs: ((answeredMs as number) - crashedAt) / k };
}
