// One node of the leaderless (Dynamo-style) store, sans-I/O: a replica of the partitions the ring
// gives it, and a coordinator for any request a client sends it. Writes are coordinated by a home
// replica (it names the new version with its own dot), sent to the other home replicas — or, with
// sloppy quorum, to stand-ins that keep a hint — and acknowledged after W durable copies; reads
// merge R answers and repair stale replicas. Hints are delivered when their target is heard from
// again; anti-entropy compares key digests per partition; tombstones are collected after a grace
// period once every home replica holds them. Membership changes move partitions by streaming
// them from their current homes to their new ones, writing to both rings until the claimant
// commits the new one (membership.ts).
import { assertInvariant, type CoreEnv, type Effects, type NodeId, type ProtocolCore } from '../core/index.js';
import { HybridLogicalClock, formatPackedHlc, parsePackedHlc } from '../clock/index.js';
import { murmur3 } from '../ring/hash.js';
import type { PartitionRing } from '../ring/partition-ring.js';
import { positionOf, RING_SIZE } from '../ring/hash.js';
import { decodeContext, decodeKeyState, encodeContext } from './codec.js';
import { abortMessageFor, AntiEntropySession, isMerkleError, MerkleTree } from './merkle/index.js';
import { bucketType, quorumGossipConfig, stateKindOf, type QuorumConfig } from './config.js';
import { SwimNode } from '../gossip/swim.js';
import type { GossipMessage, GossipPersistOp, GossipResponse } from '../gossip/messages.js';
import { QuorumError } from './errors.js';
import { bootstrapRecord, claimantFor, claimantOf, commitRecord, decodeRingRecord, proposeJoin, proposeLeave, ringMembersOf, ringOfAssignment, ringOptions, type RingRecord } from './membership.js';
import type { Hint, QuorumMessage, QuorumPersistOp } from './messages.js';
import { bucketOfStoreKey, decodeQuorumRequest, replicasFor, storeKeyOf, type QuorumRequest, type QuorumResponse, type RingStatus } from './requests.js';
import {
  canonicalText,
  contextVv,
  EMPTY_COUNTER,
  EMPTY_DVV,
  EMPTY_ORSET,
  highestDotOf,
  incrementCounter,
  isTombstoneOnly,
  lwwWins,
  mergeStates,
  orSetAdd,
  orSetRemove,
  readView,
  writeDvv,
  type Dot,
  type KeyState,
  type LwwState,
} from './versions.js';

type Fx = Effects<QuorumMessage, QuorumPersistOp, QuorumResponse>;
type SwimFx = Effects<GossipMessage, GossipPersistOp, GossipResponse>;
type WriteRequest = Exclude<QuorumRequest, { op: 'get' } | { op: 'anti-entropy' } | { op: 'ring-join' } | { op: 'ring-leave' } | { op: 'ring-status' }>;
type RingChange = Extract<QuorumRequest, { op: 'ring-join' } | { op: 'ring-leave' }>;

/** Hints offered per retry round, anti-entropy digests per message, keys per pull: bounds on one tick's work. */
const HINTS_PER_ROUND = 64;
const MAX_PULL_KEYS = 500;
/** Anti-entropy exchanges open at once (either side), and how long one may take before it is dropped. */
const MAX_AE_SESSIONS = 64;
const AE_SESSION_TIMEOUT_FACTOR = 10;
const MAX_PENDING = 10_000;
const TOMB_CHECKS_PER_ROUND = 32;
/** Streaming transfer: keys per batch, batches in flight per node, and how long after a commit a former home keeps what it handed off (for nodes that have not heard of the commit yet), in suspectAfterMs. */
const HANDOFF_BATCH_KEYS = 100;
const HANDOFF_BATCH_CHARS = 1 << 20;
const HANDOFF_IN_FLIGHT = 4;
const RING_SETTLE_FACTOR = 3;
/** How long (in request timeouts) strays wait for a newer ring a peer showed before this node stops waiting for its record. */
const BEHIND_HOLD_FACTOR = 20;

/** Where an answer goes: the host's client request, or the node that forwarded it. */
type Origin = { readonly kind: 'client'; readonly requestId: string } | { readonly kind: 'peer'; readonly node: NodeId; readonly rid: string };

/** Home replicas of which a write needs `needed` acknowledgements: one group, or two (current and next ring) while the ring changes. */
interface AckGroup {
  readonly homes: readonly NodeId[];
  readonly needed: number;
}

interface PendingWrite {
  readonly kind: 'write';
  readonly origin: Origin;
  readonly key: string;
  readonly state: KeyState;
  readonly dot: Dot | null;
  readonly groups: readonly AckGroup[];
  readonly acks: Set<NodeId>;
  /** Node asked -> the home replica it stands in for (itself when it is one). */
  readonly asked: Map<NodeId, NodeId>;
  readonly deadlineMs: number;
  replied: boolean;
}

interface PendingRead {
  readonly kind: 'read';
  readonly origin: Origin;
  readonly key: string;
  readonly needed: number;
  readonly asked: readonly NodeId[];
  readonly answers: Map<NodeId, KeyState | null>;
  readonly deadlineMs: number;
  replied: boolean;
}

interface PendingForward {
  readonly kind: 'forward';
  readonly origin: Origin;
  readonly request: WriteRequest | RingChange;
  readonly homes: readonly NodeId[];
  /** Home replicas asked so far, in order. */
  readonly tried: readonly NodeId[];
  readonly deadlineMs: number;
}

type Pending = PendingWrite | PendingRead | PendingForward;

/** One partition streamed from this node (a current home) to one new home while the ring changes. */
interface HandoffStream {
  readonly partition: number;
  readonly receiver: NodeId;
  /** The partition's keys here when the change began, sorted; `at` of them are acknowledged. */
  readonly keys: readonly string[];
  at: number;
  /** Keys changed after the stream started (sent again after the list, and at commit told apart from the rest). */
  readonly dirty: Set<string>;
  batch: { readonly xid: string; readonly keys: readonly string[]; readonly fromList: number; readonly sentMs: number } | undefined;
  done: boolean;
}

/** Keys this node holds for a partition it no longer owns, sent to the partition's homes; forgotten once all acknowledge. */
interface StrayBatch {
  readonly texts: ReadonlyMap<string, string>;
  readonly waiting: Set<NodeId>;
  readonly sentMs: number;
}
/** What the simulator's monitors and the visualizer may read of a node. */
export interface QuorumNodeView {
  readonly id: NodeId;
  keys(): readonly string[];
  stateOf(key: string): KeyState | undefined;
  hints(): readonly Hint[];
  isUp(peer: NodeId): boolean;
}

export class QuorumNode implements ProtocolCore<QuorumMessage, QuorumRequest, QuorumResponse, QuorumPersistOp>, QuorumNodeView {
  readonly id: NodeId;
  private readonly store = new Map<string, KeyState>();
  /** Local clock time at which a key became tombstone-only here (not replicated: each replica waits its own grace). */
  private readonly tombstoneSinceMs = new Map<string, number>();
  private readonly hintsById = new Map<string, Hint>();
  /** The ids of the hints kept for each key: reads and new hints look them up by key, not by scanning every hint. */
  private readonly hintIdsByKey = new Map<string, Set<string>>();
  private readonly pending = new Map<string, Pending>();
  private readonly lastHeardMs = new Map<NodeId, number>();
  private readonly tombAnswers = new Map<string, Set<NodeId>>();
  /** Forwarded writes taken, by "forwarder rid", until their deadline: a duplicated message must not apply the write twice. */
  private readonly forwardsTaken = new Map<string, number>();
  /** A Merkle tree per partition this node is a home replica of: digests of its keys (tombstone-only ones left out). */
  private readonly trees = new Map<number, MerkleTree>();
  /** Keys changed since their partition's tree was last brought up to date: hashed when an exchange needs the tree, not on every write. */
  private readonly dirtyKeys = new Map<number, Set<string>>();
  private readonly aeSessions = new Map<string, { readonly session: AntiEntropySession; readonly partition: number; readonly startedMs: number }>();
  /** The ring record (membership.ts) and the rings it names; undefined before this node joined one. */
  private record: RingRecord | undefined;
  private current: PartitionRing | undefined;
  private nextRing: PartitionRing | undefined;
  /** Partitions this node is a home replica of in the current ring (anti-entropy, trees). */
  private myPartitions: readonly number[] = [];
  /** ... and in the current or next ring: keys of any other partition are strays, sent on. */
  private owned = new Set<number>();
  /** Nodes this node pings: the host's members and every node the record names. */
  private peers: readonly NodeId[] = [];
  private adoptedAtMs = 0;
  private readonly streams = new Map<string, HandoffStream>();
  private readonly streamsOf = new Map<number, HandoffStream[]>();
  private readonly streamByXid = new Map<string, HandoffStream>();
  private streamsEpoch = -1;
  private keysSent = 0;
  /** Stray keys: 'forget' when a finished stream already carried them to every new home, else 'push'. */
  private readonly strays = new Map<string, 'forget' | 'push'>();
  private readonly strayBatches = new Map<string, StrayBatch>();
  /** The claimant's count of current members done handing off for the record's epoch. */
  private readonly doneBy = new Set<NodeId>();
  private readonly hlc: HybridLogicalClock;
  private readonly ridPrefix: string;
  private ridSeq = 0;
  private dotCounter = 0;
  private lastPingMs = -Infinity;
  /** When this node last ran (any input): a long gap means it was paused itself, not its peers. */
  private lastInputMs: number;
  /** From noticing its own pause until its next tick: what arrives now was sent before or during the pause. */
  private pausedBurst = false;
  private lastHintRoundMs = -Infinity;
  /** Under `liveness: 'swim'`: the gossip member that decides who is up, and the epochs each member was last answered about. */
  private readonly swim: SwimNode | undefined;
  private readonly epochAnswered = new Map<NodeId, string>();
  private lastEpochCheckMs = -Infinity;
  /** A newer ring epoch a peer showed in a write or hand-off, until this node has that record (strays wait meanwhile). */
  private behind: { readonly epoch: number; readonly untilMs: number } | undefined;
  private lastAntiEntropyMs: number;
  private antiEntropyTurn = 0;

