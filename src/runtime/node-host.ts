// The Node host: drives one sans-I/O protocol core with real timers, a real clock, a durable
// store and a peer transport. It keeps the promise of the contract: the ops a core persists are
// durable before any message or reply of that call, or of a later one, leaves the process
// (outputs the core marks `awaitPersist: false` leave at once).
import type { CoreEnv, Effects, Message, NodeId, ProtocolCore, ProtocolSpec } from '../sim/index.js';
import { assertInvariant } from '../core/index.js';

/** Durable storage of a core's persist ops (e.g. RaftStorage over the WAL). */
export interface DurableStore<P> {
  /** The ops recovered at open, oldest first, to hand to `spec.create`. */
  readonly recovered: readonly P[];
  /** Resolves once the ops are written and synced; calls resolve in call order. */
  persist(ops: readonly P[]): Promise<void>;
}

/** A peer-to-peer message transport (e.g. src/net's TCP transport). */
export interface PeerTransport<M> {
  send(to: NodeId, msg: M): void;
  onMessage(handler: (from: NodeId, msg: M) => void): void;
}

export interface NodeHostOptions<M extends Message, P> {
  readonly id: NodeId;
  readonly members: readonly NodeId[];
  readonly store: DurableStore<P>;
  readonly transport: PeerTransport<M>;
  /** Wall clock in ms; Date.now by default. */
  readonly now?: () => number;
  /** Uniform in [0, 1); Math.random by default (a node's choices need not replay). */
  readonly random?: () => number;
  /** Called when persisting fails: the node can no longer keep its promises and must stop. */
  readonly onFatal?: (err: Error) => void;
}

export type AnnotationListener = (key: string, value: string | number | boolean | null) => void;

interface Outputs<M, Res> {
  sends: { to: NodeId; msg: M }[];
  replies: { requestId: string; response: Res }[];
}

/** Bounds the requests waiting for a reply; past it new ones are refused at once. */
const MAX_PENDING_REQUESTS = 100_000;

export class NodeHost<M extends Message, Req, Res, P, Core extends ProtocolCore<M, Req, Res, P> = ProtocolCore<M, Req, Res, P>> {
  private core: Core | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private nextRequestId = 0;
  private readonly pendingRequests = new Map<string, (res: Res) => void>();
  /** Outputs may leave only after this settles: the last persist (and what was queued behind it). */
  private releaseChain: Promise<void> = Promise.resolve();
  private persistsInFlight = 0;
  /**
   * Writes and outputs of the calls of this event-loop turn, handed to the store together at its
   * end: fifty requests read from fifty sockets in one turn cost one persist call, not fifty.
   */
  private turnOps: P[] = [];
  private turnOutputs: Outputs<M, Res> = { sends: [], replies: [] };
  private turnFlushScheduled = false;
  private readonly annotationValues = new Map<string, string | number | boolean | null>();
  private readonly annotationListeners: AnnotationListener[] = [];
  private stopped = false;
  // buffers the core fills during one call
  private persists: P[] = [];
  private outputs: Outputs<M, Res> = { sends: [], replies: [] };
  private earlyOutputs: Outputs<M, Res> = { sends: [], replies: [] };

  constructor(
    private readonly spec: ProtocolSpec<M, Req, Res, P, Core>,
    private readonly options: NodeHostOptions<M, P>,
  ) {}

  /** Builds the core from the recovered ops and starts ticking and listening. */
  start(): void {
    assertInvariant(this.core === undefined, () => `node ${this.options.id} already started`);
    const env: CoreEnv = {
      id: this.options.id,
      members: this.options.members,
      now: this.options.now ?? Date.now,
      random: this.options.random ?? Math.random,
    };
    this.core = this.spec.create(env, this.options.store.recovered);
    this.options.transport.onMessage((from, msg) => this.call((core, fx) => core.handleMessage(from, msg, fx)));
    if (this.core.start !== undefined) this.call((core, fx) => core.start?.(fx));
    if (this.spec.tickIntervalMs > 0) this.scheduleTick();
  }

  /** Stops ticking and accepting input; outputs already released still go out. */
  stop(): void {
    this.stopped = true;
    if (this.tickTimer !== undefined) clearTimeout(this.tickTimer);
  }

