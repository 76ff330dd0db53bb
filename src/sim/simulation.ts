// The deterministic simulator: runs sans-I/O protocol cores in virtual time (integer ms) over a
// simulated network and disk, injects faults on request, and records a trace and a history.
// Everything random comes from named streams of one seed, so a seed replays exactly.
import type { CoreEnv, Effects, Message, NodeId, OutputOptions, ProtocolCore, ProtocolSpec } from '../core/index.js';
import { SimDisk } from './disk.js';
import { HistoryRecorder, type History, type JsonValue, type Outcome } from '../core/index.js';
import { CutSet, DEFAULT_LINK, sampleLatencyMs, validateLink, type LinkConfig } from './network.js';
import { BucketQueue } from './queue.js';
import { RandomSource, type RandomStream } from './rng.js';
import { TraceRecorder, type DropReason, type TraceEvent } from './trace.js';
import { assertInvariant } from '../core/index.js';

export type AnnotationValue = string | number | boolean | null;

export interface SimulationOptions<M extends Message, Req, Res, P> {
  readonly seed: number;
  readonly protocol: ProtocolSpec<M, Req, Res, P>;
  /** A node count (named "1".."N") or explicit names. */
  readonly nodes: number | readonly NodeId[];
  /** The configuration of every link unless changed later. */
  readonly link?: Partial<LinkConfig>;
  /** Time an fsync takes; messages that depend on the write wait for it. Default 0. */
  readonly fsyncMs?: number;
  /** Probability that a crash tears the last unsynced write. Default 0.5. */
  readonly tornWriteRate?: number;
  /** One-way latency between clients and nodes. Default 1 ms. */
  readonly clientLatencyMs?: number;
  /**
   * Where the network draws loss, latency and duplication from: one random stream per directed
   * link (the default: a link's draws do not depend on any other link's traffic), or one per
   * sending node — for thousands of nodes, where a stream per link used would cost millions of
   * streams. Both are deterministic; they draw different numbers.
   */
  readonly linkRandomness?: 'per-link' | 'per-sender';
  /** The size of a message in bytes: when given, the stats count the bytes sent (total and per type). */
  readonly messageBytes?: (msg: M) => number;
  /** Tracing: off, or on (hash always; lines kept or streamed when asked). Default: on, lines not kept. */
  readonly trace?: false | { readonly keepLines?: boolean; readonly sink?: (line: string) => void; readonly messageBodies?: boolean };
}

export interface MessageCounters {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  /** Bytes sent, when SimulationOptions.messageBytes is given. */
  bytes?: number;
}

export interface SimStats {
  readonly total: MessageCounters;
  readonly byType: ReadonlyMap<string, MessageCounters>;
  readonly dropsByReason: Readonly<Record<DropReason, number>>;
  eventsProcessed: number;
}

const enum Kind {
  Deliver,
  Tick,
  Request,
  Reply,
  Fsync,
  Call,
}

/** One shape for every event keeps the hot loop monomorphic. */
interface SimEvent {
  atMs: number;
  seq: number;
  kind: Kind;
  node: number;
  from: number;
  incarnation: number;
  payload: unknown;
  id: string;
  /** A message's id (Deliver events), for traces and dropInFlight. */
  msgId: number;
  fn: (() => void) | undefined;
}

interface Batch<M, Res> {
  /** The write count (monotonic) that must be synced before this batch may leave. */
  readonly needsSynced: number;
  readonly sends: { to: NodeId; msg: M }[];
  readonly replies: { requestId: string; response: Res }[];
}

interface PendingRequest<Res> {
  readonly process: string;
  readonly callback: (response: Res | undefined) => void;
}

const MAX_EVENTS_PER_MS = 1_000_000;

class SimNode<M extends Message, Req, Res, P> implements Effects<M, P, Res> {
  up = false;
  incarnation = 0;
  core: ProtocolCore<M, Req, Res, P> | undefined;
  busyUntilMs = 0;
  processingMs = 0;
  /** Local clock = localAnchorMs + (virtual - virtualAnchorMs) * rate. */
  localAnchorMs = 0;
  virtualAnchorMs = 0;
  offsetMs = 0;
  driftPpm = 0;
  writtenTotal = 0;
  syncedTotal = 0;
  discardedTotal = 0;
  readonly outbox: Batch<M, Res>[] = [];
  readonly annotations = new Map<string, AnnotationValue>();
  // buffers filled by the core during one call
  sends: { to: NodeId; msg: M }[] = [];
  persists: P[] = [];
  replies: { requestId: string; response: Res }[] = [];
  /** Outputs that need not wait for unsynced writes (OutputOptions.awaitPersist false). */
  earlySends: { to: NodeId; msg: M }[] = [];
  earlyReplies: { requestId: string; response: Res }[] = [];
  annotationsChanged: [string, AnnotationValue][] = [];