  constructor(
    private readonly env: CoreEnv,
    private readonly config: QuorumConfig,
    durable: readonly QuorumPersistOp[],
  ) {
    this.id = env.id;
    this.hlc = new HybridLogicalClock({ now: () => env.now(), maxOffsetMs: config.maxClockOffsetMs });
    // a random prefix per life, so that an answer to a request of an earlier life is never taken for one of this life
    this.ridPrefix = Math.floor(env.random() * 2 ** 32).toString(36);
    this.lastAntiEntropyMs = env.now() + env.random() * config.antiEntropyIntervalMs;
    this.lastInputMs = env.now();
    // incarnations are not persisted: a restarted member refutes the death its peers hold with a higher one
    this.swim = config.liveness === 'swim' ? new SwimNode(env, quorumGossipConfig(config), []) : undefined;
    this.replay(durable);
    // a node its host starts outside the members (a joining node) waits for the record from its peers
    if (this.record === undefined && env.members.includes(this.id)) this.record = bootstrapRecord(env.members, config);
    this.placeBy(undefined);
  }

  // --- the view --------------------------------------------------------------------------

  keys(): readonly string[] {
    return [...this.store.keys()].sort();
  }

  stateOf(key: string): KeyState | undefined {
    return this.store.get(key);
  }

  hints(): readonly Hint[] {
    return [...this.hintsById.values()];
  }

  /** The current ring (the placement reads and writes use). */
  get ring(): PartitionRing {
    assertInvariant(this.current !== undefined, () => `node ${this.id} has not joined a ring`);
    return this.current;
  }

  /** The ring record, or undefined before this node joined. */
  ringRecord(): RingRecord | undefined {
    return this.record;
  }

  /** Keys held here for partitions this node owns in neither ring, not yet handed off. */
  strayCount(): number {
    return this.strays.size;
  }

  isUp(peer: NodeId): boolean {
    if (peer === this.id) return true;
    if (this.swim !== undefined) {
      // a member gossip has not heard of yet (this node just started) counts as up, as heartbeats assume at start
      const state = this.swim.member(peer)?.state;
      return state === undefined || state === 'alive';
    }
    const heard = this.lastHeardMs.get(peer);
    return heard !== undefined && this.env.now() - heard < this.config.suspectAfterMs;
  }

  /** The key's preference list in the current ring: its N home replicas first, then stand-ins. */
  preferenceList(storeKey: string, n = this.config.replicas): NodeId[] {
    return this.ring.preferenceListAt(positionOf(storeKey), n + this.config.standIns);
  }

  /** The key's home replicas in the ring being moved to, while the ring changes (else none). */
  nextHomes(storeKey: string, n = this.config.replicas): NodeId[] {
    return this.nextRing === undefined ? [] : this.nextRing.preferenceListAt(positionOf(storeKey), n);
  }

  // --- inputs ----------------------------------------------------------------------------

  start(fx: Fx): void {
    if (this.swim !== undefined) {
      this.swim.start(this.swimFx(fx));
      this.announceEpoch(fx);
    }
    const now = this.env.now();
    // assume every peer up until it fails to answer: a restarted node serves at once
    for (const m of this.peers) this.lastHeardMs.set(m, now);
    if (this.record !== undefined) fx.annotate('ringEpoch', this.record.epoch);
    fx.annotate('hints', this.hintsById.size);
    fx.annotate('keys', this.store.size);
  }

  handleRequest(requestId: string, request: QuorumRequest, fx: Fx): void {
    this.noticeOwnPause();
    this.serve({ kind: 'client', requestId }, request, fx);
  }

  handleTick(fx: Fx): void {
    this.noticeOwnPause();
    const now = this.env.now();
    if (this.swim !== undefined) {
      this.swim.handleTick(this.swimFx(fx));
      if (now - this.lastEpochCheckMs >= this.config.pingIntervalMs) {
        this.lastEpochCheckMs = now;
        this.compareEpochs(fx);
      }
    } else if (now - this.lastPingMs >= this.config.pingIntervalMs) {
      this.lastPingMs = now;
      const ping: QuorumMessage = this.record === undefined ? { type: 'ping' } : { type: 'ping', epoch: this.record.epoch };
      for (const m of this.peers) fx.send(m, ping, { awaitPersist: false });
    }
    this.driveStreams(now, fx);
    this.expirePending(now, fx);
    this.pausedBurst = false;
    // outside any ring a node only answers, forwards and pings until the record reaches it
    if (this.record === undefined) return;
    // a duplicate comes within the network's delays; keep names well past any request's life
    for (const [name, takenAtMs] of this.forwardsTaken) if (now - takenAtMs > 10 * this.config.requestTimeoutMs) this.forwardsTaken.delete(name);
    if (now - this.lastHintRoundMs >= this.config.hintRetryIntervalMs) {
      this.lastHintRoundMs = now;
      this.offerHints(now, fx);
      this.checkTombstones(now, fx);
      this.reportDone(fx);
      this.sendStrays(now, fx);
    }
    if (this.config.antiEntropyIntervalMs > 0 && now - this.lastAntiEntropyMs >= this.config.antiEntropyIntervalMs) {
      this.lastAntiEntropyMs = now;
      this.startAntiEntropy(fx);
    }
  }

  handleMessage(from: NodeId, msg: QuorumMessage, fx: Fx): void {
    this.noticeOwnPause();
    this.lastHeardMs.set(from, this.env.now());
    const problem = messageProblem(msg);
    if (problem !== undefined) return fx.annotate('lastBadMessage', `${from}: ${problem}`);
    try {
      this.dispatch(from, msg, fx);
    } catch (err) {
      // a malformed message from a peer is dropped, the node keeps serving
      if (!(err instanceof QuorumError)) throw err;
      fx.annotate('lastBadMessage', `${from}: ${err.message}`);
    }
  }

  /**
   * Ticks come every few ms while the node runs; a gap longer than suspectAfterMs means this node
   * was paused (SIGSTOP, a long GC, a stalled VM), so its silence from peers says nothing about
   * them: it believes them up again rather than refusing work until their pings arrive.
   */
  private noticeOwnPause(): void {
    const now = this.env.now();
    if (now - this.lastInputMs > this.config.suspectAfterMs) {
      for (const m of this.peers) this.lastHeardMs.set(m, now);
      this.pausedBurst = true;
    }
    this.lastInputMs = now;
  }

