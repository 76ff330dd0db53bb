// The Multi-Paxos core: a deterministic, sans-I/O state machine (src/core/protocol.ts) that
// replicates a state machine (the KV store) over a sequence of slots. Every node is proposer,
// acceptor, learner and replica at once:
//
// - Leader election by ballot: a node that hears no leader for a random election timeout runs
//   phase 1 once for every future slot with a ballot above every round it has seen (its own
//   acceptor promises it first, in the same write). With |Q1| promises it leads; a rejection
//   naming a higher promise sends it back to follower for a new random timeout (randomized
//   backoff: dueling candidates drift apart).
// - Phase 1 recovery: for each slot above what is known chosen, the new leader re-proposes the
//   value of the highest-ballot acceptance its quorum reported, and fills holes below the highest
//   reported slot with no-ops. Slots below an acceptor's snapshot are chosen: the leader fetches
//   the snapshot instead.
// - Phase 2 per command: a slot, an accept to every acceptor, chosen at |Q2| acceptances. Slots
//   are chosen in any order and applied in slot order. The leader tells followers what is chosen
//   as decided ranges (slots and the ballot they were chosen in); a follower that accepted the
//   same ballot holds the value, and asks (`need`) for the rest; one too far behind gets a snapshot.
// - Linearizable reads by a read round through a quorum (no clocks): see docs/paxos.md.
//
// Persist before you speak: every promise and acceptance goes through fx.persist in the call that
// makes it, and the host holds the call's messages and replies until it is durable.
import { assertInvariant, type CoreEnv, type Effects, type JsonValue, type NodeId, type ProtocolCore, type StateMachine } from '../../core/index.js';
import { applyEntry } from '../../raft/commands.js';
import { SessionTable } from '../../raft/sessions.js';
import { ballotText, compareBallots, sameBallot, type Ballot } from '../ballot.js';
import { PaxosError } from '../errors.js';
import { resolveQuorums, type QuorumSizes } from '../quorums.js';
import { isRecord } from '../values.js';
import { MultiAcceptor } from './acceptor.js';
import { ChosenLog } from './chosen-log.js';
import { MAX_LIST, paxosRequestProblem, parsePaxosMessage } from './messages.js';
import type {
  AcceptedEntry,
  DecidedRange,
  PaxosErrorReason,
  PaxosMessage,
  PaxosOptions,
  PaxosPersistOp,
  PaxosRequest,
  PaxosResponse,
  PaxosRole,
  PaxosStatus,
  PaxosValue,
  SlotValue,
} from './types.js';

type Fx = Effects<PaxosMessage, PaxosPersistOp, PaxosResponse>;
type Msg<T extends PaxosMessage['type']> = Extract<PaxosMessage, { type: T }>;

const NOOP: PaxosValue = { kind: 'noop' };
/** Slots a decided range may cover ahead of what a node knows, and slots it remembers as chosen without a value. */
const MAX_SPAN = 4096;
/** Slots a node asks values for in one answer. */
const MAX_NEED = 64;

interface Proposal {
  readonly value: PaxosValue;
  readonly acks: Set<NodeId>;
  sentTick: number;
}

interface PeerProgress {
  /** What the peer last said it knows chosen, and where its snapshot is. */
  known: number;
  snapshotSlot: number;
  /** The highest read round it confirmed. */
  ackedRound: number;
  lastHeardTick: number;
  /** When a snapshot (or a snapshot request) last went to it. */
  snapshotTick: number;
}

interface PendingRead<Q> {
  readonly requestId: string;
  readonly query: Q;
  /** Every slot up to here must be applied before the read is answered. */
  readonly readSlot: number;
  /** The read round that confirms it (0: none yet; the next one started will). */
  round: number;
  confirmed: boolean;
  readonly arrivedTick: number;
}

interface Campaign {
  readonly ballot: Ballot;
  readonly fromSlot: number;
  readonly promises: Map<NodeId, { readonly snapshotSlot: number; readonly known: number; readonly accepted: readonly AcceptedEntry[] }>;
  readonly deadlineTick: number;
}

interface Leadership<Q> {
  readonly ballot: Ballot;
  nextSlot: number;
  /** The highest slot phase 1 recovered: the leader is ready once all up to it are known chosen. */
  readonly recoveryEnd: number;
  readonly proposals: Map<number, Proposal>;
  /** Client requests waiting for their slot to be applied. */
  readonly waiting: Map<number, { readonly requestId: string; readonly value: PaxosValue }>;
  readonly peers: Map<NodeId, PeerProgress>;
  /** Accepts to send at the end of this call. */
  outgoing: SlotValue[];
  round: number;
  confirmedRound: number;
  readonly reads: PendingRead<Q>[];
  checkQuorumTick: number;
  /** Slots up to here are chosen (an acceptor compacted them) but unknown here: fetch a snapshot. */
  needSnapshotThrough: number;
  snapshotReqTick: number;
}

interface SnapshotPayload {
  readonly machine: JsonValue;
  readonly sessions: JsonValue;
}

function sameValue(a: PaxosValue, b: PaxosValue): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