  constructor(
    readonly id: NodeId,
    readonly index: number,
    readonly members: readonly NodeId[],
    readonly disk: SimDisk<P>,
    readonly coreRng: RandomStream,
    readonly hostRng: RandomStream,
  ) {}

  send(to: NodeId, msg: M, options?: OutputOptions): void {
    (options?.awaitPersist === false ? this.earlySends : this.sends).push({ to, msg });
  }
  persist(op: P): void {
    this.persists.push(op);
  }
  reply(requestId: string, response: Res, options?: OutputOptions): void {
    (options?.awaitPersist === false ? this.earlyReplies : this.replies).push({ requestId, response });
  }
  annotate(key: string, value: AnnotationValue): void {
    if (this.annotations.get(key) === value && this.annotations.has(key)) return;
    this.annotations.set(key, value);
    this.annotationsChanged.push([key, value]);
  }
}

export class Simulation<M extends Message, Req, Res, P> {
  readonly seed: number;
  readonly spec: ProtocolSpec<M, Req, Res, P>;
  readonly random: RandomSource;
  readonly history = new HistoryRecorder();
  readonly trace: TraceRecorder | undefined;
  readonly stats: SimStats;
  private readonly queue = new BucketQueue<SimEvent>();
  private readonly nodes: SimNode<M, Req, Res, P>[] = [];
  private readonly byId = new Map<NodeId, SimNode<M, Req, Res, P>>();
  private readonly cuts: CutSet;
  private defaultLink: LinkConfig;
  private readonly linkOverrides = new Map<number, LinkConfig>();
  /** Per-link random streams, indexed [from][to], created on first use. */
  private readonly linkRngs: (RandomStream | undefined)[][] = [];
  private readonly pending = new Map<string, PendingRequest<Res>>();
  private readonly observers: ((e: TraceEvent) => void)[] = [];
  private readonly fsyncMs: number;
  private readonly tornWriteRate: number;
  private readonly clientLatencyMs: number;
  private readonly traceBodies: boolean;
  private readonly messageBytes: ((msg: M) => number) | undefined;
  private readonly perSenderRandomness: boolean;
  /** Per-sender random streams (linkRandomness 'per-sender'), indexed by node, created on first use. */
  private readonly senderRngs: (RandomStream | undefined)[] = [];
  private tracing: boolean;
  private nowMsValue = 0;
  private nextMsgId = 1;
  /** Messages in flight that a user dropped (the visualizer's click); removed on arrival. */
  private readonly cancelledMessages = new Set<number>();
  private lastCountedType: string | undefined;
  private lastCounters: MessageCounters | undefined;
  private nextRequestId = 0;
  private eventsAtThisMs = 0;
  private lastEventMs = -1;

  constructor(options: SimulationOptions<M, Req, Res, P>) {
    this.seed = options.seed;
    this.spec = options.protocol;
    this.random = new RandomSource(options.seed);
    this.fsyncMs = nonNegative('fsyncMs', options.fsyncMs ?? 0);
    this.tornWriteRate = options.tornWriteRate ?? 0.5;
    this.clientLatencyMs = nonNegative('clientLatencyMs', options.clientLatencyMs ?? 1);
    this.defaultLink = { ...DEFAULT_LINK, ...options.link };
    validateLink(this.defaultLink);
    const traceOpt = options.trace ?? {};
    this.trace = traceOpt === false ? undefined : new TraceRecorder(traceOpt.keepLines ?? false, traceOpt.sink);
    this.traceBodies = traceOpt === false ? false : (traceOpt.messageBodies ?? true);
    this.tracing = this.trace !== undefined;
    this.messageBytes = options.messageBytes;
    this.perSenderRandomness = options.linkRandomness === 'per-sender';
    this.stats = {
      total: { sent: 0, delivered: 0, dropped: 0, duplicated: 0 },
      byType: new Map(),
      dropsByReason: { loss: 0, partition: 0, down: 0, stale: 0, manual: 0 },
      eventsProcessed: 0,
    };
    const ids = typeof options.nodes === 'number' ? Array.from({ length: options.nodes }, (_, i) => String(i + 1)) : [...options.nodes];
    if (ids.length === 0) throw new RangeError('a simulation needs at least one node');
    if (new Set(ids).size !== ids.length) throw new RangeError(`duplicate node ids in ${ids.join(',')}`);
    this.cuts = new CutSet(ids.length);
    for (const id of ids) this.createNode(id, ids);
    for (const node of this.nodes) this.boot(node);
  }