  private dispatch(from: NodeId, msg: QuorumMessage, fx: Fx): void {
    switch (msg.type) {
      case 'swim':
        // checked by the gossip core itself (it counts and drops what is malformed)
        if (this.swim !== undefined) this.swim.handleMessage(from, msg.body as GossipMessage, this.swimFx(fx));
        return;
      case 'ping':
        fx.send(from, this.record === undefined ? { type: 'pong' } : { type: 'pong', epoch: this.record.epoch }, { awaitPersist: false });
        return this.compareEpoch(from, msg.epoch, fx);
      case 'pong':
        return this.compareEpoch(from, msg.epoch, fx);
      case 'ring-ask':
        if (this.record !== undefined) fx.send(from, { type: 'ring', record: this.record });
        return;
      case 'ring': {
        const record = decodeRingRecord(msg.record, ringOptions(this.config));
        if (this.record === undefined || record.epoch > this.record.epoch) this.adopt(record, fx);
        return;
      }
      case 'ring-done':
        return this.onRingDone(from, msg.epoch, fx);
      case 'handoff':
        this.noteSenderEpoch(from, msg.epoch, fx);
        for (const [key, state] of msg.states.slice(0, HANDOFF_BATCH_KEYS)) this.absorb(key, this.checkedState(key, state), fx);
        return fx.send(from, { type: 'handoff-ack', xid: msg.xid });
      case 'handoff-ack':
        return this.onHandoffAck(from, msg.xid, fx);
      case 'store':
        this.noteSenderEpoch(from, msg.epoch, fx);
        return this.onStore(from, msg.rid, msg.key, this.checkedState(msg.key, msg.state), msg.hintFor, fx);
      case 'stored':
        return this.onStored(from, msg.rid, fx);
      case 'fetch':
        return fx.send(from, { type: 'fetched', rid: msg.rid, state: this.localAnswer(msg.key) ?? null });
      case 'fetched': {
        const key = this.pendingKey(msg.rid);
        if (key === undefined) return;
        return this.onFetched(from, msg.rid, msg.state === null ? null : this.checkedState(key, msg.state), fx);
      }
      case 'forward': {
        // sent before or during this node's own pause: the forwarder, hearing nothing, may have passed the write to another home replica
        if (this.pausedBurst) return fx.send(from, { type: 'forwarded', rid: msg.rid, response: { ok: false, code: 'QUORUM_UNAVAILABLE', message: 'the home replica was paused when the write reached it: not applied' } });
        const name = `${from} ${String(msg.rid)}`;
        // a duplicate of a forward already taken: its answer is on its way
        if (this.forwardsTaken.has(name) || this.forwardsTaken.size >= MAX_PENDING) return;
        this.forwardsTaken.set(name, this.env.now());
        return this.serve({ kind: 'peer', node: from, rid: msg.rid }, msg.request, fx);
      }
      case 'forwarded':
        return this.onForwarded(msg.rid, msg.response, fx);
      case 'hint':
        this.absorb(msg.key, this.checkedState(msg.key, msg.state), fx);
        return fx.send(from, { type: 'hint-ack', id: msg.id });
      case 'hint-ack':
        return this.dropHint(msg.id, fx);
      case 'repair':
        for (const [key, state] of msg.states.slice(0, MAX_PULL_KEYS)) this.absorb(key, this.checkedState(key, state), fx);
        return;
      case 'ae':
        return this.onAntiEntropy(from, msg.sid, msg.partition, msg.body, fx);
      case 'tomb-check': {
        // agree when this replica holds no live version: past the grace period no hint can bring an older one (hintWindowMs < tombstoneGraceMs)
        const mine = this.store.get(msg.key);
        return fx.send(from, { type: 'tomb-same', key: msg.key, digest: msg.digest, same: mine === undefined || isTombstoneOnly(mine) });
      }
      case 'tomb-same':
        return this.onTombSame(from, msg.key, msg.digest, msg.same, fx);
    }
  }

  // --- coordinating ----------------------------------------------------------------------

  private serve(origin: Origin, raw: QuorumRequest, fx: Fx): void {
    let request: QuorumRequest;
    try {
      request = decodeQuorumRequest(raw, this.config);
      if (request.op === 'put' || request.op === 'delete') decodeContext(request.context);
    } catch (err) {
      if (err instanceof QuorumError) return this.answer(origin, { ok: false, code: err.code, message: err.message }, fx);
      throw err;
    }
    if (this.pending.size >= MAX_PENDING) return this.answer(origin, { ok: false, code: 'QUORUM_UNAVAILABLE', message: 'too many requests in flight on this node' }, fx);
    if (this.record === undefined) return this.answer(origin, { ok: false, code: 'QUORUM_NOT_JOINED', message: `node ${this.id} has not joined the ring yet: it learns the ring from its peers once a member of it has run ring-join for it` }, fx);
    if (request.op === 'anti-entropy') return this.answer(origin, { ok: true, op: 'anti-entropy', exchanges: this.antiEntropyNow(fx) }, fx);
    if (request.op === 'ring-status') return this.answer(origin, this.ringStatus(), fx);
    if (request.op === 'ring-join' || request.op === 'ring-leave') return this.changeRing(origin, request, fx);
    const key = storeKeyOf(request.bucket, request.key);
    const n = request.n ?? this.config.replicas;
    if (request.op === 'get') return this.coordinateRead(origin, key, n, replicasFor(request.r, this.config.readQuorum, n), fx);
    const homes = this.preferenceList(key, n).slice(0, n);
    if (!homes.includes(this.id)) return this.forwardToHome(origin, request, homes, fx);
    try {
      const needed = replicasFor(request.w, this.config.writeQuorum, n);
      // while the ring changes, W of the current homes and W of the next ones: whichever ring ends up in force holds the write
      const next = this.nextHomes(key, n);
      const groups: AckGroup[] = [{ homes, needed }];
      if (next.length > 0 && next.some((h) => !homes.includes(h))) groups.push({ homes: next, needed: Math.min(needed, next.length) });
      this.coordinateWrite(origin, request, key, groups, fx);
    } catch (err) {
      if (err instanceof QuorumError) return this.answer(origin, { ok: false, code: err.code, message: err.message }, fx);
      throw err;
    }
  }

  private forwardToHome(origin: Origin, request: WriteRequest | RingChange, homes: readonly NodeId[], fx: Fx, tried: readonly NodeId[] = []): void {
    // homes believed up first; then the others (this node's view may be stale: it was paused, say)
    const untried = homes.filter((h) => !tried.includes(h));
    const home = untried.find((h) => this.isUp(h)) ?? untried[0];
    if (home === undefined || origin.kind === 'peer') {
      // a forwarded request is never forwarded again: the forwarder picked this node as a home replica, the rings disagree
      return this.answer(origin, { ok: false, code: 'QUORUM_UNAVAILABLE', message: `no home replica of the key answered (${homes.join(', ')}${tried.length > 0 ? `; tried ${tried.join(', ')}` : ''})` }, fx);
    }
    const rid = this.nextRid();
    const now = this.env.now();
    this.pending.set(rid, { kind: 'forward', origin, request, homes, tried: [...tried, home], deadlineMs: now + this.config.requestTimeoutMs });
    fx.send(home, { type: 'forward', rid, request }, { awaitPersist: false });
  }

  private coordinateWrite(origin: Origin, request: WriteRequest, key: string, groups: readonly AckGroup[], fx: Fx): void {
    const { state, dot } = this.applyWrite(request, key);
    this.persistState(key, state, fx);
    if (dot !== null) fx.persist({ op: 'dots', floor: dot.counter });
    const rid = this.nextRid();
    const asked = new Map<NodeId, NodeId>([[this.id, this.id]]);
    const current = (groups[0] as AckGroup).homes;
    // stand-ins are looked up only once a home is believed down (most writes find every home up)
    let standIns: NodeId[] | undefined;
    for (const home of new Set(groups.flatMap((g) => g.homes))) {
      if (home === this.id) continue;
      // every home replica is asked, even one believed down: this node's view may be stale, and a
      // message to a dead node costs nothing. One believed down also gets a stand-in or a hint.
      asked.set(home, home);
      fx.send(home, { type: 'store', rid, key, state, ...this.epochField() });
      if (this.isUp(home)) continue;
      standIns ??= this.preferenceList(key, current.length).slice(current.length).filter((s) => this.isUp(s));
      if (this.config.sloppyQuorum && standIns.length > 0 && current.includes(home)) {
        const standIn = standIns.shift() as NodeId;
        asked.set(standIn, home);
        fx.send(standIn, { type: 'store', rid, key, state, hintFor: home, ...this.epochField() });
      } else if (this.config.hintedHandoff) {
        this.keepHint(home, key, state, fx);
      }
    }
    const write: PendingWrite = { kind: 'write', origin, key, state, dot, groups, acks: new Set([this.id]), asked, deadlineMs: this.env.now() + this.config.requestTimeoutMs, replied: false };
    this.pending.set(rid, write);
    this.settleWrite(rid, write, fx);
  }

