// The three roles of single-decree Paxos (Lamport, "Paxos Made Simple"), each a small state
// machine that talks through a port: the acceptor (promises and acceptances, written before it
// answers), the proposer (phase 1 with a ballot of its own, phase 2 with the value of the
// highest-ballot acceptance it was told of, or its own), and the learner (a value is learned once
// |Q2| acceptors accepted it in one ballot). The core (core.ts) places them on nodes.
import type { JsonValue, NodeId } from '../../core/index.js';
import { compareBallots, nextBallot, sameBallot, ZERO_BALLOT, ballotText, type Ballot } from '../ballot.js';
import type { PaxosObserver } from '../observer.js';
import type { QuorumSizes } from '../quorums.js';
import type { ProposerPhase, SynodMessage, SynodOptions, SynodPersistOp } from './types.js';

/** Single-decree Paxos decides one value; monitors see it as slot 1. */
export const SYNOD_SLOT = 1;

export interface RolePort {
  readonly id: NodeId;
  send(to: NodeId, msg: SynodMessage): void;
  persist(op: SynodPersistOp): void;
  readonly observer: PaxosObserver | undefined;
}

type Msg<T extends SynodMessage['type']> = Extract<SynodMessage, { type: T }>;

export interface Accepted {
  readonly ballot: Ballot;
  readonly value: JsonValue;
}

function sameValue(a: JsonValue, b: JsonValue): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

// ================================================================ acceptor

export class Acceptor {
  promised: Ballot = ZERO_BALLOT;
  accepted: Accepted | null = null;

  constructor(
    private readonly port: RolePort,
    private readonly learners: readonly NodeId[],
  ) {}

  /** Folds one durable op of an earlier life. */
  replay(op: SynodPersistOp): void {
    if (op.kind === 'promise' && compareBallots(op.ballot, this.promised) > 0) this.promised = op.ballot;
    if (op.kind === 'accept') {
      if (compareBallots(op.ballot, this.promised) > 0) this.promised = op.ballot;
      if (this.accepted === null || compareBallots(op.ballot, this.accepted.ballot) >= 0) this.accepted = { ballot: op.ballot, value: op.value };
    }
  }

  onPrepare(from: NodeId, msg: Msg<'prepare'>): void {
    const order = compareBallots(msg.ballot, this.promised);
    if (order < 0) return this.port.send(from, { type: 'reject', ballot: msg.ballot, promised: this.promised });
    if (order > 0) {
      this.promised = msg.ballot;
      this.port.persist({ kind: 'promise', ballot: msg.ballot });
      this.port.observer?.promised?.(this.port.id, msg.ballot);
    }
    // a repeated prepare of the promised ballot is answered again (its promise was lost)
    this.port.send(from, { type: 'promise', ballot: msg.ballot, accepted: this.accepted });
  }

  onAccept(from: NodeId, msg: Msg<'accept'>): void {
    if (compareBallots(msg.ballot, this.promised) < 0) return this.port.send(from, { type: 'reject', ballot: msg.ballot, promised: this.promised });
    const again = this.accepted !== null && sameBallot(this.accepted.ballot, msg.ballot);
    if (again && !sameValue((this.accepted as Accepted).value, msg.value)) return; // one value per ballot: a forged second one is ignored
    if (!again) {
      this.promised = msg.ballot;
      this.accepted = { ballot: msg.ballot, value: msg.value };
      this.port.persist({ kind: 'accept', ballot: msg.ballot, value: msg.value });
      this.port.observer?.accepted?.(this.port.id, SYNOD_SLOT, msg.ballot, msg.value);
    }
    const answer: SynodMessage = { type: 'accepted', ballot: msg.ballot, value: msg.value };
    const to = new Set([from, msg.ballot.node, ...this.learners]);
    for (const node of to) this.port.send(node, answer);
  }
}

// ================================================================ learner

export class Learner {
  learned: JsonValue | undefined;
  /** Acceptors per ballot (key: ballotText) and the value accepted in it. */
  private readonly votes = new Map<string, { value: JsonValue; acceptors: Set<NodeId> }>();
  /** Something happened (a message arrived): worth asking the others when nothing is learned. */
  sawActivity = false;

  constructor(
    private readonly port: RolePort,
    private readonly quorums: QuorumSizes,
    private readonly onLearned: (value: JsonValue) => void,
  ) {}

  replay(op: SynodPersistOp): void {
    if (op.kind === 'learned') this.learned = op.value;
  }

  onAccepted(from: NodeId, msg: Msg<'accepted'>): void {
    if (this.learned !== undefined) return;
    const key = ballotText(msg.ballot);
    let v = this.votes.get(key);
    if (v === undefined) this.votes.set(key, (v = { value: msg.value, acceptors: new Set() }));
    if (!sameValue(v.value, msg.value)) return;
    v.acceptors.add(from);
    if (v.acceptors.size >= this.quorums.phase2) this.learn(msg.value);
  }

  learn(value: JsonValue): void {
    if (this.learned !== undefined) return;
    this.learned = value;
    this.votes.clear();
    this.port.persist({ kind: 'learned', value });
    this.port.observer?.learned?.(this.port.id, SYNOD_SLOT, value);
    this.onLearned(value);
  }
}