  // ---------------------------------------------------------------- time and running

  get nowMs(): number {
    return this.nowMsValue;
  }

  /** Runs every event due up to and including `untilMs`, then sets the clock to `untilMs`. */
  runUntil(untilMs: number): void {
    if (untilMs < this.nowMsValue) throw new RangeError(`cannot run back in time to ${untilMs} (now ${this.nowMsValue})`);
    while (this.queue.peekTime(untilMs) <= untilMs) this.step();
    this.nowMsValue = untilMs;
  }

  runFor(durationMs: number): void {
    this.runUntil(this.nowMsValue + nonNegative('durationMs', durationMs));
  }

  /** Runs until `predicate` holds (checked after each event) or `timeoutMs` passes; returns whether it held. */
  runUntilTrue(predicate: () => boolean, timeoutMs: number): boolean {
    const deadline = this.nowMsValue + timeoutMs;
    if (predicate()) return true;
    while (this.queue.peekTime(deadline) <= deadline) {
      this.step();
      if (predicate()) return true;
    }
    this.nowMsValue = deadline;
    return false;
  }

  /** Processes the next event; false when none is left. */
  step(): boolean {
    const e = this.queue.pop();
    if (e === undefined) return false;
    this.advanceTo(e.atMs);
    this.stats.eventsProcessed++;
    switch (e.kind) {
      case Kind.Deliver:
        this.onDeliver(e);
        break;
      case Kind.Tick:
        this.onTick(e);
        break;
      case Kind.Request:
        this.onRequest(e);
        break;
      case Kind.Reply:
        this.onReply(e);
        break;
      case Kind.Fsync:
        this.onFsync(e);
        break;
      case Kind.Call:
        (e.fn as () => void)();
        break;
    }
    return true;
  }

  private advanceTo(atMs: number): void {
    if (atMs === this.lastEventMs) {
      assertInvariant(++this.eventsAtThisMs <= MAX_EVENTS_PER_MS, () => `simulation livelock: over ${MAX_EVENTS_PER_MS} events at ${atMs} ms`);
    } else {
      this.lastEventMs = atMs;
      this.eventsAtThisMs = 0;
    }
    this.nowMsValue = atMs;
  }

  /** Runs `fn` (host code: a client, a nemesis step, a check) at virtual time `atMs`. */
  at(atMs: number, fn: () => void): void {
    if (atMs < this.nowMsValue) throw new RangeError(`cannot schedule in the past (${atMs} < ${this.nowMsValue})`);
    this.schedule(Kind.Call, atMs, -1, -1, 0, undefined, '', fn);
  }

  after(delayMs: number, fn: () => void): void {
    this.at(this.nowMsValue + nonNegative('delayMs', delayMs), fn);
  }

  private schedule(kind: Kind, atMs: number, node: number, from: number, incarnation: number, payload: unknown, id: string, fn?: () => void): void {
    this.queue.push({ atMs, seq: 0, kind, node, from, incarnation, payload, id, msgId: 0, fn });
  }

  private requeue(e: SimEvent, atMs: number): void {
    e.atMs = atMs;
    this.queue.push(e);
  }

  // ---------------------------------------------------------------- nodes

  get nodeIds(): NodeId[] {
    return this.nodes.map((n) => n.id);
  }

  isUp(id: NodeId): boolean {
    return this.node(id).up;
  }

  /** The node's latest annotations (role, term, ...); empty while it is down. */
  annotations(id: NodeId): ReadonlyMap<string, AnnotationValue> {
    return this.node(id).annotations;
  }

  /** The running core object, for inspection by tests and monitors (undefined while down). */
  core(id: NodeId): ProtocolCore<M, Req, Res, P> | undefined {
    return this.node(id).core;
  }

  /** The node's local clock reading now. */
  localNowMs(id: NodeId): number {
    return this.localNow(this.node(id));
  }

  disk(id: NodeId): SimDisk<P> {
    return this.node(id).disk;
  }