  /** The new state of `key` after the request, built on this replica's copy (which may be stale: dots make that safe). */
  private applyWrite(request: WriteRequest, key: string): { state: KeyState; dot: Dot | null } {
    const kind = stateKindOf(bucketType(this.config, request.bucket));
    const local = this.store.get(key);
    switch (request.op) {
      case 'put':
      case 'delete': {
        const value = request.op === 'put' ? request.value : null;
        const dot = this.newDot();
        if (kind === 'lww') return { state: this.writeLww(local as LwwState | undefined, dot, value), dot };
        return { state: writeDvv(local?.kind === 'dvv' ? local : EMPTY_DVV, decodeContext(request.context), dot, value, this.config.maxSiblings), dot };
      }
      case 'increment':
        return { state: incrementCounter(local?.kind === 'counter' ? local : EMPTY_COUNTER, this.id, request.delta), dot: null };
      case 'add': {
        const dot = this.newDot();
        return { state: orSetAdd(local?.kind === 'orset' ? local : EMPTY_ORSET, request.element, dot), dot };
      }
      case 'remove':
        return { state: orSetRemove(local?.kind === 'orset' ? local : EMPTY_ORSET, request.element), dot: null };
    }
  }

  private writeLww(local: LwwState | undefined, dot: Dot, value: string | null): LwwState {
    if (local !== undefined) {
      try {
        this.hlc.receive(parsePackedHlc(local.stamp));
      } catch {
        // the stored stamp is further ahead than maxClockOffsetMs: this write stamps from our clock and loses (LWW's known hazard, docs/quorum.md)
      }
    }
    const mine: LwwState = { kind: 'lww', stamp: formatPackedHlc(this.hlc.now()), dot, value };
    return local === undefined || lwwWins(mine, local) ? mine : local;
  }

  private settleWrite(rid: string, write: PendingWrite, fx: Fx): void {
    if (!write.replied && write.groups.every((g) => acksIn(write, g) >= g.needed)) {
      write.replied = true;
      const view = readView(write.state);
      this.answer(write.origin, { ok: true, op: 'write', context: encodeContext(contextVv(write.state)), dot: write.dot, acks: write.acks.size, values: view.values, siblings: view.siblings }, fx);
    }
    if (write.acks.size < write.asked.size) return;
    // everyone asked has answered: nobody else will
    this.pending.delete(rid);
    if (!write.replied) {
      write.replied = true;
      this.answer(write.origin, { ok: false, code: 'QUORUM_NOT_REACHED', message: `only ${write.acks.size} replicas are reachable (${describeNeeded(write)}); the write is applied on those and hinted for the others`, acks: write.acks.size }, fx);
    }
  }

  private onStored(from: NodeId, rid: string, fx: Fx): void {
    const write = this.pending.get(rid);
    if (write?.kind !== 'write' || !write.asked.has(from)) return;
    write.acks.add(from);
    this.settleWrite(rid, write, fx);
  }

  private coordinateRead(origin: Origin, key: string, n: number, needed: number, fx: Fx): void {
    const list = this.preferenceList(key, n);
    const homes = list.slice(0, n);
    // every home replica (one believed down may answer after all), and with sloppy quorum a
    // stand-in (answering from its hints) for each believed down
    const asked: NodeId[] = [...homes];
    if (this.config.sloppyQuorum) {
      let wanted = homes.filter((h) => !this.isUp(h)).length;
      for (const s of list.slice(n)) {
        if (wanted === 0) break;
        if (!this.isUp(s)) continue;
        asked.push(s);
        wanted--;
      }
    }
    const rid = this.nextRid();
    const read: PendingRead = { kind: 'read', origin, key, needed, asked, answers: new Map(), deadlineMs: this.env.now() + this.config.requestTimeoutMs, replied: false };
    this.pending.set(rid, read);
    for (const node of asked) {
      if (node === this.id) read.answers.set(node, this.localAnswer(key) ?? null);
      else fx.send(node, { type: 'fetch', rid, key }, { awaitPersist: false });
    }
    this.settleRead(rid, read, fx);
  }

  private onFetched(from: NodeId, rid: string, state: KeyState | null, fx: Fx): void {
    const read = this.pending.get(rid);
    if (read?.kind !== 'read' || !read.asked.includes(from) || read.answers.has(from)) return;
    read.answers.set(from, state);
    this.settleRead(rid, read, fx);
  }

  private settleRead(rid: string, read: PendingRead, fx: Fx): void {
    if (!read.replied && read.answers.size >= read.needed) {
      read.replied = true;
      const merged = mergeAnswers(read.answers.values());
      const view = merged === undefined ? undefined : readView(merged);
      this.answer(
        read.origin,
        {
          ok: true,
          op: 'get',
          found: view?.found ?? false,
          values: view?.values ?? [],
          ...(view?.count === undefined ? {} : { count: view.count }),
          context: encodeContext(merged === undefined ? [] : contextVv(merged)),
          siblings: view?.siblings ?? 0,
          replies: read.answers.size,
        },
        fx,
      );
    }
    if (read.answers.size < read.asked.length) return;
    if (!read.replied) {
      read.replied = true;
      this.answer(read.origin, { ok: false, code: 'QUORUM_NOT_REACHED', message: `only ${read.answers.size} of the ${read.needed} replicas needed are reachable`, acks: read.answers.size }, fx);
    }
    this.finishRead(rid, read, fx);
  }

  /** Every asked replica answered (or the deadline passed): repair the ones that answered with less than the merge. */
  private finishRead(rid: string, read: PendingRead, fx: Fx): void {
    this.pending.delete(rid);
    if (!this.config.readRepair) return;
    const merged = mergeAnswers(read.answers.values());
    if (merged === undefined) return;
    const text = canonicalText(merged);
    for (const [node, state] of read.answers) {
      if (state === null ? isTombstoneOnly(merged) : canonicalText(state) === text) continue;
      if (node === this.id) this.absorb(read.key, merged, fx);
      else fx.send(node, { type: 'repair', states: [[read.key, merged]] });
    }
    fx.annotate('readRepairs', read.answers.size);
  }

  private onForwarded(rid: string, response: QuorumResponse, fx: Fx): void {
    const forward = this.pending.get(rid);
    if (forward?.kind !== 'forward') return;
    this.pending.delete(rid);
    this.answer(forward.origin, response, fx);
  }

  private expirePending(now: number, fx: Fx): void {
    for (const [rid, p] of this.pending) {
      if (now < p.deadlineMs) continue;
      if (p.kind === 'write') {
        if (!p.replied) this.answer(p.origin, { ok: false, code: 'QUORUM_NOT_REACHED', message: `${p.acks.size} replicas acknowledged in time (${describeNeeded(p)}); the write may still be applied on some`, acks: p.acks.size }, fx);
        // home replicas that never acknowledged get the write later, by hint
        if (this.config.hintedHandoff) for (const [node, home] of p.asked) if (!p.acks.has(node) && home === node) this.keepHint(home, p.key, p.state, fx);
        this.pending.delete(rid);
      } else if (p.kind === 'read') {
        if (!p.replied) {
          p.replied = true;
          this.answer(p.origin, { ok: false, code: 'QUORUM_NOT_REACHED', message: `${p.answers.size} of ${p.needed} replicas answered in time`, acks: p.answers.size }, fx);
        }
        this.finishRead(rid, p, fx);
      } else {
        this.pending.delete(rid);
        // a home replica now believed down (it stopped answering pings too) gets replaced by the
        // next; one still answering pings is slow, not dead, and may yet apply the write, so the
        // outcome is unknown rather than applied twice under two dots (docs/quorum.md)
        if (this.isUp(p.tried[p.tried.length - 1] as NodeId)) this.answer(p.origin, { ok: false, code: 'QUORUM_UNAVAILABLE', message: 'the home replica the write was passed to did not answer in time; it may still apply it' }, fx);
        else this.forwardToHome(p.origin, p.request, p.homes, fx, p.tried);
      }
    }
  }

  private answer(origin: Origin, response: QuorumResponse, fx: Fx): void {
    if (origin.kind === 'client') fx.reply(origin.requestId, response);
    else fx.send(origin.node, { type: 'forwarded', rid: origin.rid, response });
  }

  // --- replica ---------------------------------------------------------------------------

  private onStore(from: NodeId, rid: string, key: string, state: KeyState, hintFor: NodeId | undefined, fx: Fx): void {
    if (hintFor !== undefined && hintFor !== this.id && this.record !== undefined && ringMembersOf(this.record).includes(hintFor)) this.keepHint(hintFor, key, state, fx);
    else this.absorb(key, state, fx);
    fx.send(from, { type: 'stored', rid });
  }

  /** Merges a state into this replica's copy and persists the result if it changed. */
  private absorb(key: string, incoming: KeyState, fx: Fx): void {
    const local = this.store.get(key);
    const merged = local === undefined ? incoming : mergeStates(local, incoming);
    if (local !== undefined && canonicalText(local) === canonicalText(merged)) return;
    this.persistState(key, merged, fx);
  }

