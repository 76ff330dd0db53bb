// The simulated commit systems (2PC, 3PC, Paxos Commit): node 1 coordinates, participants hold
// accounts; clients submit transfers between accounts on two participants. It records the commit
// events that survived crashes for the commit checker, and reads balances for the "no money
// created or destroyed" check.
import type { JsonValue, Message, NodeId, ProtocolCore, ProtocolSpec } from '../../core/index.js';
import { SimCluster } from '../../sim/cluster.js';
import type { LinkConfig } from '../../sim/network.js';
import type { RandomStream } from '../../sim/rng.js';
import { Simulation } from '../../sim/simulation.js';
import { checkCommitHistory, type CommitCheckResult } from '../check.js';
import type { CommitEvent } from '../events.js';
import { CoordinatorCore, type TxnRequest, type TxnResponse } from '../coordinator.js';
import type { TwoPcMessage, TxnId } from '../messages.js';
import { ParticipantCore } from '../participant.js';
import { AcceptorCore } from '../paxos-commit/acceptor.js';
import { LeaderCore } from '../paxos-commit/leader.js';
import type { PaxosCommitMessage } from '../paxos-commit/messages.js';
import { RmCore } from '../paxos-commit/rm.js';
import { PAXOS_COMMIT_DEFAULTS, paxosCommitSpec, type PaxosCommitOp, type PaxosCommitOptions } from '../paxos-commit/spec.js';
import { ThreePcCoordinatorCore } from '../three-pc/coordinator.js';
import type { ThreePcMessage } from '../three-pc/messages.js';
import { ThreePcParticipantCore } from '../three-pc/participant.js';
import { THREE_PC_DEFAULTS, threePcSpec, type ThreePcOp, type ThreePcOptions } from '../three-pc/spec.js';
import { TWO_PC_DEFAULTS, twoPcSpec, type TwoPcOp, type TwoPcOptions } from '../two-pc.js';
import { DurableEventCollector } from './durable-events.js';

/** What the harness reads of a participant, whatever the protocol. */
export interface ParticipantView {
  inDoubt(): TxnId[];
  lockCount(): number;
  totalBalance(): number;
  balance(key: string): number | undefined;
}

/** A commit protocol as the harness runs it. */
export interface CommitSystem<M extends Message, P> {
  readonly spec: ProtocolSpec<M, TxnRequest, TxnResponse, P>;
  readonly nodes: readonly NodeId[];
  readonly participants: readonly NodeId[];
  readonly accounts: readonly string[];
  readonly initialBalance: number;
  participantView(core: ProtocolCore<M, TxnRequest, TxnResponse, P> | undefined): ParticipantView | undefined;
  /** Transactions the coordinator has open; undefined when it is down. */
  coordinatorOpen(core: ProtocolCore<M, TxnRequest, TxnResponse, P> | undefined): number | undefined;
}

export interface CommitClusterOptions {
  readonly seed: number;
  readonly link?: Partial<LinkConfig>;
  readonly fsyncMs?: number;
  readonly trace?: false | { readonly keepLines?: boolean; readonly sink?: (line: string) => void };
  /** How long a client waits for an answer (virtual ms); unknown after. */
  readonly requestTimeoutMs?: number;
  /** A host that wraps the cores (the visualizer's engine): how it wraps the spec and finds a core inside again. */
  readonly host?: CommitClusterHost;
}

/** How a host that wraps cores of its own wraps the spec, and finds the protocol's core inside again. */
export interface CommitClusterHost {
  wrapSpec<M extends Message, P>(spec: ProtocolSpec<M, TxnRequest, TxnResponse, P>): ProtocolSpec<M, TxnRequest, TxnResponse, P>;
  unwrapCore<M extends Message, P>(core: ProtocolCore<M, TxnRequest, TxnResponse, P> | undefined): ProtocolCore<M, TxnRequest, TxnResponse, P> | undefined;
}