  /** Adds a node (e.g. before a membership change); `members` is what its core sees at boot. */
  addNode(id: NodeId, members?: readonly NodeId[]): void {
    if (this.byId.has(id)) throw new RangeError(`node ${id} already exists`);
    this.cuts.resize(this.nodes.length + 1);
    const node = this.createNode(id, members === undefined ? [...this.nodeIds, id] : [...members]);
    this.boot(node);
  }

  /** `members` is the node's own (the nodes created together share one array: thousands of nodes would otherwise hold N² ids). */
  private createNode(id: NodeId, members: readonly NodeId[]): SimNode<M, Req, Res, P> {
    const disk = new SimDisk<P>({ tornWriteRate: this.tornWriteRate });
    const node = new SimNode<M, Req, Res, P>(id, this.nodes.length, members, disk, this.random.stream(`core:${id}`), this.random.stream(`host:${id}`));
    this.nodes.push(node);
    this.byId.set(id, node);
    return node;
  }

  private node(id: NodeId): SimNode<M, Req, Res, P> {
    const n = this.byId.get(id);
    if (n === undefined) throw new RangeError(`unknown node ${JSON.stringify(id)} (nodes: ${this.nodeIds.join(', ')})`);
    return n;
  }

  private boot(node: SimNode<M, Req, Res, P>, replayed = 0, repaired = 0): void {
    const durable = node.disk.read('core').map((r) => r.value);
    const env: CoreEnv = {
      id: node.id,
      members: node.members,
      now: () => this.localNow(node),
      random: () => node.coreRng.float(),
    };
    node.core = this.spec.create(env, durable);
    node.up = true;
    node.busyUntilMs = this.nowMsValue;
    if (node.incarnation > 0 && this.tracing) this.emit({ t: this.nowMsValue, ev: 'restart', node: node.id, replayedOps: replayed, repairedRecords: repaired });
    if (node.core.start !== undefined) {
      node.core.start(node);
      this.flush(node);
    }
    if (this.spec.tickIntervalMs > 0) {
      const phaseMs = node.hostRng.int(1, Math.max(1, this.tickVirtualMs(node)));
      this.schedule(Kind.Tick, this.nowMsValue + phaseMs, node.index, -1, node.incarnation, undefined, '');
    }
  }

  // ---------------------------------------------------------------- process faults

  /** Power loss: volatile state and unsynced writes are gone; messages waiting for fsync never leave. */
  crash(id: NodeId): void {
    const node = this.node(id);
    if (!node.up) return;
    node.up = false;
    node.incarnation++;
    node.core = undefined;
    node.outbox.length = 0;
    node.sends = [];
    node.persists = [];
    node.replies = [];
    node.earlySends = [];
    node.earlyReplies = [];
    node.annotations.clear();
    const lost = node.disk.crash(node.hostRng);
    node.writtenTotal = node.syncedTotal = node.discardedTotal + node.disk.read('core').length;
    if (this.tracing) this.emit({ t: this.nowMsValue, ev: 'crash', node: id, lostWrites: lost });
  }

  /** Restarts a crashed node from what its disk holds (a torn tail is cut off first). */
  restart(id: NodeId): void {
    const node = this.node(id);
    if (node.up) return;
    const repaired = node.disk.repair('core');
    node.writtenTotal = node.syncedTotal = node.discardedTotal + node.disk.read('core').length;
    node.incarnation++;
    this.boot(node, node.disk.read('core').length, repaired);
  }

  /** A stop-the-world pause: the node processes nothing for `durationMs`; its timers fire late. */
  pause(id: NodeId, durationMs: number): void {
    const node = this.node(id);
    node.busyUntilMs = Math.max(node.busyUntilMs, this.nowMsValue + nonNegative('durationMs', durationMs));
    if (this.tracing) this.emit({ t: this.nowMsValue, ev: 'pause', node: id, ms: durationMs });
  }

  /** A gray failure: every input takes `processingMs`, so work queues up behind it. 0 restores. */
  setSlow(id: NodeId, processingMs: number): void {
    this.node(id).processingMs = nonNegative('processingMs', processingMs);
    if (this.tracing) this.emit({ t: this.nowMsValue, ev: 'slow', node: id, processingMs });
  }