  private persistState(key: string, state: KeyState, fx: Fx): void {
    this.store.set(key, state);
    this.track(key);
    fx.persist({ op: 'state', key, state });
    if (isTombstoneOnly(state)) {
      if (!this.tombstoneSinceMs.has(key)) this.tombstoneSinceMs.set(key, this.env.now());
    } else {
      this.tombstoneSinceMs.delete(key);
    }
  }

  /** This replica's copy merged with any hints it keeps for the key (a stand-in answers reads from its hints). */
  private localAnswer(key: string): KeyState | undefined {
    let state = this.store.get(key);
    for (const hint of this.hintsFor(key)) state = state === undefined ? hint.state : mergeStates(state, hint.state);
    return state;
  }

  /** Checks a state from a peer: well-formed, and of the kind its bucket holds. */
  private checkedState(key: string, state: unknown): KeyState {
    const decoded = decodeKeyState(state, this.config.maxValueLength);
    const expected = stateKindOf(bucketType(this.config, bucketOfStoreKey(key)));
    if (decoded.kind !== expected) throw new QuorumError('QUORUM_BAD_MESSAGE', `key ${key} holds ${expected} states, not ${decoded.kind}`);
    return decoded;
  }

  private pendingKey(rid: string): string | undefined {
    const p = this.pending.get(rid);
    return p !== undefined && p.kind !== 'forward' ? p.key : undefined;
  }

  // --- hints -----------------------------------------------------------------------------

  private keepHint(target: NodeId, key: string, state: KeyState, fx: Fx): void {
    // one hint per (target, key): a newer write merges into it
    const existing = this.hintsFor(key).find((h) => h.target === target);
    const hint: Hint = existing === undefined ? { id: `${this.id}:${this.newDot().counter}`, target, key, state, createdAtMs: this.env.now() } : { ...existing, state: mergeStates(existing.state, state) };
    if (existing === undefined) fx.persist({ op: 'dots', floor: this.dotCounter });
    this.setHint(hint);
    fx.persist({ op: 'hint', hint });
    fx.annotate('hints', this.hintsById.size);
  }

  private hintsFor(key: string): Hint[] {
    return [...(this.hintIdsByKey.get(key) ?? [])].map((id) => this.hintsById.get(id) as Hint);
  }

  private setHint(hint: Hint): void {
    this.hintsById.set(hint.id, hint);
    let ids = this.hintIdsByKey.get(hint.key);
    if (ids === undefined) this.hintIdsByKey.set(hint.key, (ids = new Set()));
    ids.add(hint.id);
  }

  private deleteHint(id: string): boolean {
    const hint = this.hintsById.get(id);
    if (hint === undefined) return false;
    this.hintsById.delete(id);
    const ids = this.hintIdsByKey.get(hint.key);
    ids?.delete(id);
    if (ids?.size === 0) this.hintIdsByKey.delete(hint.key);
    return true;
  }

  private offerHints(now: number, fx: Fx): void {
    let offered = 0;
    for (const hint of [...this.hintsById.values()]) {
      if (now - hint.createdAtMs > this.config.hintWindowMs) {
        this.dropHint(hint.id, fx);
        fx.annotate('hintsExpired', hint.id);
        continue;
      }
      if (this.record !== undefined && !ringMembersOf(this.record).includes(hint.target)) {
        // its target left the ring: the state joins this node's copy, and goes to the key's homes from there (a stray, if not one)
        this.absorb(hint.key, hint.state, fx);
        this.dropHint(hint.id, fx);
        continue;
      }
      if (offered >= HINTS_PER_ROUND || !this.isUp(hint.target)) continue;
      offered++;
      fx.send(hint.target, { type: 'hint', id: hint.id, key: hint.key, state: hint.state });
    }
  }

  private dropHint(id: string, fx: Fx): void {
    if (!this.deleteHint(id)) return;
    fx.persist({ op: 'hint-done', id });
    fx.annotate('hints', this.hintsById.size);
  }

  // --- anti-entropy ----------------------------------------------------------------------

  /**
   * Starts a Merkle exchange about one partition this node holds with one other home replica of
   * it, in turn. Both sides end with the keys whose digests differ and push their own states of
   * those keys; merging makes both whole.
   */
  private startAntiEntropy(fx: Fx): void {
    this.expireSessions();
    if (this.myPartitions.length === 0 || this.aeSessions.size >= MAX_AE_SESSIONS) return;
    const turn = this.antiEntropyTurn++;
    const partition = this.myPartitions[turn % this.myPartitions.length] as number;
    const peers = this.homesOfPartition(partition).filter((p) => p !== this.id && this.isUp(p));
    if (peers.length === 0) return;
    this.openExchange(partition, peers[Math.floor(turn / this.myPartitions.length) % peers.length] as NodeId, fx);
  }

  /** One exchange per partition held and other home replica believed up, now (`synod dkv repair`). */
  private antiEntropyNow(fx: Fx): number {
    this.expireSessions();
    let started = 0;
    for (const partition of this.myPartitions) {
      for (const peer of this.homesOfPartition(partition)) {
        if (peer === this.id || !this.isUp(peer) || this.aeSessions.size >= MAX_AE_SESSIONS) continue;
        this.openExchange(partition, peer, fx);
        started++;
      }
    }
    return started;
  }

  private openExchange(partition: number, peer: NodeId, fx: Fx): void {
    const session = new AntiEntropySession(this.freshTree(partition) as MerkleTree, 'initiator');
    const sid = this.nextRid();
    this.aeSessions.set(`${peer} ${sid}`, { session, partition, startedMs: this.env.now() });
    fx.send(peer, { type: 'ae', sid, partition, body: session.start() }, { awaitPersist: false });
  }

  private onAntiEntropy(from: NodeId, sid: string, partition: number, body: unknown, fx: Fx): void {
    const name = `${from} ${sid}`;
    let entry = this.aeSessions.get(name);
    if (entry === undefined) {
      const tree = typeof partition === 'number' ? this.freshTree(partition) : undefined;
      // a peer opens an exchange only about a partition both hold; anything else is ignored
      if (tree === undefined || this.aeSessions.size >= MAX_AE_SESSIONS || typeof sid !== 'string' || sid.length > 64) return;
      entry = { session: new AntiEntropySession(tree, 'responder'), partition, startedMs: this.env.now() };
      this.aeSessions.set(name, entry);
    }
    let reply: unknown;
    try {
      reply = entry.session.receive(body);
    } catch (err) {
      this.aeSessions.delete(name);
      if (!isMerkleError(err)) throw err;
      if (err.code !== 'MERKLE_PEER_ABORTED') fx.send(from, { type: 'ae', sid, partition: entry.partition, body: abortMessageFor(err) }, { awaitPersist: false });
      fx.annotate('lastAntiEntropyError', `${from}: ${err.message}`);
      return;
    }
    if (reply !== null) fx.send(from, { type: 'ae', sid, partition: entry.partition, body: reply }, { awaitPersist: false });
    if (!entry.session.done) return;
    this.aeSessions.delete(name);
    const keys = entry.session.result().differences.map((d) => d.key);
    this.pushStates(from, keys, fx);
    if (keys.length > 0) fx.annotate('antiEntropyRepairs', keys.length);
  }

  private expireSessions(): void {
    const now = this.env.now();
    for (const [name, entry] of this.aeSessions) if (now - entry.startedMs > AE_SESSION_TIMEOUT_FACTOR * this.config.requestTimeoutMs) this.aeSessions.delete(name);
  }

  private pushStates(to: NodeId, keys: readonly string[], fx: Fx): void {
    const states: [string, KeyState][] = [];
    for (const key of keys) {
      const state = this.store.get(key);
      if (state !== undefined) states.push([key, state]);
    }
    for (let at = 0; at < states.length; at += MAX_PULL_KEYS) fx.send(to, { type: 'repair', states: states.slice(at, at + MAX_PULL_KEYS) });
  }

  // --- tombstones ------------------------------------------------------------------------

  /** Asks the other home replicas of each tombstone past its grace whether they hold it too. */
  private checkTombstones(now: number, fx: Fx): void {
    let asked = 0;
    for (const [key, sinceMs] of this.tombstoneSinceMs) {
      if (asked >= TOMB_CHECKS_PER_ROUND) break;
      if (now - sinceMs < this.config.tombstoneGraceMs) continue;
      const state = this.store.get(key);
      assertInvariant(state !== undefined && isTombstoneOnly(state), () => `tombstone timer of ${key} without a tombstone`);
      asked++;
      const digest = digestOf(state);
      this.tombAnswers.set(key, new Set());
      for (const home of this.homesOfKey(key)) if (home !== this.id) fx.send(home, { type: 'tomb-check', key, digest }, { awaitPersist: false });
      if (this.homesOfKey(key).length === 1) this.forget(key, 'tombstonesCollected', fx);
    }
  }

