// What the leader and the RMs share in Paxos Commit: learning each RM's instance from the
// acceptors' phase 2b messages (a value is chosen when a majority accepted it at one ballot),
// the transaction's outcome (commit when every instance chose "prepared", abort as soon as one
// chose "aborted"), and proposing at a higher ballot to finish instances (phase 1, then phase 2
// with the highest accepted value, or "aborted" where none was accepted).
import type { NodeId } from '../../core/index.js';
import type { Outcome, TxnId } from '../messages.js';
import type { Accepted, PaxosCommitMessage, Vote } from './messages.js';

type Send = (to: NodeId, msg: PaxosCommitMessage) => void;

interface InstanceVotes {
  /** ballot → the value and the acceptors that accepted it at that ballot. */
  readonly byBallot: Map<number, { readonly value: Vote; readonly acceptors: Set<NodeId> }>;
  chosen: Vote | undefined;
}

interface Learning {
  readonly participants: readonly NodeId[];
  readonly instances: Map<NodeId, InstanceVotes>;
}

/** Learns outcomes from phase 2b messages; keeps at most `maxTracked` transactions. */
export class OutcomeLearner {
  private readonly learning = new Map<TxnId, Learning>();

  constructor(
    private readonly acceptors: readonly NodeId[],
    private readonly maxTracked: number,
  ) {}

  private get majority(): number {
    return Math.floor(this.acceptors.length / 2) + 1;
  }

  /** Records a 2b from `acceptor`; returns the outcome when this message settles it. */
  onAccepted(acceptor: NodeId, txn: TxnId, participants: readonly NodeId[], rm: NodeId, ballot: number, value: Vote): Outcome | undefined {
    if (!this.acceptors.includes(acceptor) || !participants.includes(rm)) return undefined;
    let l = this.learning.get(txn);
    if (l === undefined) {
      if (this.learning.size >= this.maxTracked) {
        const oldest = this.learning.keys().next().value as TxnId;
        this.learning.delete(oldest);
      }
      l = { participants, instances: new Map() };
      this.learning.set(txn, l);
    }
    let inst = l.instances.get(rm);
    if (inst === undefined) l.instances.set(rm, (inst = { byBallot: new Map(), chosen: undefined }));
    let at = inst.byBallot.get(ballot);
    if (at === undefined) inst.byBallot.set(ballot, (at = { value, acceptors: new Set() }));
    if (at.value !== value) return undefined; // two values at one ballot: a forged message
    at.acceptors.add(acceptor);
    if (inst.chosen === undefined && at.acceptors.size >= this.majority) inst.chosen = value;
    return this.outcome(txn);
  }

  /** The outcome if already settled. */
  outcome(txn: TxnId): Outcome | undefined {
    const l = this.learning.get(txn);
    if (l === undefined) return undefined;
    let all = true;
    for (const rm of l.participants) {
      const chosen = l.instances.get(rm)?.chosen;
      if (chosen === 'aborted') return 'abort';
      if (chosen === undefined) all = false;
    }
    return all ? 'commit' : undefined;
  }

  forget(txn: TxnId): void {
    this.learning.delete(txn);
  }
}

/** One run of phase 1 + phase 2 at a ballot, by the leader or a recovering RM. */
export class Recovery {
  private readonly promises = new Map<NodeId, readonly Accepted[]>();
  private proposed = false;

  constructor(
    readonly txn: TxnId,
    readonly ts: number,
    readonly participants: readonly NodeId[],
    readonly ballot: number,
    private readonly acceptors: readonly NodeId[],
  ) {}

  start(send: Send): void {
    for (const a of this.acceptors) send(a, { type: 'p1a', txn: this.txn, ts: this.ts, participants: this.participants, ballot: this.ballot });
  }

  /** A promise from `acceptor`; with a majority, proposes every instance once. */
  onPromise(acceptor: NodeId, ballot: number, accepted: readonly Accepted[], send: Send): void {
    if (ballot !== this.ballot || this.proposed || !this.acceptors.includes(acceptor)) return;
    this.promises.set(acceptor, accepted);
    if (this.promises.size < Math.floor(this.acceptors.length / 2) + 1) return;
    this.proposed = true;
    for (const rm of this.participants) {
      // the value accepted at the highest ballot among the promises, else "aborted"
      let best: Accepted | undefined;
      for (const list of this.promises.values()) for (const a of list) if (a.rm === rm && (best === undefined || a.ballot > best.ballot)) best = a;
      const value: Vote = best?.value ?? 'aborted';
      for (const a of this.acceptors) send(a, { type: 'p2a', txn: this.txn, ts: this.ts, participants: this.participants, rm, ballot: this.ballot, value });
    }
  }
}

/** Ballots: 0 is each RM's own; round r of proposer i (1-based, < 256) has ballot r × 256 + i. */
export const BALLOT_SPAN = 256;

export function ballotOf(round: number, proposerIndex: number): number {
  return round * BALLOT_SPAN + proposerIndex;
}