  /** Sets the node's local clock to read `offsetMs` more than virtual time now, drifting at `driftPpm`. */
  setClock(id: NodeId, offsetMs: number, driftPpm = 0): void {
    if (!(driftPpm > -1_000_000)) throw new RangeError(`driftPpm must be > -1e6, got ${driftPpm}`);
    const node = this.node(id);
    node.localAnchorMs = this.nowMsValue + offsetMs;
    node.virtualAnchorMs = this.nowMsValue;
    node.offsetMs = offsetMs;
    node.driftPpm = driftPpm;
    if (this.tracing) this.emit({ t: this.nowMsValue, ev: 'clock', node: id, offsetMs, driftPpm });
  }

  private localNow(node: SimNode<M, Req, Res, P>): number {
    const rate = 1 + node.driftPpm / 1e6;
    return node.localAnchorMs + Math.floor((this.nowMsValue - node.virtualAnchorMs) * rate);
  }

  private tickVirtualMs(node: SimNode<M, Req, Res, P>): number {
    return Math.max(1, Math.round(this.spec.tickIntervalMs / (1 + node.driftPpm / 1e6)));
  }

  // ---------------------------------------------------------------- network faults

  /** Cuts both directions between every pair of nodes in different groups; unnamed nodes stay connected. */
  partition(groups: readonly (readonly NodeId[])[]): void {
    const cuts: [NodeId, NodeId][] = [];
    const indexed = groups.map((g) => g.map((id) => this.node(id).index));
    for (let i = 0; i < indexed.length; i++) {
      for (let j = 0; j < indexed.length; j++) {
        if (i === j) continue;
        for (const a of indexed[i] as number[]) for (const b of indexed[j] as number[]) {
          if (a === b || this.cuts.isCut(a, b)) continue;
          this.cuts.cut(a, b);
          cuts.push([(this.nodes[a] as SimNode<M, Req, Res, P>).id, (this.nodes[b] as SimNode<M, Req, Res, P>).id]);
        }
      }
    }
    if (this.tracing) this.emit({ t: this.nowMsValue, ev: 'partition', cuts });
  }

  /** Cuts one direction only: messages from `from` to `to` are lost, the reverse flows. */
  partitionOneWay(from: readonly NodeId[], to: readonly NodeId[]): void {
    const cuts: [NodeId, NodeId][] = [];
    for (const a of from) for (const b of to) {
      const ia = this.node(a).index;
      const ib = this.node(b).index;
      if (ia === ib || this.cuts.isCut(ia, ib)) continue;
      this.cuts.cut(ia, ib);
      cuts.push([a, b]);
    }
    if (this.tracing) this.emit({ t: this.nowMsValue, ev: 'partition', cuts });
  }

  /** Cuts a node off from every other node, both ways. */
  isolate(id: NodeId): void {
    this.partition([[id], this.nodeIds.filter((n) => n !== id)]);
  }

  heal(): void {
    this.cuts.healAll();
    if (this.tracing) this.emit({ t: this.nowMsValue, ev: 'heal' });
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return this.cuts.isCut(this.node(from).index, this.node(to).index);
  }

  /** Changes the link from `from` to `to` ('*' for all); unspecified fields keep their current values. */
  setLink(from: NodeId | '*', to: NodeId | '*', change: Partial<LinkConfig>): void {
    if (from === '*' && to === '*') {
      const next = { ...this.defaultLink, ...change };
      validateLink(next);
      this.defaultLink = next;
      this.linkOverrides.clear();
    } else {
      const froms = from === '*' ? this.nodeIds : [from];
      const tos = to === '*' ? this.nodeIds : [to];
      for (const a of froms) for (const b of tos) {
        const key = this.linkKey(this.node(a).index, this.node(b).index);
        const next = { ...(this.linkOverrides.get(key) ?? this.defaultLink), ...change };
        validateLink(next);
        this.linkOverrides.set(key, next);
      }
    }
    if (this.tracing) this.emit({ t: this.nowMsValue, ev: 'link', from, to, config: change });
  }

  link(from: NodeId, to: NodeId): LinkConfig {
    return this.linkOverrides.get(this.linkKey(this.node(from).index, this.node(to).index)) ?? this.defaultLink;
  }

  private linkKey(from: number, to: number): number {
    return from * 65536 + to;
  }

  private linkRng(from: number, to: number): RandomStream {
    if (this.perSenderRandomness) return this.senderRngs[from] ?? (this.senderRngs[from] = this.random.stream(`send:${(this.nodes[from] as SimNode<M, Req, Res, P>).id}`));
    const row = this.linkRngs[from] ?? (this.linkRngs[from] = []);
    let rng = row[to];
    if (rng === undefined) {
      rng = this.random.stream(`link:${(this.nodes[from] as SimNode<M, Req, Res, P>).id}->${(this.nodes[to] as SimNode<M, Req, Res, P>).id}`);
      row[to] = rng;
    }
    return rng;
  }

