// Safety monitors for Paxos runs (single-decree and Multi-Paxos alike; a single decree is slot 1).
// They watch every promise, acceptance, lesson learned and application as it happens (through the
// cores' observer hooks) and record each violation with the virtual time it was seen:
//
// - at most one value is chosen per slot (a value is chosen once |Q2| acceptors accepted it in
//   one ballot), and no two acceptors accept different values in one ballot at one slot;
// - a learner learns only the chosen value, so never two values for a slot;
// - an acceptor never goes back on a promise: it never lowers its promise and never accepts below
//   it, and a restart from its durable state keeps every promise and acceptance another node has
//   heard from it;
// - replicas apply the same value at every slot, in slot order (the applied prefix is identical),
//   and a command acknowledged to a client is the one applied at its slot.
//
// Acceptances are counted as the acceptor makes them, before its write is durable. A crash may
// lose the last ones: before judging a slot the monitor reconciles every node that is down with
// what its disk kept (and a restart with what the node recovered), takes the lost acceptances
// back and decides again what is chosen. That never hides a violation and never invents one: a
// lost acceptance was never answered, so no proposer or learner relied on it; an unsynced one of
// a live node will be durable before the node says anything after it.
import type { JsonValue, NodeId } from '../core/index.js';
import { ballotText, compareBallots, ZERO_BALLOT, type Ballot } from './ballot.js';
import type { AcceptorRecovery, PaxosObserver } from './observer.js';

export type PaxosViolationKind =
  | 'chosen-twice'
  | 'ballot-values'
  | 'learned-unchosen'
  | 'learner-conflict'
  | 'promise-regressed'
  | 'accepted-below-promise'
  | 'promise-forgotten'
  | 'acceptance-forgotten'
  | 'applied-divergence'
  | 'applied-order'
  | 'lost-write'
  | 'leader-ballot'
  | 'convergence'
  | 'invariant'
  | 'linearizability'
  | 'liveness';

export interface PaxosViolation {
  readonly kind: PaxosViolationKind;
  readonly atMs: number;
  readonly message: string;
}

export interface PaxosMonitorOptions {
  now(): number;
  /** Acceptances that make a value chosen. */
  readonly phase2Quorum: number;
  /** The nodes of the run. */
  nodeIds(): readonly NodeId[];
  /** What the disk of `node` keeps (promise, acceptances, snapshot slot) while it is down; undefined while it is up. */
  durableState(node: NodeId): AcceptorRecovery | undefined;
}

/** Violations kept at most (the first ones matter; the rest are counted). */
const MAX_VIOLATIONS = 100;

interface BallotAcceptances {
  readonly ballot: Ballot;
  readonly value: string;
  readonly acceptors: Set<NodeId>;
}

interface SlotRecord {
  /** Acceptances per ballot (key: ballotText). */
  readonly byBallot: Map<string, BallotAcceptances>;
  /** The chosen value (canonical JSON) and the lowest ballot it is chosen in. */
  chosen: { readonly value: string; readonly ballot: Ballot } | undefined;
  /** The value applied there (by the first replica that applied it). */
  applied: string | undefined;
  /** Ballots already reported as choosing a second value. */
  readonly reported: Set<string>;
}

function text(value: JsonValue): string {
  return JSON.stringify(value) ?? 'undefined';
}

function short(value: string): string {
  return value.length > 100 ? `${value.slice(0, 97)}...` : value;
}

