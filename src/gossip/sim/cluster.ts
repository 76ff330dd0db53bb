// SWIM members in the simulator: a cluster harness with the membership churn a gossip layer sees
// (members crashed for good, joining, leaving) and the membership checker: once faults heal,
// within a bound derived from the configuration, every live member holds every other live member
// alive at its own incarnation, and every member gone for good as dead or left.
import type { NodeId, ProtocolCore, ProtocolSpec } from '../../core/index.js';
import { SimCluster } from '../../sim/cluster.js';
import type { LinkConfig } from '../../sim/network.js';
import { Simulation } from '../../sim/simulation.js';
import { LOCAL_GOSSIP_CONFIG, resolveGossipConfig, type GossipConfig } from '../config.js';
import { suspicionBoundsMs } from '../lifeguard.js';
import { GossipCrdtNode, gossipCrdtSpec, type CrdtGossipOptions, type GossipNodeMessage, type GossipNodePersistOp, type GossipNodeRequest, type GossipNodeResponse } from '../crdt-node.js';
import { StartingView } from '../members.js';
import { gossipSpec, SwimNode } from '../swim.js';

/**
 * LOCAL's settings (suspicionMult 3, retransmitMult 2, suspicion up to 6×, health up to 8×) run
 * five times faster, so that a run settles in seconds of simulated time; indirectChecks is LAN's 3,
 * so that ping-req under message loss is as sure as in a LAN cluster.
 */
export const GOSSIP_SIM_CONFIG: GossipConfig = resolveGossipConfig(
  {
    probeIntervalMs: 200,
    probeTimeoutMs: 50,
    indirectChecks: 3,
    gossipIntervalMs: 40,
    pushPullIntervalMs: 3_000,
    tcpTimeoutMs: 500,
    gossipToTheDeadMs: 3_000,
    reconnectIntervalMs: 1_000,
    deadMemberRetentionMs: 10 * 60_000,
    tickIntervalMs: 10,
  },
  LOCAL_GOSSIP_CONFIG,
);

/**
 * How long after faults heal the checker waits for the membership to settle, for `members`
 * members: two full round-robin passes of probes at the slowest health (every member still
 * believed up is probed within two passes), plus the longest Lifeguard suspicion (then it is
 * dead), plus one push-pull interval for a refutation to reach whoever missed its gossip.
 */
export function membershipBoundMs(config: GossipConfig, members: number): number {
  const passMs = (members + 1) * config.probeIntervalMs * config.awarenessMaxMultiplier;
  return Math.ceil(2 * passMs + suspicionBoundsMs(config, members).maxMs + config.pushPullIntervalMs);
}

export interface GossipClusterOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly config?: Partial<GossipConfig>;
  readonly link?: Partial<LinkConfig>;
  /**
   * Every member starts knowing every other alive (a shared StartingView) instead of joining
   * through its seeds: a cluster of thousands starts settled, in one copy of the member list.
   */
  readonly startSettled?: boolean;
  /** The simulator's network randomness (SimulationOptions.linkRandomness); per link by default. */
  readonly linkRandomness?: 'per-link' | 'per-sender';
  /** Counts the bytes of every message sent with this size (e.g. its JSON length) in the simulator's stats; off by default. */
  readonly messageBytes?: (msg: GossipNodeMessage) => number;
  readonly trace?: false | { readonly sink?: (line: string) => void; readonly keepLines?: boolean };
  /** Members also keep a CRDT document on gossip (GossipCrdtNode) with these options. */
  readonly crdt?: CrdtGossipOptions;
  /** A host that watches or wraps the cores (the scenarios' stage, the visualizer) wraps the spec here... */
  readonly wrapSpec?: (spec: GossipNodeSpec) => GossipNodeSpec;
  /** ...and finds the member's core inside a wrapped one again. */
  readonly unwrapCore?: (core: ProtocolCore<GossipNodeMessage, GossipNodeRequest, GossipNodeResponse, GossipNodePersistOp> | undefined) => ProtocolCore<GossipNodeMessage, GossipNodeRequest, GossipNodeResponse, GossipNodePersistOp> | undefined;
}

/** The spec of a member (a SwimNode, or a GossipCrdtNode when the cluster keeps documents). */
export type GossipNodeSpec = ProtocolSpec<GossipNodeMessage, GossipNodeRequest, GossipNodeResponse, GossipNodePersistOp>;

export type MembershipProblemKind = 'undetected-failure' | 'false-dead' | 'divergent-view';

export interface MembershipProblem {
  readonly kind: MembershipProblemKind;
  readonly message: string;
}

type Response = GossipNodeResponse | undefined;

export class GossipCluster extends SimCluster<GossipNodeMessage, GossipNodeRequest, GossipNodeResponse, GossipNodePersistOp> {
  readonly config: GossipConfig;
  /** Members crashed for good: healEverything does not restart them (and crashes them again if a restart did). */
  readonly crashedForGood = new Set<NodeId>();
  /** Members that left gracefully. */
  readonly departed = new Set<NodeId>();
  private readonly unwrapCore: NonNullable<GossipClusterOptions['unwrapCore']>;