  // ---------------------------------------------------------------- clients

  /**
   * Sends a client request to node `to`. `callback` gets the reply, or undefined when none came
   * within `timeoutMs` (lost, node down, too slow). Returns the request id.
   */
  request(to: NodeId, request: Req, options: { timeoutMs: number; process?: string }, callback: (response: Res | undefined) => void): string {
    const node = this.node(to);
    const requestId = `q${this.nextRequestId++}`;
    const process = options.process ?? 'client';
    this.pending.set(requestId, { process, callback });
    this.schedule(Kind.Request, this.nowMsValue + this.clientLatencyMs, node.index, -1, 0, request, requestId);
    if (this.tracing) this.emit({ t: this.nowMsValue, ev: 'request', node: to, requestId, process, request });
    this.after(options.timeoutMs, () => {
      const p = this.pending.get(requestId);
      if (p === undefined) return;
      this.pending.delete(requestId);
      p.callback(undefined);
    });
    return requestId;
  }

  /** Records the start of a client operation in the history (and trace). */
  invoke(process: string, f: string, input: JsonValue): number {
    const index = this.history.invoke(process, f, input, this.nowMsValue);
    if (this.tracing) this.emit({ t: this.nowMsValue, ev: 'invoke', index, process, f, input });
    return index;
  }

  complete(index: number, outcome: Outcome, output: JsonValue): void {
    const op = this.history.complete(index, outcome, output, this.nowMsValue);
    if (this.tracing) this.emit({ t: this.nowMsValue, ev: 'complete', index, process: op.process, outcome, output: op.output });
  }

  historySnapshot(): History {
    return this.history.snapshot(this.nowMsValue);
  }

  // ---------------------------------------------------------------- observation

  /** Calls `observer` with every trace event (even when the trace itself is off). */
  subscribe(observer: (e: TraceEvent) => void): () => void {
    this.observers.push(observer);
    this.tracing = true;
    return () => {
      const i = this.observers.indexOf(observer);
      if (i >= 0) this.observers.splice(i, 1);
      this.tracing = this.trace !== undefined || this.observers.length > 0;
    };
  }

  /** Adds a free-form line to the trace (scenario captions, nemesis decisions). */
  note(text: string): void {
    if (this.tracing) this.emit({ t: this.nowMsValue, ev: 'note', text });
  }

  private emit(e: TraceEvent): void {
    this.trace?.record(e);
    for (const o of this.observers) o(e);
  }

  private countFor(type: string): MessageCounters {
    if (type === this.lastCountedType) return this.lastCounters as MessageCounters;
    const byType = this.stats.byType as Map<string, MessageCounters>;
    let c = byType.get(type);
    if (c === undefined) {
      c = { sent: 0, delivered: 0, dropped: 0, duplicated: 0 };
      byType.set(type, c);
    }
    this.lastCountedType = type;
    this.lastCounters = c;
    return c;
  }

  // ---------------------------------------------------------------- event handlers

  /** Defers an input that reaches a paused or busy node; true when deferred. */
  private deferIfBusy(node: SimNode<M, Req, Res, P>, e: SimEvent): boolean {
    if (node.busyUntilMs <= this.nowMsValue) return false;
    this.requeue(e, node.busyUntilMs);
    return true;
  }

  private afterInput(node: SimNode<M, Req, Res, P>): void {
    if (node.processingMs > 0) node.busyUntilMs = this.nowMsValue + node.processingMs;
    this.flush(node);
  }

  private onDeliver(e: SimEvent): void {
    const node = this.nodes[e.node] as SimNode<M, Req, Res, P>;
    const msg = e.payload as M;
    const from = (this.nodes[e.from] as SimNode<M, Req, Res, P>).id;
    if (this.cancelledMessages.size > 0 && this.cancelledMessages.delete(e.msgId)) return this.drop(e.msgId, from, node.id, msg.type, 'manual');
    if (!node.up) return this.drop(e.msgId, from, node.id, msg.type, 'down');
    if (this.cuts.isCut(e.from, e.node)) return this.drop(e.msgId, from, node.id, msg.type, 'partition');
    if (this.deferIfBusy(node, e)) return;
    this.stats.total.delivered++;
    this.countFor(msg.type).delivered++;
    if (this.tracing) this.emit({ t: this.nowMsValue, ev: 'deliver', id: e.msgId, from, to: node.id, type: msg.type });
    (node.core as ProtocolCore<M, Req, Res, P>).handleMessage(from, msg, node);
    this.afterInput(node);
  }