export class PaxosMonitor implements PaxosObserver {
  readonly violations: PaxosViolation[] = [];
  violationCount = 0;
  /** Phase 1 completions (leaderships won). */
  elections = 0;
  /** Restarts whose durable state was checked against what others heard. */
  recoveriesChecked = 0;
  /** Slots some learner learned while an earlier slot was still unknown to it. */
  learnedOutOfOrder = 0;
  private readonly slots = new Map<number, SlotRecord>();
  /** Each acceptor's promise as the monitor saw it raised (this life). */
  private readonly promisedBy = new Map<NodeId, Ballot>();
  /** Each acceptor's acceptances in this life, per slot (to take back those a crash lost). */
  private readonly acceptedThisLife = new Map<NodeId, Map<number, Ballot[]>>();
  /** The highest promise of each acceptor another node heard. */
  private readonly heardPromises = new Map<NodeId, Ballot>();
  /** The highest ballot of each acceptor's acceptance another node heard, per slot. */
  private readonly heardAcceptances = new Map<NodeId, Map<number, Ballot>>();
  /** What each learner learned, per slot. */
  private readonly learnedBy = new Map<NodeId, Map<number, string>>();
  /** The highest slot each learner learned, and its last applied slot. */
  private readonly highestLearned = new Map<NodeId, number>();
  private readonly lastApplied = new Map<NodeId, number>();
  private readonly leaders = new Map<string, NodeId>();

  constructor(private readonly options: PaxosMonitorOptions) {}

  get ok(): boolean {
    return this.violationCount === 0;
  }

  report(kind: PaxosViolationKind, message: string): void {
    this.violationCount++;
    if (this.violations.length < MAX_VIOLATIONS) this.violations.push({ kind, atMs: this.options.now(), message });
  }

  /** The value chosen at `slot` (as JSON), if the acceptances seen make one chosen. */
  chosenAt(slot: number): JsonValue | undefined {
    const c = this.slots.get(slot)?.chosen;
    return c === undefined ? undefined : (JSON.parse(c.value) as JsonValue);
  }

  /** The ballot `slot`'s value was first chosen in. */
  chosenBallot(slot: number): Ballot | undefined {
    return this.slots.get(slot)?.chosen?.ballot;
  }

  /** Slots with a chosen value. */
  chosenSlots(): number[] {
    return [...this.slots].filter(([, r]) => r.chosen !== undefined).map(([s]) => s).sort((a, b) => a - b);
  }

  /** The highest promise each acceptor is known to have made (as the monitor saw it). */
  promiseOf(node: NodeId): Ballot {
    return this.promisedBy.get(node) ?? ZERO_BALLOT;
  }

  private slot(slot: number): SlotRecord {
    let r = this.slots.get(slot);
    if (r === undefined) {
      r = { byBallot: new Map(), chosen: undefined, applied: undefined, reported: new Set() };
      this.slots.set(slot, r);
    }
    return r;
  }

  // ---------------------------------------------------------------- acceptors

  promised(node: NodeId, ballot: Ballot): void {
    const before = this.promiseOf(node);
    if (compareBallots(ballot, before) < 0) this.report('promise-regressed', `acceptor ${node} promised ${ballotText(ballot)} after promising ${ballotText(before)}`);
    else this.promisedBy.set(node, ballot);
  }

  accepted(node: NodeId, slot: number, ballot: Ballot, value: JsonValue): void {
    const promise = this.promiseOf(node);
    if (compareBallots(ballot, promise) < 0) this.report('accepted-below-promise', `acceptor ${node} accepted at slot ${slot} in ballot ${ballotText(ballot)} after promising ${ballotText(promise)}`);
    else this.promisedBy.set(node, ballot);
    let life = this.acceptedThisLife.get(node);
    if (life === undefined) this.acceptedThisLife.set(node, (life = new Map()));
    const ballots = life.get(slot);
    if (ballots === undefined) life.set(slot, [ballot]);
    else ballots.push(ballot);
    this.count(node, slot, ballot, text(value));
  }

  private count(node: NodeId, slot: number, ballot: Ballot, value: string): void {
    const r = this.slot(slot);
    const key = ballotText(ballot);
    let b = r.byBallot.get(key);
    if (b === undefined) {
      b = { ballot, value, acceptors: new Set() };
      r.byBallot.set(key, b);
    } else if (b.value !== value) {
      this.report('ballot-values', `slot ${slot}, ballot ${key}: acceptor ${node} accepted ${short(value)} where others accepted ${short(b.value)}`);
      return;
    }
    b.acceptors.add(node);
    // judged when a ballot's acceptances first make a quorum
    if (b.acceptors.size !== this.options.phase2Quorum) return;
    if (r.chosen === undefined) r.chosen = { value, ballot };
    else if (r.chosen.value !== value) this.judge(slot);
  }