  constructor(o: GossipClusterOptions) {
    const config = resolveGossipConfig(o.config ?? {}, GOSSIP_SIM_CONFIG);
    const trace = o.trace ?? {};
    const ids = Array.from({ length: o.nodes }, (_, i) => String(i + 1));
    const swimOptions = o.startSettled === true ? { startingView: new StartingView(ids) } : {};
    const spec: GossipNodeSpec = o.crdt === undefined ? gossipSpec(config, undefined, swimOptions) : gossipCrdtSpec(config, undefined, { ...o.crdt, ...swimOptions });
    const protocol = o.wrapSpec === undefined ? spec : o.wrapSpec(spec);
    const sim = new Simulation<GossipNodeMessage, GossipNodeRequest, GossipNodeResponse, GossipNodePersistOp>({
      seed: o.seed,
      protocol,
      nodes: ids,
      ...(o.messageBytes === undefined ? {} : { messageBytes: o.messageBytes }),
      ...(o.linkRandomness === undefined ? {} : { linkRandomness: o.linkRandomness }),
      fsyncMs: 1,
      ...(o.link === undefined ? {} : { link: o.link }),
      trace,
    });
    super(sim);
    this.config = config;
    this.unwrapCore = o.unwrapCore ?? ((core) => core);
  }

  node(id: NodeId): SwimNode | undefined {
    const core = this.unwrapCore(this.sim.core(id));
    return core instanceof SwimNode ? core : core instanceof GossipCrdtNode ? core.swim : undefined;
  }

  /** The member's CRDT document holder, when the cluster keeps documents and the member is up. */
  crdtNode(id: NodeId): GossipCrdtNode | undefined {
    const core = this.unwrapCore(this.sim.core(id));
    return core instanceof GossipCrdtNode ? core : undefined;
  }

  /** Starts a new member that knows only `seeds`. */
  addMember(id: NodeId, seeds: readonly NodeId[]): void {
    this.sim.addNode(id, [id, ...seeds]);
  }

  crashForGood(id: NodeId): void {
    this.crashedForGood.add(id);
    this.crash(id);
  }

  /** Asks `id` to leave gracefully; `callback` gets the answer (undefined when none came). */
  leave(id: NodeId, callback: (response: Response) => void = () => undefined): void {
    this.departed.add(id);
    this.sim.request(id, { op: 'leave' }, { timeoutMs: 1_000 }, callback);
  }

  request(id: NodeId, request: GossipNodeRequest, callback: (response: Response) => void, timeoutMs = 1_000): void {
    this.sim.request(id, request, { timeoutMs }, callback);
  }

  /** Undoes every fault except the crashes meant for good. */
  override healEverything(): void {
    this.heal();
    this.setLink('*', '*', { lossRate: 0, duplicateRate: 0, reorderRate: 0, extraDelayMs: 0 });
    for (const id of this.nodeIds) {
      // a nemesis restart may have brought one back: it is gone for good, so it goes again
      if (this.crashedForGood.has(id)) this.crash(id);
      else this.restart(id);
      this.setSlow(id, 0);
    }
  }

  /** Members up, not left, not crashed for good. */
  liveIds(): NodeId[] {
    return this.nodeIds.filter((id) => this.isUp(id) && !this.departed.has(id) && !this.crashedForGood.has(id));
  }

  /** The checker's bound for this cluster now (membershipBoundMs with its member count). */
  boundMs(): number {
    return membershipBoundMs(this.config, this.nodeIds.length);
  }

  /** What the live members disagree on (empty when the membership has settled); at most `limit` items. */
  membershipProblems(limit = 20): MembershipProblem[] {
    const live = this.liveIds();
    const gone = [...new Set([...this.crashedForGood, ...this.departed])];
    const problems: MembershipProblem[] = [];
    for (const observer of live) {
      const node = this.node(observer) as SwimNode;
      for (const id of live) {
        const expected = (this.node(id) as SwimNode).incarnation;
        const record = node.member(id);
        if (record?.state === 'alive' && record.incarnation === expected) continue;
        const held = record === undefined ? 'unknown' : `${record.state} at ${record.incarnation}`;
        problems.push({ kind: record?.state === 'dead' || record?.state === 'left' ? 'false-dead' : 'divergent-view', message: `${observer} holds live member ${id} as ${held}, not alive at ${expected}` });
      }
      for (const id of gone) {
        const record = node.member(id);
        if (record === undefined || record.state === 'dead' || record.state === 'left') continue;
        problems.push({ kind: 'undetected-failure', message: `${observer} still holds ${id} (${this.departed.has(id) ? 'left' : 'crashed for good'}) as ${record.state} at ${record.incarnation}` });
      }
      if (problems.length >= limit) break;
    }
    return problems.slice(0, limit);
  }

  /**
   * Runs until the membership has settled (checked every `stepMs`) or `timeoutMs` passed;
   * returns the time it took, or undefined when it did not settle.
   */
  runUntilSettled(timeoutMs: number, stepMs = 50): number | undefined {
    const startMs = this.nowMs;
    for (let waited = 0; waited <= timeoutMs; waited += stepMs) {
      if (this.membershipProblems(1).length === 0) return this.nowMs - startMs;
      this.runFor(stepMs);
    }
    return undefined;
  }

  /** One line per member: what it holds, its incarnation and health. */
  viewLines(): string[] {
    return this.nodeIds.map((id) => {
      const node = this.node(id);
      if (node === undefined) return `${id}: down${this.crashedForGood.has(id) ? ' for good' : ''}`;
      const counts = { alive: 0, suspect: 0, dead: 0, left: 0 };
      for (const m of node.members()) counts[m.state]++;
      return `${id}: alive ${counts.alive} suspect ${counts.suspect} dead ${counts.dead} left ${counts.left}; incarnation ${node.incarnation}, health ${node.health}${this.departed.has(id) ? ' (left)' : ''}`;
    });
  }

  /** Sum of a stat over the members up now. */
  sumStat(name: 'suspicionsStarted' | 'deadDeclared' | 'refutations' | 'probes' | 'probesFailed' | 'stalls' | 'badMessages'): number {
    let total = 0;
    for (const id of this.nodeIds) total += this.node(id)?.stats[name] ?? 0;
    return total;
  }
}