  private onTombSame(from: NodeId, key: string, digest: string, same: boolean, fx: Fx): void {
    const answers = this.tombAnswers.get(key);
    const state = this.store.get(key);
    if (answers === undefined || state === undefined || digestOf(state) !== digest) return;
    if (!same) return void this.tombAnswers.delete(key);
    answers.add(from);
    const others = this.homesOfKey(key).filter((h) => h !== this.id);
    if (others.every((h) => answers.has(h))) this.forget(key, 'tombstonesCollected', fx);
  }

  private forget(key: string, why: 'tombstonesCollected' | 'handedOff', fx: Fx): void {
    this.store.delete(key);
    this.track(key);
    this.tombstoneSinceMs.delete(key);
    this.tombAnswers.delete(key);
    fx.persist({ op: 'dots', floor: this.dotCounter });
    fx.persist({ op: 'forget', key });
    fx.annotate(why, key);
  }

  /** Notes that a key changed, for its partition's Merkle tree (brought up to date by freshTree). */
  private track(key: string): void {
    if (this.current === undefined) return;
    const partition = this.partitionOfKey(key);
    if (this.trees.has(partition)) {
      let dirty = this.dirtyKeys.get(partition);
      if (dirty === undefined) this.dirtyKeys.set(partition, (dirty = new Set()));
      dirty.add(key);
    }
    // a stream that has begun sends a changed key again (it may have passed it already)
    const streams = this.streamsOf.get(partition);
    if (streams !== undefined) for (const stream of streams) if (stream.at > 0 || stream.batch !== undefined) stream.dirty.add(key);
    if (this.owned.has(partition) || !this.store.has(key)) this.strays.delete(key);
    else this.strays.set(key, 'push');
  }

  /** The partition's tree with every change applied: live states by digest; tombstone-only and absent ones alike left out. */
  private freshTree(partition: number): MerkleTree | undefined {
    const tree = this.trees.get(partition);
    const dirty = this.dirtyKeys.get(partition);
    if (tree === undefined || dirty === undefined) return tree;
    for (const key of dirty) {
      const state = this.store.get(key);
      if (state === undefined || isTombstoneOnly(state)) tree.delete(key);
      else tree.set(key, digestOf(state));
    }
    this.dirtyKeys.delete(partition);
    return tree;
  }

  // --- membership ------------------------------------------------------------------------

  /** Heartbeats compare epochs: the node behind asks for the record, or is sent it. */
  /** The gossip core's effects: its messages wrapped in ours; nothing persisted; no client of its own. */
  private swimFx(fx: Fx): SwimFx {
    return {
      send: (to, msg) => fx.send(to, { type: 'swim', body: msg }, { awaitPersist: false }),
      persist: () => undefined,
      reply: () => undefined,
      annotate: (key, value) => {
        // what the gossip core refused shows as this node's own bad message; its counts under gossip.*
        if (key === 'lastBadMessage') fx.annotate('lastBadMessage', `gossip: ${String(value)}`);
        else if (key === 'alive' || key === 'suspect' || key === 'dead') fx.annotate(`gossip.${key}`, value);
      },
    };
  }

  /** Under SWIM the ring epoch rides in this member's gossip metadata (heartbeats carry it otherwise). */
  private announceEpoch(fx: Fx): void {
    if (this.swim === undefined) return;
    this.swim.handleRequest('epoch', { op: 'set-meta', meta: this.record === undefined ? '' : String(this.record.epoch) }, this.swimFx(fx));
  }

  /** Under SWIM: answers each live member whose gossiped epoch differs from ours, once per epoch it shows. */
  private compareEpochs(fx: Fx): void {
    for (const m of (this.swim as SwimNode).members()) {
      if (m.id === this.id || m.state !== 'alive') continue;
      const epoch = m.meta === '' ? undefined : Number(m.meta);
      if (epoch !== undefined && !Number.isSafeInteger(epoch)) continue;
      const mine = this.record?.epoch;
      if (epoch === mine) continue;
      const seen = epoch ?? -1;
      const pair = `${seen}:${mine ?? -1}`;
      if (this.epochAnswered.get(m.id) === pair) continue;
      this.epochAnswered.set(m.id, pair);
      this.compareEpoch(m.id, epoch, fx);
    }
  }

  private compareEpoch(from: NodeId, epoch: number | undefined, fx: Fx): void {
    if (this.record === undefined) {
      if (epoch !== undefined) fx.send(from, { type: 'ring-ask' }, { awaitPersist: false });
    } else if (epoch === undefined || epoch < this.record.epoch) {
      fx.send(from, { type: 'ring', record: this.record });
    } else if (epoch > this.record.epoch) {
      fx.send(from, { type: 'ring-ask' }, { awaitPersist: false });
    }
  }

  private adopt(record: RingRecord, fx: Fx): void {
    const previous = this.record;
    this.record = record;
    fx.persist({ op: 'ring', record });
    this.adoptedAtMs = this.env.now();
    this.announceEpoch(fx);
    this.doneBy.clear();
    this.placeBy(previous);
    fx.annotate('ringEpoch', record.epoch);
  }

  /** Only the claimant changes the ring (so epochs never fork); any other node passes the request on. */
  private changeRing(origin: Origin, request: RingChange, fx: Fx): void {
    const record = this.record as RingRecord;
    const claimant = claimantFor(record, request);
    if (claimant !== this.id) return this.forwardToHome(origin, request, [claimant], fx);
    let next: RingRecord;
    try {
      next =
        request.op === 'ring-join'
          ? proposeJoin(record, request.node, request.peer === undefined || request.client === undefined ? undefined : { peer: request.peer, client: request.client }, this.config)
          : proposeLeave(record, request.node, request.force === true, this.config);
    } catch (err) {
      if (err instanceof QuorumError) return this.answer(origin, { ok: false, code: err.code, message: err.message }, fx);
      throw err;
    }
    this.adopt(next, fx);
    this.answer(origin, this.ringStatus(), fx);
  }

  private ringStatus(): RingStatus {
    const record = this.record as RingRecord;
    const streams = [...this.streams.values()];
    return {
      ok: true,
      op: 'ring',
      epoch: record.epoch,
      members: [...record.members],
      ...(record.next === undefined ? {} : { next: [...record.next.members] }),
      ...(record.next !== undefined && claimantOf(record) === this.id ? { waitingFor: this.waitingFor(record) } : {}),
      handoff: { streams: streams.length, streamsDone: streams.filter((s) => s.done).length, keysSent: this.keysSent, strayKeys: this.strays.size },
    };
  }

  /** Current members (not forced out) that have not reported their streams finished for the record's epoch. */
  private waitingFor(record: RingRecord): NodeId[] {
    const forced = record.forced ?? [];
    return record.members.filter((m) => !forced.includes(m) && !(m === this.id ? this.streamsFinished() : this.doneBy.has(m)));
  }

  private streamsFinished(): boolean {
    return this.record?.next !== undefined && this.streamsEpoch === this.record.epoch && [...this.streams.values()].every((s) => s.done);
  }

  /** A current member whose streams are done tells the claimant, each round until the record moves on. */
  private reportDone(fx: Fx): void {
    const record = this.record;
    if (record?.next === undefined || !record.members.includes(this.id) || !this.streamsFinished()) return;
    if (claimantOf(record) === this.id) return this.commitIfDone(fx);
    fx.send(claimantOf(record), { type: 'ring-done', epoch: record.epoch }, { awaitPersist: false });
  }

  private onRingDone(from: NodeId, epoch: number, fx: Fx): void {
    const record = this.record;
    if (record?.next === undefined || epoch !== record.epoch || claimantOf(record) !== this.id || !record.members.includes(from)) return;
    this.doneBy.add(from);
    this.commitIfDone(fx);
  }

  private commitIfDone(fx: Fx): void {
    const record = this.record as RingRecord;
    if (this.waitingFor(record).length > 0) return;
    this.adopt(commitRecord(record), fx);
    fx.annotate('ringCommitted', record.epoch + 1);
  }