  /**
   * Decides again what is chosen at `slot`, after taking back the acceptances crashes lost, and
   * reports a second value chosen (once per ballot).
   */
  private judge(slot: number): SlotRecord {
    this.reconcileDownNodes();
    const r = this.slot(slot);
    this.recompute(slot, r);
    return r;
  }

  private recompute(slot: number, r: SlotRecord): void {
    const chosen = [...r.byBallot.values()].filter((b) => b.acceptors.size >= this.options.phase2Quorum).sort((a, b) => compareBallots(a.ballot, b.ballot));
    const first = chosen[0];
    r.chosen = first === undefined ? undefined : { value: first.value, ballot: first.ballot };
    for (const b of chosen) {
      if (first === undefined || b.value === first.value) continue;
      const key = ballotText(b.ballot);
      if (r.reported.has(key)) continue;
      r.reported.add(key);
      this.report('chosen-twice', `slot ${slot}: ${short(b.value)} chosen in ballot ${key} (acceptors ${[...b.acceptors].join(',')}), but ${short(first.value)} was chosen in ballot ${ballotText(first.ballot)} (acceptors ${[...first.acceptors].join(',')})`);
    }
  }

  /** Every node down now: the acceptances its crash lost are taken back (its disk says which it kept). */
  private reconcileDownNodes(): void {
    for (const node of this.options.nodeIds()) {
      const durable = this.options.durableState(node);
      if (durable !== undefined) this.takeBackLost(node, durable);
    }
  }

  /** Takes back the acceptances of `node`'s last life that `durable` does not hold, and decides those slots again. */
  private takeBackLost(node: NodeId, durable: AcceptorRecovery): void {
    const kept = new Map(durable.accepted.map((a) => [a.slot, a.ballot]));
    for (const [slot, ballots] of this.acceptedThisLife.get(node) ?? []) {
      if (slot <= durable.snapshotSlot) continue;
      const k = kept.get(slot);
      let changed = false;
      for (const ballot of ballots) {
        if (k !== undefined && compareBallots(ballot, k) <= 0) continue;
        changed = this.slots.get(slot)?.byBallot.get(ballotText(ballot))?.acceptors.delete(node) === true || changed;
      }
      const r = this.slots.get(slot);
      if (changed && r !== undefined) this.recompute(slot, r);
    }
    this.acceptedThisLife.set(node, new Map(durable.accepted.map((a) => [a.slot, [a.ballot]])));
  }

  heardPromise(_node: NodeId, from: NodeId, ballot: Ballot): void {
    const known = this.heardPromises.get(from);
    if (known === undefined || compareBallots(ballot, known) > 0) this.heardPromises.set(from, ballot);
  }

  heardAccepted(_node: NodeId, from: NodeId, slot: number, ballot: Ballot): void {
    let slots = this.heardAcceptances.get(from);
    if (slots === undefined) this.heardAcceptances.set(from, (slots = new Map()));
    const known = slots.get(slot);
    if (known === undefined || compareBallots(ballot, known) > 0) slots.set(slot, ballot);
    this.heardPromise(_node, from, ballot);
  }

  /**
   * A restart: the durable state must hold every promise and acceptance others heard from this
   * acceptor; acceptances of the last life that the crash lost are taken back from the counts.
   */
  recovered(node: NodeId, state: AcceptorRecovery): void {
    this.recoveriesChecked++;
    const heard = this.heardPromises.get(node);
    if (heard !== undefined && compareBallots(state.promised, heard) < 0) {
      this.report('promise-forgotten', `acceptor ${node} restarted promising ${ballotText(state.promised)}, but it had promised ${ballotText(heard)} to others`);
    }
    const durable = new Map(state.accepted.map((a) => [a.slot, a.ballot]));
    for (const [slot, ballot] of this.heardAcceptances.get(node) ?? []) {
      if (slot <= state.snapshotSlot) continue;
      const kept = durable.get(slot);
      if (kept === undefined || compareBallots(kept, ballot) < 0) {
        this.report('acceptance-forgotten', `acceptor ${node} restarted with ${kept === undefined ? 'nothing' : `ballot ${ballotText(kept)}`} at slot ${slot}, but it had told others it accepted there in ballot ${ballotText(ballot)}`);
      }
    }
    this.takeBackLost(node, state);
    this.promisedBy.set(node, state.promised);
    this.lastApplied.set(node, state.snapshotSlot);
    this.highestLearned.set(node, state.snapshotSlot);
  }