  private onTick(e: SimEvent): void {
    const node = this.nodes[e.node] as SimNode<M, Req, Res, P>;
    if (!node.up || e.incarnation !== node.incarnation) return;
    if (this.deferIfBusy(node, e)) return;
    if (this.tracing) this.emit({ t: this.nowMsValue, ev: 'tick', node: node.id });
    (node.core as ProtocolCore<M, Req, Res, P>).handleTick(node);
    this.afterInput(node);
    this.requeue(e, this.nowMsValue + this.tickVirtualMs(node));
  }

  private onRequest(e: SimEvent): void {
    const node = this.nodes[e.node] as SimNode<M, Req, Res, P>;
    if (!node.up) return this.drop(0, 'client', node.id, 'request', 'down');
    if (!this.pending.has(e.id)) return; // the client gave up before it arrived
    if (this.deferIfBusy(node, e)) return;
    (node.core as ProtocolCore<M, Req, Res, P>).handleRequest(e.id, e.payload as Req, node);
    this.afterInput(node);
  }

  private onReply(e: SimEvent): void {
    const p = this.pending.get(e.id);
    if (p === undefined) return; // timed out already, or a duplicate reply
    this.pending.delete(e.id);
    p.callback(e.payload as Res);
  }

  private onFsync(e: SimEvent): void {
    const node = this.nodes[e.node] as SimNode<M, Req, Res, P>;
    if (!node.up || e.incarnation !== node.incarnation) return;
    if (this.deferIfBusy(node, e)) return;
    this.markSynced(node, e.payload as number);
    this.releaseBatches(node);
  }

  private drop(id: number, from: NodeId, to: NodeId, type: string, reason: DropReason): void {
    this.stats.total.dropped++;
    this.countFor(type).dropped++;
    (this.stats.dropsByReason as Record<DropReason, number>)[reason]++;
    if (this.tracing) this.emit({ t: this.nowMsValue, ev: 'drop', id, from, to, type, reason });
  }

  /** Drops message `id` (from a trace `send` or `duplicate` event) if it is still in flight. */
  dropInFlight(id: number): void {
    this.cancelledMessages.add(id);
  }

  // ---------------------------------------------------------------- persist before you speak

  /** Takes what the core emitted during one call: writes, then messages and replies once synced. */
  private flush(node: SimNode<M, Req, Res, P>): void {
    if (node.annotationsChanged.length > 0) {
      if (this.tracing) for (const [key, value] of node.annotationsChanged) this.emit({ t: this.nowMsValue, ev: 'annotate', node: node.id, key, value });
      node.annotationsChanged = [];
    }
    if (node.persists.length > 0) this.write(node);
    if (node.earlySends.length > 0 || node.earlyReplies.length > 0) {
      const early = { sends: node.earlySends, replies: node.earlyReplies };
      node.earlySends = [];
      node.earlyReplies = [];
      this.dispatch(node, early.sends, early.replies);
    }
    const sends = node.sends;
    const replies = node.replies;
    if (sends.length === 0 && replies.length === 0) return;
    node.sends = [];
    node.replies = [];
    if (node.outbox.length === 0 && node.syncedTotal === node.writtenTotal) {
      this.dispatch(node, sends, replies);
    } else {
      node.outbox.push({ needsSynced: node.writtenTotal, sends, replies });
    }
  }

  private write(node: SimNode<M, Req, Res, P>): void {
    for (const op of node.persists) node.disk.append('core', op);
    node.writtenTotal += node.persists.length;
    if (this.tracing) this.emit({ t: this.nowMsValue, ev: 'persist', node: node.id, ops: node.persists.length });
    node.persists = [];
    if (this.fsyncMs === 0) this.markSynced(node, node.writtenTotal);
    else this.schedule(Kind.Fsync, this.nowMsValue + this.fsyncMs, node.index, -1, node.incarnation, node.writtenTotal, '');
  }

  private markSynced(node: SimNode<M, Req, Res, P>, upToTotal: number): void {
    if (upToTotal <= node.syncedTotal) return;
    const firstNew = node.syncedTotal - node.discardedTotal;
    node.disk.syncPrefix('core', upToTotal - node.discardedTotal);
    node.syncedTotal = upToTotal;
    if (this.tracing) this.emit({ t: this.nowMsValue, ev: 'fsync', node: node.id });
    this.compact(node, firstNew);
  }