  /**
   * Hands a client request to the core; resolves with its reply, or with undefined when none
   * came within `timeoutMs` (a late reply is then dropped).
   */
  request(request: Req, timeoutMs: number): Promise<Res | undefined> {
    if (this.pendingRequests.size >= MAX_PENDING_REQUESTS) return Promise.reject(new Error('too many requests in flight'));
    const requestId = `r${this.nextRequestId++}`;
    return new Promise<Res | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.pendingRequests.delete(requestId);
        resolve(undefined);
      }, timeoutMs);
      this.pendingRequests.set(requestId, (res) => {
        clearTimeout(timer);
        resolve(res);
      });
      this.call((core, fx) => core.handleRequest(requestId, request, fx));
    });
  }

  /** Client requests still waiting for their reply: how busy the node is, for its store's I/O policy. */
  get pendingRequestCount(): number {
    return this.pendingRequests.size;
  }

  annotations(): ReadonlyMap<string, string | number | boolean | null> {
    return this.annotationValues;
  }

  onAnnotate(listener: AnnotationListener): void {
    this.annotationListeners.push(listener);
  }

  /** The running core, for inspection (tests, status endpoints). */
  get running(): Core | undefined {
    return this.core;
  }

  private scheduleTick(): void {
    // a chain of timeouts, not an interval: a late tick (GC, SIGSTOP) fires once, not in a burst
    this.tickTimer = setTimeout(() => {
      this.call((core, fx) => core.handleTick(fx));
      if (!this.stopped) this.scheduleTick();
    }, this.spec.tickIntervalMs);
  }

  private readonly fx: Effects<M, P, Res> = {
    send: (to, msg, options) => void (options?.awaitPersist === false ? this.earlyOutputs : this.outputs).sends.push({ to, msg }),
    persist: (op) => void this.persists.push(op),
    reply: (requestId, response, options) => void (options?.awaitPersist === false ? this.earlyOutputs : this.outputs).replies.push({ requestId, response }),
    annotate: (key, value) => {
      if (this.annotationValues.get(key) === value && this.annotationValues.has(key)) return;
      this.annotationValues.set(key, value);
      for (const l of this.annotationListeners) l(key, value);
    },
  };

  /** Runs one input through the core, then persists and releases its outputs in order. */
  private call(input: (core: ProtocolCore<M, Req, Res, P>, fx: Effects<M, P, Res>) => void): void {
    if (this.stopped || this.core === undefined) return;
    input(this.core, this.fx);
    const persists = this.persists;
    const outputs = this.outputs;
    const early = this.earlyOutputs;
    this.persists = [];
    this.outputs = { sends: [], replies: [] };
    // Outputs that need no write go first, so that a transport that batches until later in the
    // turn (setImmediate) still writes them before this turn's writes are even encoded: on a
    // leader that is the append to the followers, which sets the pace of a commit.
    if (early.sends.length > 0 || early.replies.length > 0) {
      this.earlyOutputs = { sends: [], replies: [] };
      this.dispatch(early);
    }
    if (persists.length > 0 || this.turnOps.length > 0) {
      // joins this turn's batch; outputs stay in call order behind the writes before them
      for (const op of persists) this.turnOps.push(op);
      for (const s of outputs.sends) this.turnOutputs.sends.push(s);
      for (const r of outputs.replies) this.turnOutputs.replies.push(r);
      this.scheduleTurnFlush();
    } else if (outputs.sends.length > 0 || outputs.replies.length > 0) {
      this.release(outputs);
    }
  }

  private scheduleTurnFlush(): void {
    if (this.turnFlushScheduled) return;
    this.turnFlushScheduled = true;
    // setImmediate runs after every I/O callback of this turn, before the loop waits again
    setImmediate(() => {
      this.turnFlushScheduled = false;
      const ops = this.turnOps;
      const outputs = this.turnOutputs;
      this.turnOps = [];
      this.turnOutputs = { sends: [], replies: [] };
      if (!this.stopped && ops.length > 0) this.persistThenRelease(ops, outputs);
    });
  }

  private persistThenRelease(ops: P[], outputs: Outputs<M, Res>): void {
    this.persistsInFlight++;
    const written = this.options.store.persist(ops);
    this.releaseChain = Promise.all([this.releaseChain, written]).then(
      () => {
        this.persistsInFlight--;
        this.dispatch(outputs);
      },
      (err: unknown) => this.fail(err),
    );
  }

  private release(outputs: Outputs<M, Res>): void {
    if (this.persistsInFlight === 0) {
      this.dispatch(outputs); // nothing unsynced ahead of it: send now
      return;
    }
    this.releaseChain = this.releaseChain.then(() => this.dispatch(outputs));
  }

  private dispatch(outputs: Outputs<M, Res>): void {
    if (this.stopped) return;
    for (const s of outputs.sends) {
      // a message to itself (e.g. Raft's durability probe) never touches the network
      if (s.to === this.options.id) queueMicrotask(() => this.call((core, fx) => core.handleMessage(s.to, s.msg, fx)));
      else this.options.transport.send(s.to, s.msg);
    }
    for (const r of outputs.replies) {
      const resolve = this.pendingRequests.get(r.requestId);
      if (resolve === undefined) continue;
      this.pendingRequests.delete(r.requestId);
      resolve(r.response);
    }
  }

  private fail(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.stop();
    this.options.onFatal?.(error);
  }
}