  // ---------------------------------------------------------------- learners and replicas

  learned(node: NodeId, slot: number, value: JsonValue): void {
    const v = text(value);
    let mine = this.learnedBy.get(node);
    if (mine === undefined) this.learnedBy.set(node, (mine = new Map()));
    const before = mine.get(slot);
    if (before !== undefined && before !== v) this.report('learner-conflict', `learner ${node} learned ${short(v)} at slot ${slot} after learning ${short(before)}`);
    mine.set(slot, v);
    let chosen = this.slots.get(slot)?.chosen;
    if (chosen?.value !== v) chosen = this.judge(slot).chosen;
    if (chosen === undefined) this.report('learned-unchosen', `learner ${node} learned ${short(v)} at slot ${slot}, where no value is chosen`);
    else if (chosen.value !== v) this.report('learned-unchosen', `learner ${node} learned ${short(v)} at slot ${slot}, where ${short(chosen.value)} is chosen`);
    const highest = this.highestLearned.get(node) ?? 0;
    if (slot > highest + 1) this.learnedOutOfOrder++;
    if (slot > highest) this.highestLearned.set(node, slot);
  }

  applied(node: NodeId, slot: number, value: JsonValue): void {
    const v = text(value);
    const last = this.lastApplied.get(node) ?? 0;
    if (slot !== last + 1) this.report('applied-order', `replica ${node} applied slot ${slot} after slot ${last}`);
    this.lastApplied.set(node, slot);
    let r = this.slot(slot);
    if (r.chosen !== undefined && r.chosen.value !== v) r = this.judge(slot);
    if (r.chosen !== undefined && r.chosen.value !== v) this.report('applied-divergence', `replica ${node} applied ${short(v)} at slot ${slot}, where ${short(r.chosen.value)} is chosen`);
    if (r.applied === undefined) r.applied = v;
    else if (r.applied !== v) this.report('applied-divergence', `replica ${node} applied ${short(v)} at slot ${slot}, where another applied ${short(r.applied)}`);
  }

  snapshotInstalled(node: NodeId, slot: number): void {
    const last = this.lastApplied.get(node) ?? 0;
    if (slot < last) this.report('applied-order', `replica ${node} installed a snapshot of slot ${slot} after applying slot ${last}`);
    this.lastApplied.set(node, slot);
    if (slot > (this.highestLearned.get(node) ?? 0)) this.highestLearned.set(node, slot);
  }

  becameLeader(node: NodeId, ballot: Ballot): void {
    this.elections++;
    const key = ballotText(ballot);
    if (ballot.node !== node) this.report('leader-ballot', `node ${node} led with ballot ${key}, which belongs to node ${ballot.node}`);
    const other = this.leaders.get(key);
    if (other !== undefined && other !== node) this.report('leader-ballot', `two leaders of ballot ${key}: ${other} and ${node}`);
    this.leaders.set(key, node);
  }

  /** A client was told its command (clientId, seq) was applied at `slot`. */
  acknowledged(slot: number, clientId: string, seq: number): void {
    const applied = this.slots.get(slot)?.applied;
    const value = applied === undefined ? undefined : (JSON.parse(applied) as JsonValue);
    const ok = typeof value === 'object' && value !== null && !Array.isArray(value) && value['clientId'] === clientId && value['seq'] === seq;
    if (!ok) this.report('lost-write', `client ${clientId} seq ${seq} was acknowledged at slot ${slot}, but the value applied there is ${applied === undefined ? 'unknown' : short(applied)}`);
  }
}