  /** Drops durable ops that a newer synced op supersedes (e.g. a snapshot), keeping replay short. */
  private compact(node: SimNode<M, Req, Res, P>, firstNewIndex: number): void {
    const supersedes = this.spec.supersedesEarlier;
    if (supersedes === undefined) return;
    const records = node.disk.read('core');
    const syncedCount = node.syncedTotal - node.discardedTotal;
    for (let i = syncedCount - 1; i >= Math.max(1, firstNewIndex); i--) {
      if (supersedes((records[i] as { value: P }).value)) {
        node.disk.discardBefore('core', i);
        node.discardedTotal += i;
        return;
      }
    }
  }

  private releaseBatches(node: SimNode<M, Req, Res, P>): void {
    while (node.outbox.length > 0 && (node.outbox[0] as Batch<M, Res>).needsSynced <= node.syncedTotal) {
      const batch = node.outbox.shift() as Batch<M, Res>;
      this.dispatch(node, batch.sends, batch.replies);
    }
  }

  private dispatch(node: SimNode<M, Req, Res, P>, sends: { to: NodeId; msg: M }[], replies: { requestId: string; response: Res }[]): void {
    for (const s of sends) this.transmit(node, s.to, s.msg);
    for (const r of replies) {
      if (this.tracing) this.emit({ t: this.nowMsValue, ev: 'reply', node: node.id, requestId: r.requestId, response: r.response });
      this.schedule(Kind.Reply, this.nowMsValue + this.clientLatencyMs, node.index, -1, 0, r.response, r.requestId);
    }
  }

  private transmit(node: SimNode<M, Req, Res, P>, toId: NodeId, msg: M): void {
    const to = this.byId.get(toId);
    assertInvariant(to !== undefined, () => `node ${node.id} sent ${msg.type} to unknown node ${JSON.stringify(toId)}`);
    this.stats.total.sent++;
    const counters = this.countFor(msg.type);
    counters.sent++;
    if (this.messageBytes !== undefined) {
      const bytes = this.messageBytes(msg);
      this.stats.total.bytes = (this.stats.total.bytes ?? 0) + bytes;
      counters.bytes = (counters.bytes ?? 0) + bytes;
    }
    const id = this.nextMsgId++;
    const now = this.nowMsValue;
    const link = this.linkOverrides.size === 0 ? this.defaultLink : this.link(node.id, toId);
    const rng = this.linkRng(node.index, to.index);
    const cut = this.cuts.isCut(node.index, to.index);
    const lost = !cut && rng.chance(link.lossRate);
    const arriveMs = cut || lost ? null : now + this.delayMs(link, rng, msg.type);
    if (this.tracing) this.emit({ t: now, ev: 'send', id, from: node.id, to: toId, type: msg.type, arriveMs, msg: this.traceBodies ? msg : undefined });
    if (arriveMs === null) return this.drop(id, node.id, toId, msg.type, cut ? 'partition' : 'loss');
    this.scheduleDelivery(arriveMs, to.index, node.index, msg, id);
    if (rng.chance(link.duplicateRate)) {
      this.stats.total.duplicated++;
      counters.duplicated++;
      const copyId = this.nextMsgId++;
      const copyArriveMs = now + this.delayMs(link, rng, msg.type);
      if (this.tracing) this.emit({ t: now, ev: 'duplicate', id: copyId, of: id, from: node.id, to: toId, type: msg.type, arriveMs: copyArriveMs });
      this.scheduleDelivery(copyArriveMs, to.index, node.index, msg, copyId);
    }
  }

  private scheduleDelivery(atMs: number, to: number, from: number, msg: M, msgId: number): void {
    this.queue.push({ atMs, seq: 0, kind: Kind.Deliver, node: to, from, incarnation: 0, payload: msg, id: '', msgId, fn: undefined });
  }

  private delayMs(link: LinkConfig, rng: RandomStream, type: string): number {
    let ms = sampleLatencyMs(link.latencyByType?.[type] ?? link.latency, rng) + link.extraDelayMs;
    if (rng.chance(link.reorderRate)) ms += rng.int(1, Math.max(1, link.reorderWindowMs));
    return ms;
  }
}

function nonNegative(name: string, value: number): number {
  if (!(value >= 0) || !Number.isFinite(value)) throw new RangeError(`${name} must be a finite number >= 0, got ${value}`);
  return value;
}