function describeValue(v: PaxosValue): string {
  if (v.kind === 'noop') return 'noop';
  const text = JSON.stringify(v.op);
  return `${v.clientId ?? '-'}#${v.seq} ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

/** `C`, `Q`, `R`: the state machine's command, query and result types (commands travel as JSON). */
export class MultiPaxosCore<C = unknown, Q = unknown, R extends JsonValue = JsonValue> implements ProtocolCore<PaxosMessage, PaxosRequest, PaxosResponse, PaxosPersistOp> {
  readonly id: NodeId;
  readonly quorums: QuorumSizes;
  private readonly peers: readonly NodeId[];
  private readonly acceptor: MultiAcceptor;
  private readonly log = new ChosenLog();
  private readonly sessions: SessionTable;
  private applied = 0;
  /** The latest snapshot (slot 0: none), kept to send to followers far behind. */
  private snapshot: { slot: number; data: JsonValue } = { slot: 0, data: null };

  private role: PaxosRole = 'follower';
  private leaderId: NodeId | null = null;
  private tickCount = 0;
  private electionDeadlineTick: number;
  private highestRoundSeen = 0;
  private campaign: Campaign | null = null;
  private leadership: Leadership<Q> | null = null;
  /** Slots a leader said are chosen (in this ballot) whose values this node lacks. */
  private readonly pendingDecided = new Map<number, Ballot>();

  /** Holes filled with no-ops, values re-proposed from phase 1, malformed messages dropped (this life). */
  noopsFilled = 0;
  adopted = 0;
  badMessages = 0;
  private fx: Fx | undefined;

  constructor(
    private readonly env: CoreEnv,
    durable: readonly PaxosPersistOp[],
    private readonly opts: PaxosOptions,
    private readonly machine: StateMachine<C, Q, R>,
  ) {
    this.id = env.id;
    this.peers = env.members.filter((m) => m !== env.id);
    this.quorums = resolveQuorums(env.members.length, opts.quorums);
    this.sessions = new SessionTable(opts.maxSessions);
    this.acceptor = new MultiAcceptor(env.id, opts.observer);
    this.replay(durable);
    this.electionDeadlineTick = this.randomTimeoutTicks();
  }

  // ================================================================ host entry points

  start(fx: Fx): void {
    this.run(fx, () => {});
  }

  handleMessage(from: NodeId, raw: PaxosMessage, fx: Fx): void {
    this.run(fx, () => {
      if (from === this.id || !this.peers.includes(from)) return this.dropBad(from, 'not a peer of this group');
      const parsed = parsePaxosMessage(from, raw);
      if ('problem' in parsed) return this.dropBad(from, parsed.problem);
      this.step(from, parsed.msg);
    });
  }

  handleTick(fx: Fx): void {
    this.run(fx, () => this.tick());
  }

  handleRequest(requestId: string, request: PaxosRequest, fx: Fx): void {
    this.run(fx, () => this.request(requestId, request));
  }

  /** Every call ends the same way: send the accepts it queued, apply what is known chosen, describe the state. */
  private run(fx: Fx, body: () => void): void {
    this.fx = fx;
    try {
      body();
      this.flushAccepts();
      this.applyChosen();
      this.annotate();
    } finally {
      this.fx = undefined;
    }
  }

  private get out(): Fx {
    assertInvariant(this.fx !== undefined, () => `node ${this.id}: effects used outside a host call`);
    return this.fx;
  }

  private persist = (op: PaxosPersistOp): void => this.out.persist(op);

  private dropBad(from: NodeId, problem: string): void {
    this.badMessages++;
    this.out.annotate('lastBadMessage', `${from}: ${problem}`);
  }

  // ================================================================ inspection

  status(): PaxosStatus {
    const L = this.leadership;
    return {
      id: this.id,
      role: this.role,
      ballot: this.ownBallot(),
      promised: this.acceptor.promised,
      leader: this.leaderId,
      known: this.log.known,
      applied: this.applied,
      nextSlot: L?.nextSlot ?? 0,
      snapshotSlot: this.snapshot.slot,
      ready: this.isReady(),
      quorums: this.quorums,
    };
  }

  /** The value known chosen at `slot` (undefined: unknown here, or compacted). */
  chosenAt(slot: number): PaxosValue | undefined {
    return this.log.get(slot)?.value;
  }

  /** What this node's acceptor accepted at `slot`. */
  acceptedAt(slot: number): { readonly ballot: Ballot; readonly value: PaxosValue } | undefined {
    return this.acceptor.at(slot);
  }

  /** Answers a read against this node's applied state (not linearizable: for tests and tools). */
  queryLocal(query: Q): R {
    return this.machine.query(query);
  }

  machineSnapshot(): JsonValue {
    return this.machine.snapshot();
  }

  private ownBallot(): Ballot | null {
    return this.leadership?.ballot ?? this.campaign?.ballot ?? null;
  }

  private isReady(): boolean {
    const L = this.leadership;
    return L !== null && this.log.known >= L.recoveryEnd && this.log.known >= L.needSnapshotThrough;
  }

  // ================================================================ restart

  private replay(durable: readonly PaxosPersistOp[]): void {
    let snapshot: { slot: number; data: JsonValue } | undefined;
    for (const op of durable) {
      this.acceptor.replay(op);
      if (op.kind === 'snapshot') snapshot = { slot: op.slot, data: op.data };
    }
    this.highestRoundSeen = this.acceptor.promised.round;
    if (snapshot !== undefined && snapshot.slot > 0) {
      const payload = parseSnapshotPayload(snapshot.data);
      if (payload === undefined) throw new PaxosError('BAD_DURABLE_STATE', `node ${this.id}: the stored snapshot of slot ${snapshot.slot} is not {machine, sessions}`);
      this.machine.restore(payload.machine);
      this.sessions.restore(payload.sessions);
      this.snapshot = snapshot;
      this.applied = snapshot.slot;
      this.log.installed(snapshot.slot);
    }
    this.opts.observer?.recovered?.(this.id, { promised: this.acceptor.promised, accepted: this.acceptor.ballots(), snapshotSlot: this.acceptor.snapshotSlot });
  }

  // ================================================================ timers and roles

  private randomTimeoutTicks(): number {
    const { electionTimeoutMinTicks: min, electionTimeoutMaxTicks: max } = this.opts;
    if (this.opts.backoff === 'none') return this.tickCount + min;
    return this.tickCount + min + Math.floor(this.env.random() * (max - min + 1));
  }

  private tick(): void {
    this.tickCount++;
    if (this.role === 'leader') return this.tickLeader();
    const deadline = this.role === 'candidate' ? (this.campaign as Campaign).deadlineTick : this.electionDeadlineTick;
    if (this.tickCount >= deadline) this.startCampaign();
  }

  /** A leader of `ballot`'s message arrived: follow it. */
  private follow(from: NodeId, ballot: Ballot): void {
    const own = this.ownBallot();
    if (own !== null && compareBallots(ballot, own) > 0) this.stepDown(false);
    if (this.role !== 'follower') return; // a leader or candidate of a ballot at least as high: not ours to follow
    this.leaderId = from;
    this.electionDeadlineTick = this.randomTimeoutTicks();
  }

  /**
   * Stops leading or campaigning: every request waiting is answered (its command may still be
   * chosen by the next leader, so leadership-lost), and the election timer starts again. A
   * rejected ballot with backoff `none` campaigns again at once.
   */
  private stepDown(rejected: boolean): void {
    const L = this.leadership;
    if (L !== null) {
      for (const w of L.waiting.values()) this.reply(w.requestId, this.failure('leadership-lost'));
      for (const r of L.reads) this.reply(r.requestId, this.failure('not-leader'));
    }
    this.leadership = null;
    this.campaign = null;
    this.role = 'follower';
    this.leaderId = null;
    this.electionDeadlineTick = this.randomTimeoutTicks();
    if (rejected && this.opts.backoff === 'none') this.startCampaign();
  }

  /** Raises this node's own promise (a prepare or accept of a higher ballot): a lower own ballot is over. */
  private raisePromise(ballot: Ballot): void {
    if (!this.acceptor.promise(ballot, this.persist)) return;
    const own = this.ownBallot();
    if (own !== null && compareBallots(own, ballot) < 0) this.stepDown(false);
  }

  // ================================================================ phase 1

  /** Phase 1 for every slot above what this node knows chosen, with a ballot above every round seen. */
  private startCampaign(): void {
    if (this.leadership !== null) this.stepDown(false);
    const ballot: Ballot = { round: Math.max(this.highestRoundSeen, this.acceptor.promised.round) + 1, node: this.id };
    this.highestRoundSeen = ballot.round;
    // the node's own acceptor promises first: written before any prepare leaves, so a restart never reuses the ballot
    this.acceptor.promise(ballot, this.persist);
    this.role = 'candidate';
    this.leaderId = null;
    const fromSlot = this.log.known;
    const campaign: Campaign = {
      ballot,
      fromSlot,
      promises: new Map([[this.id, { snapshotSlot: this.acceptor.snapshotSlot, known: this.log.known, accepted: this.acceptor.acceptedAbove(fromSlot) }]]),
      deadlineTick: this.randomTimeoutTicks(),
    };
    this.campaign = campaign;
    for (const peer of this.peers) this.out.send(peer, { type: 'prepare', ballot, fromSlot });
    if (campaign.promises.size >= this.quorums.phase1) this.becomeLeader();
  }

  private handlePrepare(from: NodeId, msg: Msg<'prepare'>): void {
    if (compareBallots(msg.ballot, this.acceptor.promised) < 0) return this.out.send(from, { type: 'reject', ballot: msg.ballot, promised: this.acceptor.promised });
    this.raisePromise(msg.ballot);
    // give the candidate time to finish phase 1 before campaigning here
    if (this.role === 'follower') {
      this.leaderId = null;
      this.electionDeadlineTick = this.randomTimeoutTicks();
    }
    const above = Math.max(msg.fromSlot, this.acceptor.snapshotSlot);
    this.out.send(from, { type: 'promise', ballot: msg.ballot, snapshotSlot: this.acceptor.snapshotSlot, known: this.log.known, accepted: this.acceptor.acceptedAbove(above) });
  }

  private handlePromise(from: NodeId, msg: Msg<'promise'>): void {
    this.opts.observer?.heardPromise?.(this.id, from, msg.ballot);
    const c = this.campaign;
    if (c === null || !sameBallot(msg.ballot, c.ballot)) return;
    if (msg.accepted.some((a) => a.slot > c.fromSlot + MAX_LIST)) return this.dropBad(from, `promise: an acceptance more than ${MAX_LIST} slots ahead`);
    c.promises.set(from, { snapshotSlot: msg.snapshotSlot, known: msg.known, accepted: msg.accepted });
    if (c.promises.size >= this.quorums.phase1) this.becomeLeader();
  }

  /**
   * Phase 1 reached |Q1|: this node leads. Above what is chosen, each slot gets the value of the
   * highest-ballot acceptance reported (it may have been chosen), or a no-op where nobody in the
   * quorum accepted anything (nothing was chosen there); all are proposed again in this ballot.
   */
  private becomeLeader(): void {
    const c = this.campaign as Campaign;
    this.campaign = null;
    this.role = 'leader';
    this.leaderId = this.id;
    let floor = this.log.known;
    let floorPeer: NodeId | null = null;
    const highest = new Map<number, AcceptedEntry>();
    for (const [node, p] of c.promises) {
      if (p.snapshotSlot > floor) {
        floor = p.snapshotSlot;
        floorPeer = node;
      }
      for (const a of p.accepted) {
        const before = highest.get(a.slot);
        if (before === undefined || compareBallots(a.ballot, before.ballot) > 0) highest.set(a.slot, a);
      }
    }
    let maxSlot = Math.max(floor, this.log.highest);
    for (const slot of highest.keys()) if (slot > maxSlot) maxSlot = slot;
    const L: Leadership<Q> = {
      ballot: c.ballot,
      nextSlot: maxSlot + 1,
      recoveryEnd: maxSlot,
      proposals: new Map(),
      waiting: new Map(),
      peers: new Map(this.peers.map((peer) => [peer, { known: c.promises.get(peer)?.known ?? 0, snapshotSlot: c.promises.get(peer)?.snapshotSlot ?? 0, ackedRound: 0, lastHeardTick: this.tickCount, snapshotTick: -Infinity }])),
      outgoing: [],
      round: 0,
      confirmedRound: 0,
      reads: [],
      checkQuorumTick: this.tickCount,
      needSnapshotThrough: floor,
      snapshotReqTick: -Infinity,
    };
    this.leadership = L;
    const recovered: SlotValue[] = [];
    for (let slot = floor + 1; slot <= maxSlot; slot++) {
      if (this.log.has(slot)) continue;
      const a = highest.get(slot);
      if (a === undefined) this.noopsFilled++;
      else this.adopted++;
      recovered.push({ slot, value: a === undefined ? NOOP : a.value });
    }
    this.opts.observer?.becameLeader?.(this.id, L.ballot);
    if (recovered.length > 0) {
      this.acceptor.accept(L.ballot, recovered, this.persist);
      for (const r of recovered) L.proposals.set(r.slot, { value: r.value, acks: new Set([this.id]), sentTick: this.tickCount });
      L.outgoing.push(...recovered);
    }
    if (floorPeer !== null && floor > this.log.known) this.requestSnapshot(floorPeer);
    this.startRound();
    for (const slot of [...L.proposals.keys()]) this.maybeChosen(slot);
  }

  // ================================================================ phase 2

  private handleAccept(from: NodeId, msg: Msg<'accept'>): void {
    if (compareBallots(msg.ballot, this.acceptor.promised) < 0) return this.out.send(from, { type: 'reject', ballot: msg.ballot, promised: this.acceptor.promised });
    if (msg.entries.some((e) => e.slot > this.log.known + MAX_LIST)) return this.dropBad(from, `accept: a slot more than ${MAX_LIST} ahead of what is known`);
    this.follow(from, msg.ballot);
    const slots = this.acceptor.accept(msg.ballot, msg.entries, this.persist);
    this.learnDecided(msg.decided);
    this.out.send(from, { type: 'accepted', ballot: msg.ballot, slots, known: this.log.known, snapshotSlot: this.acceptor.snapshotSlot, need: this.needed() });
  }

  private handleAccepted(from: NodeId, msg: Msg<'accepted'>): void {
    for (const slot of msg.slots) this.opts.observer?.heardAccepted?.(this.id, from, slot, msg.ballot);
    const L = this.leadership;
    if (L === null || !sameBallot(msg.ballot, L.ballot)) return;
    const peer = this.progressOf(L, from, msg.known, msg.snapshotSlot);
    for (const slot of msg.slots) {
      const p = L.proposals.get(slot);
      if (p === undefined) continue;
      p.acks.add(from);
      this.maybeChosen(slot);
    }
    this.afterReport(L, from, peer, msg.need);
  }

  private maybeChosen(slot: number): void {
    const L = this.leadership;
    const p = L?.proposals.get(slot);
    if (L === null || p === undefined || p.acks.size < this.quorums.phase2) return;
    L.proposals.delete(slot);
    this.learn(slot, L.ballot, p.value);
  }

  private handleReject(from: NodeId, msg: Msg<'reject'>): void {
    this.opts.observer?.heardPromise?.(this.id, from, msg.promised);
    if (msg.promised.round > this.highestRoundSeen) this.highestRoundSeen = msg.promised.round;
    const own = this.ownBallot();
    if (own !== null && sameBallot(msg.ballot, own) && compareBallots(msg.promised, own) > 0) this.stepDown(true);
  }

  // ================================================================ learning

  private learn(slot: number, ballot: Ballot, value: PaxosValue): void {
    const outcome = this.log.learn(slot, ballot, value);
    if (outcome === 'same' || outcome === 'compacted') return;
    this.pendingDecided.delete(slot);
    // learned some other way (a snapshot's neighbour, a peer's values): no longer proposed here
    this.leadership?.proposals.delete(slot);
    // a conflict is reported too: the monitors see a learner told two values
    this.opts.observer?.learned?.(this.id, slot, value as unknown as JsonValue);
    if (outcome === 'conflict') this.out.annotate('lastBadMessage', `slot ${slot}: told ${describeValue(value)}, which is not the value learned there`);
  }

  /** A leader's decided ranges: learn what this node accepted in that ballot, remember the rest as needed. */
  private learnDecided(ranges: readonly DecidedRange[]): void {
    for (const r of ranges) {
      const end = Math.min(r.to, this.log.known + MAX_SPAN);
      for (let slot = Math.max(r.from, this.log.known + 1); slot <= end; slot++) {
        if (this.log.has(slot)) continue;
        const a = this.acceptor.at(slot);
        if (a !== undefined && sameBallot(a.ballot, r.ballot)) this.learn(slot, r.ballot, a.value);
        else if (this.pendingDecided.size < MAX_SPAN) this.pendingDecided.set(slot, r.ballot);
      }
    }
  }

  /** Chosen slots this node lacks values for (the lowest first), to ask the leader. */
  private needed(): number[] {
    if (this.pendingDecided.size === 0) return [];
    const out: number[] = [];
    for (const slot of this.pendingDecided.keys()) {
      if (this.log.has(slot)) this.pendingDecided.delete(slot);
      else out.push(slot);
    }
    return out.sort((a, b) => a - b).slice(0, MAX_NEED);
  }

  private handleValues(msg: Msg<'values'>): void {
    for (const e of msg.entries) this.learn(e.slot, e.ballot, e.value);
  }

  // ================================================================ heartbeats, progress, catch-up

  private handleHeartbeat(from: NodeId, msg: Msg<'heartbeat'>): void {
    if (compareBallots(msg.ballot, this.acceptor.promised) < 0) return this.out.send(from, { type: 'reject', ballot: msg.ballot, promised: this.acceptor.promised });
    this.follow(from, msg.ballot);
    this.learnDecided(msg.decided);
    this.out.send(from, { type: 'heartbeatResp', ballot: msg.ballot, round: msg.round, known: this.log.known, snapshotSlot: this.acceptor.snapshotSlot, need: this.needed() });
  }

  private handleHeartbeatResp(from: NodeId, msg: Msg<'heartbeatResp'>): void {
    const L = this.leadership;
    if (L === null || !sameBallot(msg.ballot, L.ballot)) return;
    const peer = this.progressOf(L, from, msg.known, msg.snapshotSlot);
    if (msg.round > peer.ackedRound) {
      peer.ackedRound = Math.min(msg.round, L.round);
      this.confirmReads(L);
    }
    this.afterReport(L, from, peer, msg.need);
  }

  private progressOf(L: Leadership<Q>, from: NodeId, known: number, snapshotSlot: number): PeerProgress {
    const peer = L.peers.get(from) as PeerProgress;
    peer.known = known;
    peer.snapshotSlot = snapshotSlot;
    peer.lastHeardTick = this.tickCount;
    return peer;
  }

  /** A peer reported: send the values it lacks, a snapshot if it is behind what is held, or fetch its snapshot if this leader is. */
  private afterReport(L: Leadership<Q>, from: NodeId, peer: PeerProgress, need: readonly number[]): void {
    if (need.length > 0) {
      const entries: AcceptedEntry[] = [];
      for (const slot of need) {
        const c = this.log.get(slot);
        if (c !== undefined) entries.push({ slot, ballot: c.ballot, value: c.value });
        if (entries.length >= this.opts.maxValuesPerMessage) break;
      }
      if (entries.length > 0) this.out.send(from, { type: 'values', entries });
    }
    if (peer.known + 1 < this.log.low && this.snapshot.slot > peer.known && this.tickCount - peer.snapshotTick >= this.opts.snapshotResendTicks) {
      peer.snapshotTick = this.tickCount;
      this.out.send(from, { type: 'snapshot', slot: this.snapshot.slot, data: this.snapshot.data });
    }
    if (peer.snapshotSlot > this.log.known) {
      if (peer.snapshotSlot > L.needSnapshotThrough) L.needSnapshotThrough = peer.snapshotSlot;
      if (this.tickCount - L.snapshotReqTick >= this.opts.snapshotResendTicks) this.requestSnapshot(from);
    }
  }

  private requestSnapshot(from: NodeId): void {
    const L = this.leadership;
    if (L !== null) L.snapshotReqTick = this.tickCount;
    this.out.send(from, { type: 'snapshotReq' });
  }

  private handleSnapshotReq(from: NodeId): void {
    if (this.snapshot.slot > 0) this.out.send(from, { type: 'snapshot', slot: this.snapshot.slot, data: this.snapshot.data });
  }

  private handleSnapshot(from: NodeId, msg: Msg<'snapshot'>): void {
    if (msg.slot <= this.applied) return;
    const payload = parseSnapshotPayload(msg.data);
    if (payload === undefined) return this.dropBad(from, 'snapshot: data must be {machine, sessions}');
    const before = { machine: this.machine.snapshot(), sessions: this.sessions.toJson() };
    try {
      this.machine.restore(payload.machine);
      this.sessions.restore(payload.sessions);
    } catch (err) {
      this.machine.restore(before.machine);
      this.sessions.restore(before.sessions);
      return this.dropBad(from, `snapshot: ${err instanceof Error ? err.message : 'cannot be restored'}`);
    }
    this.installSnapshot(msg.slot, msg.data);
  }

  /** The state machine already holds the state after `slot`: everything up to it is chosen and applied. */
  private installSnapshot(slot: number, data: JsonValue): void {
    this.applied = slot;
    this.snapshot = { slot, data };
    this.acceptor.compact(slot);
    this.log.installed(slot);
    for (const s of this.pendingDecided.keys()) if (s <= slot) this.pendingDecided.delete(s);
    const L = this.leadership;
    if (L !== null) {
      for (const s of [...L.proposals.keys()]) if (s <= slot) L.proposals.delete(s);
      for (const [s, w] of [...L.waiting]) {
        if (s > slot) continue;
        L.waiting.delete(s);
        this.reply(w.requestId, this.failure('leadership-lost'));
      }
      if (L.nextSlot <= slot) L.nextSlot = slot + 1;
    }
    this.persistSnapshot();
    this.opts.observer?.snapshotInstalled?.(this.id, slot);
  }

  private persistSnapshot(): void {
    const s = this.snapshot;
    this.out.persist({ kind: 'snapshot', slot: s.slot, data: s.data, promised: this.acceptor.promised, accepted: this.acceptor.acceptedAbove(s.slot) });
  }

  // ================================================================ the leader's work

  private tickLeader(): void {
    const L = this.leadership as Leadership<Q>;
    if (this.opts.checkQuorum && this.tickCount - L.checkQuorumTick >= this.opts.electionTimeoutMaxTicks) {
      const heard = [...L.peers.values()].filter((p) => p.lastHeardTick > L.checkQuorumTick).length;
      if (heard + 1 < this.quorums.phase2) return this.stepDown(false);
      L.checkQuorumTick = this.tickCount;
    }
    if (this.tickCount % this.opts.heartbeatTicks === 0) this.startRound();
    this.retransmit(L);
    if (this.log.known < L.needSnapshotThrough && this.tickCount - L.snapshotReqTick >= this.opts.snapshotResendTicks) {
      const source = [...L.peers].find(([, p]) => p.snapshotSlot >= L.needSnapshotThrough)?.[0];
      if (source !== undefined) this.requestSnapshot(source);
    }
    const expireBefore = this.tickCount - 2 * this.opts.electionTimeoutMaxTicks;
    for (let i = L.reads.length - 1; i >= 0; i--) {
      const r = L.reads[i] as PendingRead<Q>;
      if (r.arrivedTick > expireBefore) continue;
      L.reads.splice(i, 1);
      this.reply(r.requestId, this.failure('timeout'));
    }
  }

  /** A heartbeat to every peer: leadership, decisions, and a read round (reads not yet in one join it). */
  private startRound(): void {
    const L = this.leadership as Leadership<Q>;
    L.round++;
    for (const r of L.reads) if (r.round === 0) r.round = L.round;
    for (const peer of this.peers) this.out.send(peer, { type: 'heartbeat', ballot: L.ballot, round: L.round, decided: this.decidedFor(L, peer) });
    this.confirmReads(L);
  }

  private decidedFor(L: Leadership<Q>, peer: NodeId): DecidedRange[] {
    const p = L.peers.get(peer) as PeerProgress;
    if (p.known >= this.log.highest) return [];
    return this.log.ranges(p.known + 1, this.opts.maxDecidedRanges, MAX_SPAN);
  }

  /** Accepts not yet acknowledged by a quorum go again to the peers that did not acknowledge them. */
  private retransmit(L: Leadership<Q>): void {
    if (L.proposals.size === 0) return;
    const due = this.tickCount - this.opts.retransmitTicks;
    const stale: [number, Proposal][] = [];
    for (const entry of L.proposals) if (entry[1].sentTick <= due) stale.push(entry);
    if (stale.length === 0) return;
    stale.sort((a, b) => a[0] - b[0]);
    for (const peer of this.peers) {
      const entries: SlotValue[] = [];
      for (const [slot, p] of stale) {
        if (p.acks.has(peer)) continue;
        entries.push({ slot, value: p.value });
        if (entries.length >= this.opts.maxEntriesPerAccept) break;
      }
      if (entries.length > 0) this.out.send(peer, { type: 'accept', ballot: L.ballot, entries, decided: this.decidedFor(L, peer) });
    }
    for (const [, p] of stale.slice(0, this.opts.maxEntriesPerAccept)) p.sentTick = this.tickCount;
  }

  /** Sends the accepts of this call, batched, to every peer. */
  private flushAccepts(): void {
    const L = this.leadership;
    if (L === null || L.outgoing.length === 0) return;
    const entries = L.outgoing;
    L.outgoing = [];
    for (const peer of this.peers) {
      for (let i = 0; i < entries.length; i += this.opts.maxEntriesPerAccept) {
        this.out.send(peer, { type: 'accept', ballot: L.ballot, entries: entries.slice(i, i + this.opts.maxEntriesPerAccept), decided: i === 0 ? this.decidedFor(L, peer) : [] });
      }
    }
  }

  /** Phase 2 for a new value in the next free slot; `requestId` is answered once the slot is applied. */
  private propose(value: PaxosValue, requestId: string | null): number {
    const L = this.leadership as Leadership<Q>;
    const slot = L.nextSlot++;
    this.acceptor.accept(L.ballot, [{ slot, value }], this.persist);
    L.proposals.set(slot, { value, acks: new Set([this.id]), sentTick: this.tickCount });
    if (requestId !== null) L.waiting.set(slot, { requestId, value });
    L.outgoing.push({ slot, value });
    this.maybeChosen(slot);
    return slot;
  }

  // ================================================================ reads

  private handleRead(requestId: string, raw: JsonValue): void {
    const L = this.leadership;
    if (L === null) return this.reply(requestId, this.notLeader());
    const decoded = this.machine.decodeQuery(raw);
    if (!decoded.ok) return this.reply(requestId, this.failure('bad-request', decoded.problem));
    if (L.reads.length >= this.opts.maxPendingReads) return this.reply(requestId, this.failure('overloaded'));
    L.reads.push({ requestId, query: decoded.value, readSlot: L.nextSlot - 1, round: 0, confirmed: false, arrivedTick: this.tickCount });
    // a read waits for a round started after it arrived; one starts now unless a round is in flight
    if (L.confirmedRound >= L.round) this.startRound();
  }

  /**
   * The highest round a quorum (|Q2|, this node included) has answered: no acceptor of that
   * quorum had promised a higher ballot when it answered, so no later leader had finished phase 1
   * (its |Q1| would meet this quorum) and nothing was chosen that this leader does not propose.
   */
  private confirmReads(L: Leadership<Q>): void {
    const acked = [...L.peers.values()].map((p) => p.ackedRound).sort((a, b) => b - a);
    const confirmed = this.quorums.phase2 <= 1 ? L.round : (acked[this.quorums.phase2 - 2] ?? 0);
    if (confirmed <= L.confirmedRound) return;
    L.confirmedRound = confirmed;
    let unassigned = false;
    for (const r of L.reads) {
      if (r.round !== 0 && r.round <= confirmed) r.confirmed = true;
      else if (r.round === 0) unassigned = true;
    }
    if (unassigned && L.confirmedRound >= L.round) this.startRound();
  }

  private serveReads(): void {
    const L = this.leadership;
    if (L === null || L.reads.length === 0) return;
    for (let i = 0; i < L.reads.length; ) {
      const r = L.reads[i] as PendingRead<Q>;
      if (!r.confirmed || this.applied < r.readSlot) {
        i++;
        continue;
      }
      L.reads.splice(i, 1);
      this.reply(r.requestId, { ok: true, result: this.machine.query(r.query), index: r.readSlot });
    }
  }

  // ================================================================ client requests

  private request(requestId: string, req: PaxosRequest): void {
    const problem = paxosRequestProblem(req);
    if (problem !== null) return this.reply(requestId, this.failure('bad-request', problem));
    switch (req.type) {
      case 'status':
        return this.reply(requestId, { ok: true, status: this.status() });
      case 'snapshot':
        if (this.applied > this.snapshot.slot) this.takeSnapshot();
        return this.reply(requestId, { ok: true, result: { snapshotSlot: this.snapshot.slot }, index: this.snapshot.slot });
      case 'campaign':
        if (this.role !== 'leader') this.startCampaign();
        return this.reply(requestId, { ok: true, status: this.status() });
      case 'read':
        return this.handleRead(requestId, req.op);
      case 'command': {
        const L = this.leadership;
        if (L === null) return this.reply(requestId, this.notLeader());
        const decoded = this.machine.decodeCommand(req.op);
        if (!decoded.ok) return this.reply(requestId, this.failure('bad-request', decoded.problem));
        const refused = this.machine.admitCommand?.(decoded.value) ?? null;
        if (refused !== null) return this.reply(requestId, this.failure('bad-request', refused));
        if (L.proposals.size >= this.opts.maxPendingProposals) return this.reply(requestId, this.failure('overloaded'));
        this.propose({ kind: 'command', clientId: req.clientId, seq: req.seq, op: req.op }, requestId);
        return;
      }
    }
  }

  private notLeader(): PaxosResponse {
    return { ok: false, error: 'not-leader', leaderHint: this.leaderId !== this.id ? this.leaderId : null };
  }

  private failure(error: PaxosErrorReason, message?: string): PaxosResponse {
    const leaderHint = this.leaderId !== this.id ? this.leaderId : null;
    return message === undefined ? { ok: false, error, leaderHint } : { ok: false, error, leaderHint, message };
  }

  private reply(requestId: string, response: PaxosResponse): void {
    this.out.reply(requestId, response);
  }

  // ================================================================ applying and snapshots

  private applyChosen(): void {
    while (this.applied < this.log.known) {
      const slot = this.applied + 1;
      const chosen = this.log.get(slot);
      assertInvariant(chosen !== undefined, () => `node ${this.id}: slot ${slot} is known chosen but its value is not held (${this.log.describe()})`);
      const v = chosen.value;
      const entry = { index: slot, term: chosen.ballot.round, kind: v.kind, data: v.kind === 'noop' ? null : { clientId: v.clientId, seq: v.seq, op: v.op } } as const;
      const outcome = applyEntry(entry, this.machine, this.sessions);
      this.applied = slot;
      this.opts.observer?.applied?.(this.id, slot, v as unknown as JsonValue);
      const w = this.leadership?.waiting.get(slot);
      if (w === undefined) continue;
      (this.leadership as Leadership<Q>).waiting.delete(slot);
      if (!sameValue(w.value, v)) this.reply(w.requestId, this.failure('leadership-lost'));
      else if (outcome.kind === 'stale') this.reply(w.requestId, this.failure('stale-session'));
      else this.reply(w.requestId, { ok: true, result: outcome.value, index: slot });
    }
    this.serveReads();
    const threshold = this.opts.snapshotThresholdSlots;
    if (threshold > 0 && this.applied - this.snapshot.slot >= threshold) this.takeSnapshot();
  }

  /** Snapshots the state machine at the applied slot and compacts everything up to it. */
  private takeSnapshot(): void {
    const slot = this.applied;
    const payload: SnapshotPayload = { machine: this.machine.snapshot(), sessions: this.sessions.toJson() };
    this.snapshot = { slot, data: payload as unknown as JsonValue };
    this.acceptor.compact(slot);
    this.log.compactBelow(slot + 1 - this.opts.snapshotCatchUpSlots);
    this.persistSnapshot();
  }

  // ================================================================ messages

  private step(from: NodeId, msg: PaxosMessage): void {
    switch (msg.type) {
      case 'prepare':
        return this.handlePrepare(from, msg);
      case 'promise':
        return this.handlePromise(from, msg);
      case 'accept':
        return this.handleAccept(from, msg);
      case 'accepted':
        return this.handleAccepted(from, msg);
      case 'reject':
        return this.handleReject(from, msg);
      case 'heartbeat':
        return this.handleHeartbeat(from, msg);
      case 'heartbeatResp':
        return this.handleHeartbeatResp(from, msg);
      case 'values':
        return this.handleValues(msg);
      case 'snapshotReq':
        return this.handleSnapshotReq(from);
      case 'snapshot':
        return this.handleSnapshot(from, msg);
    }
  }

  // ================================================================ annotations

  private annotate(): void {
    const fx = this.out;
    const own = this.ownBallot();
    fx.annotate('role', this.role);
    // `term` orders leaders for the nemesis and the visualizer: the ballot's round
    fx.annotate('term', (own ?? this.acceptor.promised).round);
    fx.annotate('ballot', own === null ? null : ballotText(own));
    fx.annotate('promised', ballotText(this.acceptor.promised));
    fx.annotate('leader', this.leaderId);
    fx.annotate('known', this.log.known);
    fx.annotate('applied', this.applied);
    fx.annotate('nextSlot', this.leadership?.nextSlot ?? 0);
    fx.annotate('snapshotSlot', this.snapshot.slot);
    fx.annotate('ready', this.isReady());
    fx.annotate('noops', this.noopsFilled);
    fx.annotate('adopted', this.adopted);
    if (this.badMessages > 0) fx.annotate('badMessages', this.badMessages);
  }
}

/** The state machine and client sessions a snapshot holds, or undefined when `data` is not one. */
export function parseSnapshotPayload(data: JsonValue): SnapshotPayload | undefined {
  if (!isRecord(data) || !('machine' in data) || !Array.isArray(data['sessions'])) return undefined;
  return { machine: data['machine'] as JsonValue, sessions: data['sessions'] as JsonValue };
}
