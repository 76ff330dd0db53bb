// A simulated single-decree Paxos group for tests and scenarios: nodes placed as proposers,
// acceptors and learners, clients that ask a proposer to propose a value, the Paxos safety
// monitors watching every step (the decree is slot 1), and inspection of each role.
import type { JsonValue, NodeId, ProtocolSpec } from '../../core/index.js';
import { SimCluster } from '../../sim/cluster.js';
import type { LinkConfig } from '../../sim/network.js';
import { Simulation, type SimulationOptions } from '../../sim/simulation.js';
import { PaxosMonitor, type PaxosViolation } from '../monitors.js';
import { compareBallots, maxBallot, ZERO_BALLOT, type Ballot } from '../ballot.js';
import { combineObservers, type AcceptorRecovery, type PaxosObserver } from '../observer.js';
import { resolveQuorums, type QuorumSizes } from '../quorums.js';
import { synodPlacement, type SynodCore, type SynodPlacement } from '../single/core.js';
import { SYNOD_SLOT } from '../single/roles.js';
import { resolveSynodOptions, synodSpec, type SynodSpec } from '../single/spec.js';
import type { SynodMessage, SynodOptions, SynodPersistOp, SynodRequest, SynodResponse } from '../single/types.js';

export interface SynodClusterOptions {
  readonly seed: number;
  /** A node count (named "1".."N") or explicit names. Default 3. */
  readonly nodes?: number | readonly NodeId[];
  readonly synod?: Partial<Omit<SynodOptions, 'observer'>>;
  readonly link?: Partial<LinkConfig>;
  readonly fsyncMs?: number;
  readonly trace?: SimulationOptions<SynodMessage, SynodRequest, SynodResponse, SynodPersistOp>['trace'];
  readonly observer?: PaxosObserver;
  /** Wraps the spec (a deliberately broken variant, the visualizer's recorder). */
  readonly wrapSpec?: (spec: SynodSpec) => ProtocolSpec<SynodMessage, SynodRequest, SynodResponse, SynodPersistOp>;
  readonly unwrapCore?: (core: unknown) => SynodCore | undefined;
}

/** A client's proposal: the value it asked for and, once answered, the chosen value. */
export interface ProposalHandle {
  readonly via: NodeId;
  readonly value: JsonValue;
  done: boolean;
  /** The chosen value as the proposer answered it; undefined without an answer (the node crashed, or the time ran out). */
  chosen: JsonValue | undefined;
  /** The chosen value is the one this proposal asked for. */
  own: boolean | undefined;
}

/** A proposal waits this long for its answer (a proposer keeps trying until a value is chosen). */
const PROPOSE_TIMEOUT_MS = 60_000;

export class SynodCluster extends SimCluster<SynodMessage, SynodRequest, SynodResponse, SynodPersistOp> {
  declare readonly sim: Simulation<SynodMessage, SynodRequest, SynodResponse, SynodPersistOp>;
  readonly monitor: PaxosMonitor;
  readonly placement: SynodPlacement;
  readonly quorums: QuorumSizes;
  private readonly unwrapCore: ((core: unknown) => SynodCore | undefined) | undefined;

  constructor(options: SynodClusterOptions) {
    const ids = typeof options.nodes === 'object' ? [...options.nodes] : Array.from({ length: options.nodes ?? 3 }, (_, i) => String(i + 1));
    const opts = resolveSynodOptions(options.synod);
    const placement = synodPlacement(ids, opts);
    const quorums = resolveQuorums(placement.acceptors.length, opts.quorums);
    const watching: { monitor?: PaxosMonitor } = {};
    const forward: PaxosObserver = {
      promised: (n, b) => watching.monitor?.promised(n, b),
      accepted: (n, s, b, v) => watching.monitor?.accepted(n, s, b, v),
      heardPromise: (n, f, b) => watching.monitor?.heardPromise(n, f, b),
      heardAccepted: (n, f, s, b) => watching.monitor?.heardAccepted(n, f, s, b),
      learned: (n, s, v) => watching.monitor?.learned(n, s, v),
      recovered: (n, r) => watching.monitor?.recovered(n, r),
      becameLeader: (n, b) => watching.monitor?.becameLeader(n, b),
    };
    const spec = synodSpec({ ...opts, observer: combineObservers(forward, options.observer) });
    super(
      new Simulation({
        seed: options.seed,
        protocol: options.wrapSpec === undefined ? spec : options.wrapSpec(spec),
        nodes: ids,
        link: options.link,
        fsyncMs: options.fsyncMs ?? 0,
        trace: options.trace ?? false,
      }),
    );
    this.placement = placement;
    this.quorums = quorums;
    this.unwrapCore = options.unwrapCore;
    this.monitor = new PaxosMonitor({ now: () => this.sim.nowMs, phase2Quorum: quorums.phase2, nodeIds: () => this.sim.nodeIds, durableState: (id) => this.durableState(id) });
    watching.monitor = this.monitor;
  }

  /** What the disk of a node that is down keeps (its acceptor's promise and acceptance); undefined while it is up. */
  durableState(id: NodeId): AcceptorRecovery | undefined {
    if (this.sim.isUp(id)) return undefined;
    let promised: Ballot = ZERO_BALLOT;
    let accepted: Ballot | undefined;
    for (const record of this.sim.disk(id).read('core')) {
      const op = record.value;
      if (record.torn || (op.kind !== 'promise' && op.kind !== 'accept')) continue;
      promised = maxBallot(promised, op.ballot);
      if (op.kind === 'accept' && (accepted === undefined || compareBallots(op.ballot, accepted) >= 0)) accepted = op.ballot;
    }
    return { promised, accepted: accepted === undefined ? [] : [{ slot: SYNOD_SLOT, ballot: accepted }], snapshotSlot: 0 };
  }

  core(id: NodeId): SynodCore | undefined {
    const core = this.sim.core(id);
    return this.unwrapCore === undefined ? (core as SynodCore | undefined) : this.unwrapCore(core);
  }

  /** Asks the proposer on `via` to propose `value`; the handle fills in when it answers. */
  propose(via: NodeId, value: JsonValue, process = `client-${via}`): ProposalHandle {
    const handle: ProposalHandle = { via, value, done: false, chosen: undefined, own: undefined };
    this.note(`propose ${JSON.stringify(value)} via ${via}`);
    this.sim.request(via, { type: 'propose', value }, { timeoutMs: PROPOSE_TIMEOUT_MS, process }, (res) => {
      handle.done = true;
      if (res !== undefined && res.ok && 'value' in res) {
        handle.chosen = res.value;
        handle.own = res.own;
      }
    });
    return handle;
  }

  /** The chosen value (by the acceptances the monitor saw), if any. */
  chosen(): JsonValue | undefined {
    return this.monitor.chosenAt(SYNOD_SLOT);
  }

  /** What the learner on `id` learned (undefined: nothing yet, not a learner, or down). */
  learned(id: NodeId): JsonValue | undefined {
    return this.core(id)?.learner?.learned;
  }

  /** Ballots the proposer on `id` tried in its current life. */
  attempts(id: NodeId): number {
    return this.core(id)?.proposer?.attempts ?? 0;
  }

  violations(): readonly PaxosViolation[] {
    return this.monitor.violations;
  }

  /** Is the proposer on `id` sending a value it adopted from an earlier ballot? */
  adopted(id: NodeId): boolean {
    return this.core(id)?.proposer?.adopted === true;
  }
}