// ================================================================ proposer

export interface ProposerPort extends RolePort {
  random(): number;
  /** This proposer saw its value chosen (phase 2 reached its quorum). */
  chosen(value: JsonValue): void;
  /** The highest round the node's own acceptor has promised, if it is one (a new ballot goes above it). */
  localPromisedRound(): number;
}

export class Proposer {
  phase: ProposerPhase = 'idle';
  ballot: Ballot | null = null;
  /** The value the clients asked for. */
  own: JsonValue | undefined;
  /** The value sent in phase 2 (own, or adopted from an acceptance reported in phase 1). */
  proposal: JsonValue | undefined;
  /** Phase 2 carries a value accepted in an earlier ballot rather than the client's own. */
  adopted = false;
  /** Ballots tried, this life. */
  attempts = 0;
  private highestRound = 0;
  private readonly promises = new Map<NodeId, Accepted | null>();
  private readonly acks = new Set<NodeId>();
  private deadlineTick = 0;

  constructor(
    private readonly port: ProposerPort,
    private readonly acceptors: readonly NodeId[],
    private readonly learners: readonly NodeId[],
    private readonly quorums: QuorumSizes,
    private readonly opts: SynodOptions,
  ) {}

  replay(op: SynodPersistOp): void {
    if (op.kind === 'round') this.highestRound = Math.max(this.highestRound, op.round);
  }

  get highestRoundSeen(): number {
    return this.highestRound;
  }

  /** A client asks for `value`: a proposer not yet running starts phase 1. */
  propose(value: JsonValue, tick: number): void {
    if (this.phase === 'done') return;
    if (this.own === undefined) this.own = value;
    if (this.phase === 'idle') this.start(tick);
  }

  /** Phase 1 with a new ballot above every round seen, written before the prepares leave. */
  private start(tick: number): void {
    this.attempts++;
    this.highestRound = Math.max(this.highestRound, this.port.localPromisedRound());
    const ballot = nextBallot(this.port.id, this.highestRound);
    this.highestRound = ballot.round;
    this.port.persist({ kind: 'round', round: ballot.round });
    this.ballot = ballot;
    this.phase = 'preparing';
    this.adopted = false;
    this.proposal = undefined;
    this.promises.clear();
    this.acks.clear();
    this.deadlineTick = tick + this.opts.phaseTimeoutTicks;
    for (const a of this.acceptors) this.port.send(a, { type: 'prepare', ballot });
  }

  onPromise(from: NodeId, msg: Msg<'promise'>): void {
    this.port.observer?.heardPromise?.(this.port.id, from, msg.ballot);
    if (this.phase !== 'preparing' || this.ballot === null || !sameBallot(msg.ballot, this.ballot)) return;
    if (!this.acceptors.includes(from)) return;
    this.promises.set(from, msg.accepted);
    if (this.promises.size < this.quorums.phase1) return;
    // the value of the highest-ballot acceptance reported, else the client's own
    let highest: Accepted | null = null;
    for (const a of this.promises.values()) if (a !== null && (highest === null || compareBallots(a.ballot, highest.ballot) > 0)) highest = a;
    this.proposal = highest === null ? this.own : highest.value;
    this.adopted = highest !== null && !sameValue(highest.value, this.own ?? null);
    this.phase = 'accepting';
    this.port.observer?.becameLeader?.(this.port.id, this.ballot);
    for (const a of this.acceptors) this.port.send(a, { type: 'accept', ballot: this.ballot, value: this.proposal ?? null });
  }

  onAccepted(from: NodeId, msg: Msg<'accepted'>): void {
    if (this.phase !== 'accepting' || this.ballot === null || !sameBallot(msg.ballot, this.ballot) || !this.acceptors.includes(from)) return;
    this.acks.add(from);
    if (this.acks.size < this.quorums.phase2) return;
    this.finish(msg.value);
    for (const l of this.learners) if (l !== this.port.id) this.port.send(l, { type: 'decided', value: msg.value });
  }

  onReject(from: NodeId, msg: Msg<'reject'>, tick: number): void {
    this.port.observer?.heardPromise?.(this.port.id, from, msg.promised);
    this.highestRound = Math.max(this.highestRound, msg.promised.round);
    if (this.ballot === null || !sameBallot(msg.ballot, this.ballot) || (this.phase !== 'preparing' && this.phase !== 'accepting')) return;
    this.retry(tick);
  }

  /** Pre-empted or timed out: a higher ballot, at once or after a random pause. */
  private retry(tick: number): void {
    if (this.opts.backoff === 'none') return this.start(tick);
    this.phase = 'backoff';
    this.deadlineTick = tick + 1 + Math.floor(this.port.random() * this.opts.backoffMaxTicks);
  }

  onTick(tick: number): void {
    if (tick < this.deadlineTick) return;
    if (this.phase === 'backoff') this.start(tick);
    else if (this.phase === 'preparing' || this.phase === 'accepting') this.retry(tick);
  }

  /** The value is known chosen (by this proposer's phase 2, or from a learner). */
  finish(value: JsonValue): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    this.proposal = value;
    this.port.chosen(value);
  }
}