  /**
   * Recomputes what placement decides, at start and after each new record: the rings, the
   * partitions held (and their Merkle trees), the peers to ping, the streams a change needs from
   * this node, and the stray keys it holds for partitions it no longer owns.
   */
  private placeBy(previous: RingRecord | undefined): void {
    const record = this.record;
    this.peers = [...new Set([...this.env.members, ...(record === undefined ? [] : ringMembersOf(record))])].filter((m) => m !== this.id);
    if (record === undefined) return;
    this.current = ringOfAssignment(record, this.config);
    this.nextRing = record.next === undefined ? undefined : ringOfAssignment(record.next, this.config);
    const held: number[] = [];
    const owned = new Set<number>();
    for (let p = 0; p < this.current.partitionCount; p++) {
      if (this.homesOfPartition(p).includes(this.id)) {
        held.push(p);
        owned.add(p);
      } else if (this.nextHomesOfPartition(p).includes(this.id)) owned.add(p);
    }
    const clean = this.cleanPartitions(previous);
    for (const p of [...this.trees.keys()]) {
      if (owned.has(p) && held.includes(p)) continue;
      this.trees.delete(p);
      this.dirtyKeys.delete(p);
    }
    const fresh = new Set(held.filter((p) => !this.trees.has(p)));
    for (const p of fresh) {
      const end = p + 1 < this.current.partitionCount ? this.current.partitionStart(p + 1) : RING_SIZE;
      this.trees.set(p, new MerkleTree({ depth: this.config.antiEntropyTreeDepth, start: this.current.partitionStart(p), end }));
    }
    this.myPartitions = held;
    this.owned = owned;
    const streamKeys = this.planStreams(record, held);
    this.strays.clear();
    this.strayBatches.clear();
    for (const key of this.store.keys()) {
      const p = this.partitionOfKey(key);
      if (fresh.has(p)) this.track(key);
      streamKeys.get(p)?.push(key);
      if (!owned.has(p)) this.strays.set(key, clean.get(p)?.has(key) === false ? 'forget' : 'push');
    }
  }

  /** Streams this node owes for a change that began: one per partition it holds and new home of it. Returns the lists to fill. */
  private planStreams(record: RingRecord, held: readonly number[]): Map<number, string[]> {
    const lists = new Map<number, string[]>();
    if (record.next === undefined) {
      this.streams.clear();
      this.streamsOf.clear();
      this.streamByXid.clear();
      return lists;
    }
    // a restart mid-change, or a record of the same change seen again: streams already planned stay
    if (this.streamsEpoch === record.epoch || !record.members.includes(this.id)) return lists;
    this.streams.clear();
    this.streamsOf.clear();
    this.streamByXid.clear();
    this.streamsEpoch = record.epoch;
    for (const p of held) {
      const current = this.homesOfPartition(p);
      const receivers = this.nextHomesOfPartition(p).filter((h) => !current.includes(h));
      if (receivers.length === 0) continue;
      const keys: string[] = [];
      lists.set(p, keys);
      const streams = receivers.map((receiver): HandoffStream => ({ partition: p, receiver, keys, at: 0, dirty: new Set(), batch: undefined, done: false }));
      this.streamsOf.set(p, streams);
      for (const stream of streams) this.streams.set(`${p} ${stream.receiver}`, stream);
    }
    return lists;
  }

  /**
   * After a commit, the partitions this node streamed in full for the change just committed, with
   * the keys changed since: the rest of their keys are on every new home already, and need not
   * be sent again before they are forgotten here.
   */
  private cleanPartitions(previous: RingRecord | undefined): Map<number, Set<string>> {
    const clean = new Map<number, Set<string>>();
    if (previous?.next === undefined || this.record?.next !== undefined || this.record?.epoch !== previous.epoch + 1 || this.streamsEpoch !== previous.epoch) return clean;
    for (const [p, streams] of this.streamsOf) {
      if (!streams.every((s) => s.done)) continue;
      clean.set(p, new Set(streams.flatMap((s) => [...s.dirty])));
    }
    return clean;
  }

  /** Sends the next batch of each stream (a few in flight at a time), again after a timeout. */
  private driveStreams(now: number, fx: Fx): void {
    if (this.streams.size === 0) return;
    let inFlight = 0;
    for (const stream of this.streams.values()) if (stream.batch !== undefined) inFlight++;
    for (const stream of this.streams.values()) {
      if (stream.done) continue;
      if (stream.batch !== undefined) {
        if (now - stream.batch.sentMs >= this.config.requestTimeoutMs && this.isUp(stream.receiver)) this.sendStreamBatch(stream, stream.batch.keys, stream.batch.fromList, now, fx);
        continue;
      }
      if (inFlight >= HANDOFF_IN_FLIGHT || !this.isUp(stream.receiver)) continue;
      const { keys, fromList } = this.nextStreamKeys(stream);
      if (keys.length === 0 && fromList === 0) {
        stream.done = true;
        fx.annotate('handoffStreamDone', `${stream.partition}>${stream.receiver}`);
        continue;
      }
      this.sendStreamBatch(stream, keys, fromList, now, fx);
      inFlight++;
    }
  }

  /** The stream's next keys: from its list first, then those changed since it began; bounded in count and size. */
  private nextStreamKeys(stream: HandoffStream): { keys: string[]; fromList: number } {
    const keys: string[] = [];
    let chars = 0;
    let fromList = 0;
    const take = (key: string): boolean => {
      const state = this.store.get(key);
      if (state !== undefined) {
        keys.push(key);
        chars += canonicalText(state).length;
      }
      return keys.length < HANDOFF_BATCH_KEYS && chars < HANDOFF_BATCH_CHARS;
    };
    while (stream.at + fromList < stream.keys.length) {
      const more = take(stream.keys[stream.at + fromList] as string);
      fromList++;
      if (!more) return { keys, fromList };
    }
    for (const key of [...stream.dirty]) {
      stream.dirty.delete(key);
      if (!take(key)) break;
    }
    return { keys, fromList };
  }

  private sendStreamBatch(stream: HandoffStream, keys: readonly string[], fromList: number, now: number, fx: Fx): void {
    if (stream.batch !== undefined) this.streamByXid.delete(stream.batch.xid);
    const xid = this.nextRid();
    stream.batch = { xid, keys, fromList, sentMs: now };
    this.streamByXid.set(xid, stream);
    const states: [string, KeyState][] = [];
    for (const key of keys) {
      const state = this.store.get(key);
      if (state !== undefined) states.push([key, state]);
    }
    fx.send(stream.receiver, { type: 'handoff', xid, states, ...this.epochField() });
  }

  private onHandoffAck(from: NodeId, xid: string, fx: Fx): void {
    const stream = this.streamByXid.get(xid);
    if (stream !== undefined) {
      if (from !== stream.receiver || stream.batch?.xid !== xid) return;
      stream.at += stream.batch.fromList;
      this.keysSent += stream.batch.keys.length;
      stream.batch = undefined;
      this.streamByXid.delete(xid);
      return;
    }
    const batch = this.strayBatches.get(xid);
    if (batch === undefined || !batch.waiting.delete(from) || batch.waiting.size > 0) return;
    this.strayBatches.delete(xid);
    // the homes were this node's view of the ring: one it knows to be old decides nothing
    if (this.isBehind(this.env.now())) return;
    // every home holds what was sent; a key changed since goes again
    for (const [key, text] of batch.texts) {
      const state = this.store.get(key);
      if (state !== undefined && this.strays.has(key) && canonicalText(state) === text) this.forget(key, 'handedOff', fx);
    }
    this.keysSent += batch.texts.size;
  }

  /** The sender's ring epoch, for the receiver to tell whether it is behind (none before this node has a record). */
  private epochField(): { epoch?: number } {
    return this.record === undefined ? {} : { epoch: this.record.epoch };
  }

  /**
   * A peer wrote to this node (a hand-off batch, a replica write) under a newer ring than the one
   * this node has: the keys it sent may be this node's own under that ring, so no stray is
   * forgotten until the record has arrived (asked for now), or — if it never comes, say the
   * epoch was wrong — for a while.
   */
  private noteSenderEpoch(from: NodeId, epoch: number | undefined, fx: Fx): void {
    if (epoch === undefined || epoch <= (this.record?.epoch ?? -1)) return;
    const untilMs = this.env.now() + BEHIND_HOLD_FACTOR * this.config.requestTimeoutMs;
    if (this.behind === undefined || this.behind.epoch < epoch || this.behind.untilMs < untilMs) this.behind = { epoch: Math.max(epoch, this.behind?.epoch ?? 0), untilMs };
    fx.send(from, { type: 'ring-ask' }, { awaitPersist: false });
    fx.annotate('ringBehind', epoch);
  }

  /** A peer showed a newer ring than this node's, and this node has not caught up (nor waited long enough). */
  private isBehind(now: number): boolean {
    if (this.behind === undefined) return false;
    if ((this.record?.epoch ?? -1) >= this.behind.epoch || now >= this.behind.untilMs) this.behind = undefined;
    return this.behind !== undefined;
  }