export interface TransferOutcomes {
  committed: number;
  aborted: number;
  /** No answer in time: the transfer may or may not have happened. */
  unknown: number;
  refused: number;
}

export const COORDINATOR: NodeId = '1';

export class CommitCluster<M extends Message, P> extends SimCluster<M, TxnRequest, TxnResponse, P> {
  readonly participants: readonly NodeId[];
  readonly accounts: readonly string[];
  readonly initialBalance: number;
  readonly outcomes: TransferOutcomes = { committed: 0, aborted: 0, unknown: 0, refused: 0 };
  inFlight = 0;
  private readonly collector: DurableEventCollector;
  private readonly requestTimeoutMs: number;
  private readonly host: CommitClusterHost | undefined;

  constructor(
    private readonly system: CommitSystem<M, P>,
    o: CommitClusterOptions,
  ) {
    if (!(system.participants.length >= 2)) throw new RangeError(`a commit system needs at least 2 participants, got ${system.participants.length}`);
    const sim = new Simulation({ seed: o.seed, protocol: o.host === undefined ? system.spec : o.host.wrapSpec(system.spec), nodes: system.nodes, fsyncMs: o.fsyncMs ?? 1, ...(o.link === undefined ? {} : { link: o.link }), trace: o.trace ?? {} });
    super(sim);
    this.participants = system.participants;
    this.accounts = system.accounts;
    this.initialBalance = system.initialBalance;
    this.requestTimeoutMs = o.requestTimeoutMs ?? 3_000;
    this.host = o.host;
    this.collector = new DurableEventCollector(sim as unknown as Simulation<Message, unknown, unknown, unknown>);
  }

  /** The protocol's own core of node `id` (inside the host's wrapper, if any); undefined while it is down. */
  core(id: NodeId): ProtocolCore<M, TxnRequest, TxnResponse, P> | undefined {
    const core = this.sim.core(id);
    return this.host === undefined ? core : this.host.unwrapCore(core);
  }

  participant(id: NodeId): ParticipantView | undefined {
    return this.system.participantView(this.core(id));
  }

  /** Transactions the coordinator has open; undefined while it is down. */
  coordinatorOpen(): number | undefined {
    return this.system.coordinatorOpen(this.core(COORDINATOR));
  }

  /** The commit events that survived so far (the history the checker judges), oldest first. */
  commitEvents(): readonly CommitEvent[] {
    return this.collector.events();
  }

  /** Submits a transfer of `amount` from `from` to `to` (each a participant and an account). */
  transfer(process: string, from: { node: NodeId; key: string }, to: { node: NodeId; key: string }, amount: number, onDone?: (res: TxnResponse | undefined) => void): void {
    const input: JsonValue = { from: `${from.node}/${from.key}`, to: `${to.node}/${to.key}`, amount };
    const index = this.sim.invoke(process, 'transfer', input);
    this.inFlight++;
    const request: TxnRequest = {
      writes: [
        { participant: from.node, key: from.key, delta: -amount },
        { participant: to.node, key: to.key, delta: amount },
      ],
    };
    this.sim.request(COORDINATOR, request, { timeoutMs: this.requestTimeoutMs, process }, (res) => {
      this.inFlight--;
      if (res === undefined) {
        this.outcomes.unknown++;
        this.sim.complete(index, 'unknown', null);
      } else if ('error' in res) {
        this.outcomes.refused++;
        this.sim.complete(index, 'fail', res.error);
      } else {
        this.outcomes[res.outcome === 'commit' ? 'committed' : 'aborted']++;
        this.sim.complete(index, res.outcome === 'commit' ? 'ok' : 'fail', { txn: res.txn, outcome: res.outcome });
      }
      onDone?.(res);
    });
  }

  /** `clients` clients each submit random transfers between two participants until `untilMs`. */
  startLoad(untilMs: number, clients: number, thinkMs = 20): void {
    const rng = this.sim.random.stream('workload');
    for (let c = 0; c < clients; c++) {
      const process = `c${c}`;
      const next = (): void => {
        if (this.nowMs >= untilMs) return;
        const [a, b] = this.pickTwo(rng);
        this.transfer(process, { node: a, key: rng.pick(this.accounts) }, { node: b, key: rng.pick(this.accounts) }, rng.int(1, 40), () => this.sim.after(thinkMs, next));
      };
      this.sim.after(rng.int(0, thinkMs), next);
    }
  }

  private pickTwo(rng: RandomStream): [NodeId, NodeId] {
    const shuffled = rng.shuffled(this.participants);
    return [shuffled[0] as NodeId, shuffled[1] as NodeId];
  }

  /** Every participant and the coordinator up, nothing prepared or waiting for acknowledgements. */
  quiescent(): boolean {
    const open = this.coordinatorOpen();
    if (open === undefined || open > 0 || this.inFlight > 0) return false;
    return this.participants.every((id) => {
      const p = this.participant(id);
      return p !== undefined && p.inDoubt().length === 0 && p.lockCount() === 0;
    });
  }

  /** Sum of every balance on every participant up (undefined when one is down). */
  totalMoney(): number | undefined {
    let sum = 0;
    for (const id of this.participants) {
      const p = this.participant(id);
      if (p === undefined) return undefined;
      sum += p.totalBalance();
    }
    return sum;
  }

  expectedMoney(): number {
    return this.participants.length * this.accounts.length * this.initialBalance;
  }

  /** How many participants are prepared without a decision now, and the locks they hold. */
  inDoubtNow(): { readonly transactions: number; readonly locks: number } {
    let transactions = 0;
    let locks = 0;
    for (const id of this.participants) {
      const p = this.participant(id);
      transactions += p?.inDoubt().length ?? 0;
      locks += p?.lockCount() ?? 0;
    }
    return { transactions, locks };
  }

  /** The commit checker's verdict on the history so far. */
  checkCommit(): CommitCheckResult {
    return checkCommitHistory(this.collector.events(), this.nowMs);
  }
}

// ------------------------------------------------------------------ the two systems

type Accounts = Pick<CommitSystem<Message, unknown>, 'accounts' | 'initialBalance'>;
type CoreViews<M extends Message, P> = Pick<CommitSystem<M, P>, 'participantView' | 'coordinatorOpen'>;

/** The accounts a protocol's options set, else its defaults. */
function accountsOf(protocol: Partial<Accounts> | undefined, defaults: Accounts): Accounts {
  return { accounts: protocol?.accounts ?? defaults.accounts, initialBalance: protocol?.initialBalance ?? defaults.initialBalance };
}

/** 2PC and 3PC alike: node 1 coordinates, nodes 2..N+1 are the N participants. */
function coordinatedSystem<M extends Message, P>(n: number, spec: ProtocolSpec<M, TxnRequest, TxnResponse, P>, accounts: Accounts, views: CoreViews<M, P>): CommitSystem<M, P> {
  const nodes = Array.from({ length: n + 1 }, (_, i) => String(i + 1));
  return { spec, nodes, participants: nodes.slice(1), ...accounts, ...views };
}

/** A cluster of one coordinator and participants, running a protocol whose options are `O`. */
export interface CoordinatedClusterOptions<O> extends CommitClusterOptions {
  /** Participants (at least 2); the coordinator is one more node. */
  readonly participants: number;
  readonly protocol?: Partial<Omit<O, 'coordinator'>>;
}

export type TwoPcClusterOptions = CoordinatedClusterOptions<TwoPcOptions>;