  /**
   * Keys held for partitions this node owns in neither ring: once the record has settled (nodes
   * that have not heard of it may still read here), forgotten when a finished stream already
   * carried them, else sent to every home of their partition and forgotten when all acknowledge.
   */
  private sendStrays(now: number, fx: Fx): void {
    if (this.strays.size === 0 || now - this.adoptedAtMs < RING_SETTLE_FACTOR * this.config.suspectAfterMs || this.isBehind(now)) return;
    for (const [xid, batch] of this.strayBatches) if (now - batch.sentMs >= this.config.requestTimeoutMs) this.strayBatches.delete(xid);
    const sending = new Set<string>();
    for (const batch of this.strayBatches.values()) for (const key of batch.texts.keys()) sending.add(key);
    const byPartition = new Map<number, string[]>();
    let forgotten = 0;
    for (const [key, plan] of [...this.strays]) {
      if (plan === 'forget') {
        if (forgotten++ < MAX_PULL_KEYS * 4) this.forget(key, 'handedOff', fx);
        continue;
      }
      if (sending.has(key)) continue;
      const p = this.partitionOfKey(key);
      const keys = byPartition.get(p) ?? [];
      if (keys.length === 0) byPartition.set(p, keys);
      if (keys.length < HANDOFF_BATCH_KEYS) keys.push(key);
    }
    for (const [p, keys] of byPartition) {
      if (this.strayBatches.size >= HANDOFF_IN_FLIGHT) break;
      const homes = this.homesOfPartition(p);
      if (!homes.every((h) => this.isUp(h))) continue;
      const xid = this.nextRid();
      const texts = new Map<string, string>();
      const states: [string, KeyState][] = [];
      for (const key of keys) {
        const state = this.store.get(key) as KeyState;
        texts.set(key, canonicalText(state));
        states.push([key, state]);
      }
      this.strayBatches.set(xid, { texts, waiting: new Set(homes), sentMs: now });
      for (const home of homes) fx.send(home, { type: 'handoff', xid, states, ...this.epochField() });
    }
  }

  // --- placement -------------------------------------------------------------------------

  /** Every home of the key in the current ring and, while it changes, the next one (tombstones wait for all of them). */
  private homesOfKey(key: string): NodeId[] {
    const homes = this.preferenceList(key).slice(0, this.config.replicas);
    for (const h of this.nextHomes(key)) if (!homes.includes(h)) homes.push(h);
    return homes;
  }

  private partitionOfKey(key: string): number {
    return this.ring.partitionOf(positionOf(key));
  }

  private homesOfPartition(partition: number): NodeId[] {
    return this.ring.preferenceListAt(this.ring.partitionStart(partition), this.config.replicas);
  }

  private nextHomesOfPartition(partition: number): NodeId[] {
    return this.nextRing === undefined ? [] : this.nextRing.preferenceListAt(this.nextRing.partitionStart(partition), this.config.replicas);
  }

  // --- identity of writes and requests ---------------------------------------------------

  private newDot(): Dot {
    this.dotCounter++;
    return { actor: this.id, counter: this.dotCounter };
  }

  private nextRid(): string {
    this.ridSeq++;
    return `${this.ridPrefix}.${this.ridSeq}`;
  }

  private replay(durable: readonly QuorumPersistOp[]): void {
    for (const op of durable) {
      switch (op.op) {
        case 'state':
          this.store.set(op.key, op.state);
          this.dotCounter = Math.max(this.dotCounter, highestDotOf(op.state, this.id));
          break;
        case 'forget':
          this.store.delete(op.key);
          break;
        case 'dots':
          this.dotCounter = Math.max(this.dotCounter, op.floor);
          break;
        case 'hint':
          this.setHint(op.hint);
          this.dotCounter = Math.max(this.dotCounter, highestDotOf(op.hint.state, this.id));
          break;
        case 'hint-done':
          this.deleteHint(op.id);
          break;
        case 'ring':
          if (this.record === undefined || op.record.epoch > this.record.epoch) this.record = op.record;
          break;
      }
    }
    for (const [key, state] of this.store) {
      this.track(key);
      // a restarted replica waits a whole grace period again before collecting a tombstone
      if (isTombstoneOnly(state)) this.tombstoneSinceMs.set(key, this.env.now());
    }
  }
}

const MAX_ID_LENGTH = 200;

/** An optional ring epoch in a peer's message. */
function epochOk(epoch: unknown): boolean {
  return epoch === undefined || (Number.isSafeInteger(epoch) && (epoch as number) >= 0);
}

/**
 * What is wrong with a peer's message before any field is used (states, requests and Merkle
 * bodies are checked further where they are read); undefined when its fields have their types.
 */
export function messageProblem(msg: unknown): string | undefined {
  if (typeof msg !== 'object' || msg === null) return 'a message is an object';
  const m = msg as Record<string, unknown>;
  const text = (field: string, max = MAX_ID_LENGTH + 2048): boolean => typeof m[field] === 'string' && (m[field] as string).length <= max;
  switch (m['type']) {
    case 'ping':
    case 'pong':
      return epochOk(m['epoch']) ? undefined : 'epoch is a non-negative integer';
    case 'ring-ask':
      return undefined;
    case 'swim':
      return typeof m['body'] === 'object' && m['body'] !== null && !Array.isArray(m['body']) ? undefined : 'swim needs a body object';
    case 'ring':
      return typeof m['record'] === 'object' && m['record'] !== null ? undefined : 'ring needs a record';
    case 'ring-done':
      return Number.isSafeInteger(m['epoch']) ? undefined : 'ring-done needs an epoch';
    case 'handoff':
      if (!epochOk(m['epoch'])) return 'epoch is a non-negative integer';
      return text('xid', MAX_ID_LENGTH) && Array.isArray(m['states']) && (m['states'] as unknown[]).every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string') ? undefined : 'handoff needs xid and [key, state] pairs';
    case 'handoff-ack':
      return text('xid', MAX_ID_LENGTH) ? undefined : 'handoff-ack needs an xid';
    case 'store':
      if (!epochOk(m['epoch'])) return 'epoch is a non-negative integer';
      return text('rid', MAX_ID_LENGTH) && text('key') && (m['hintFor'] === undefined || text('hintFor', MAX_ID_LENGTH)) ? undefined : 'store needs rid, key (and hintFor) strings';
    case 'stored':
      return text('rid', MAX_ID_LENGTH) ? undefined : 'stored needs a rid';
    case 'fetch':
      return text('rid', MAX_ID_LENGTH) && text('key') ? undefined : 'fetch needs rid and key';
    case 'fetched':
      return text('rid', MAX_ID_LENGTH) ? undefined : 'fetched needs a rid';
    case 'forward':
      return text('rid', MAX_ID_LENGTH) ? undefined : 'forward needs a rid';
    case 'forwarded':
      return text('rid', MAX_ID_LENGTH) && typeof m['response'] === 'object' && m['response'] !== null ? undefined : 'forwarded needs rid and response';
    case 'hint':
      return text('id', MAX_ID_LENGTH) && text('key') ? undefined : 'hint needs id and key';
    case 'hint-ack':
      return text('id', MAX_ID_LENGTH) ? undefined : 'hint-ack needs an id';
    case 'repair':
      return Array.isArray(m['states']) && (m['states'] as unknown[]).every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string') ? undefined : 'repair needs [key, state] pairs';
    case 'ae':
      return text('sid', 64) && Number.isInteger(m['partition']) ? undefined : 'ae needs sid and partition';
    case 'tomb-check':
      return text('key') && text('digest', 64) ? undefined : 'tomb-check needs key and digest';
    case 'tomb-same':
      return text('key') && text('digest', 64) && typeof m['same'] === 'boolean' ? undefined : 'tomb-same needs key, digest and same';
    default:
      return 'unknown message type';
  }
}

function acksIn(write: PendingWrite, group: AckGroup): number {
  let count = 0;
  for (const node of write.acks) if (group.homes.includes(write.asked.get(node) as NodeId)) count++;
  return count;
}

function describeNeeded(write: PendingWrite): string {
  return write.groups.map((g, i) => `${acksIn(write, g)} of the ${g.needed} needed ${i === 0 ? 'among the homes' : 'among the next ring\'s homes'}`).join(', ');
}

/** The merge of every non-empty answer (undefined when no replica had the key). */
function mergeAnswers(answers: Iterable<KeyState | null>): KeyState | undefined {
  let merged: KeyState | undefined;
  for (const a of answers) if (a !== null) merged = merged === undefined ? a : mergeStates(merged, a);
  return merged;
}

/** A short digest of a state's canonical text, for anti-entropy and tombstone checks: 64 bits as hex, from two MurmurHash3 seeds. */
export function digestOf(state: KeyState): string {
  const bytes = new TextEncoder().encode(canonicalText(state));
  const hex = (x: number): string => x.toString(16).padStart(8, '0');
  return hex(murmur3(bytes, 0x9747b28c)) + hex(murmur3(bytes, 0x5bd1e995));
}