/** 2PC: node 1 coordinates, nodes 2..N are participants. */
export class TwoPcCluster extends CommitCluster<TwoPcMessage, TwoPcOp> {
  constructor(o: TwoPcClusterOptions) {
    const views: CoreViews<TwoPcMessage, TwoPcOp> = {
      participantView: (core) => (core instanceof ParticipantCore ? core : undefined),
      coordinatorOpen: (core) => (core instanceof CoordinatorCore ? core.openCount() : undefined),
    };
    super(coordinatedSystem(o.participants, twoPcSpec({ ...o.protocol, coordinator: COORDINATOR }), accountsOf(o.protocol, TWO_PC_DEFAULTS), views), o);
  }
}

export type ThreePcClusterOptions = CoordinatedClusterOptions<ThreePcOptions>;

/** 3PC: node 1 coordinates, nodes 2..N are participants (and backup coordinators, by rank). */
export class ThreePcCluster extends CommitCluster<ThreePcMessage, ThreePcOp> {
  constructor(o: ThreePcClusterOptions) {
    const views: CoreViews<ThreePcMessage, ThreePcOp> = {
      participantView: (core) => (core instanceof ThreePcParticipantCore ? core : undefined),
      coordinatorOpen: (core) => (core instanceof ThreePcCoordinatorCore ? core.openCount() : undefined),
    };
    super(coordinatedSystem(o.participants, threePcSpec({ ...o.protocol, coordinator: COORDINATOR }), accountsOf(o.protocol, THREE_PC_DEFAULTS), views), o);
  }

  /** Termination rounds decided by backups so far (participants up now). */
  terminations(): number {
    let n = 0;
    for (const id of this.participants) {
      const core = this.core(id);
      if (core instanceof ThreePcParticipantCore) n += core.terminations;
    }
    return n;
  }
}

export interface PaxosCommitClusterOptions extends CommitClusterOptions {
  readonly participants: number;
  /** 2F+1 acceptors, on their own nodes after the participants. Default 3. */
  readonly acceptors?: number;
  readonly protocol?: Partial<Omit<PaxosCommitOptions, 'leader' | 'participants' | 'acceptors'>>;
}

/** Paxos Commit: node 1 leads, then the participants (RMs), then the acceptors. */
export class PaxosCommitCluster extends CommitCluster<PaxosCommitMessage, PaxosCommitOp> {
  readonly acceptors: readonly NodeId[];

  constructor(o: PaxosCommitClusterOptions) {
    const a = o.acceptors ?? 3;
    const nodes = Array.from({ length: 1 + o.participants + a }, (_, i) => String(i + 1));
    const participants = nodes.slice(1, 1 + o.participants);
    const acceptors = nodes.slice(1 + o.participants);
    super(
      {
        spec: paxosCommitSpec({ ...o.protocol, leader: COORDINATOR, participants, acceptors }),
        nodes,
        participants,
        ...accountsOf(o.protocol, PAXOS_COMMIT_DEFAULTS),
        participantView: (core) => (core instanceof RmCore ? core : undefined),
        coordinatorOpen: (core) => (core instanceof LeaderCore ? core.openCount() : undefined),
      },
      o,
    );
    this.acceptors = acceptors;
  }

  acceptorUp(id: NodeId): boolean {
    return this.core(id) instanceof AcceptorCore;
  }
}

// ------------------------------------------------------------------ by name

export type CommitProtocolName = '2pc' | '3pc' | 'paxos-commit';
export const COMMIT_PROTOCOLS: readonly CommitProtocolName[] = ['2pc', '3pc', 'paxos-commit'];

/** A commit cluster of `participants` participants (Paxos Commit: and 3 acceptors) by protocol name. */
export function newCommitCluster(name: CommitProtocolName, o: CommitClusterOptions & { readonly participants: number }): CommitCluster<Message, unknown> {
  const cluster = name === '2pc' ? new TwoPcCluster(o) : name === '3pc' ? new ThreePcCluster(o) : new PaxosCommitCluster({ ...o, acceptors: 3 });
  return cluster as unknown as CommitCluster<Message, unknown>;
}
