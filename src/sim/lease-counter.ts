// A demonstration of composition and client nodes: a lease server and a counter store, composed
// in one simulation with client nodes that take the lease, read the counter, work, then write it.
// A client paused past its lease writes over a later holder (a lost update) unless the store
// fences by token. A demo, not the lock primitive: one lease server, one store, no replication.
import type { CoreEnv, Effects, JsonValue, NodeId, ProtocolCore, ProtocolSpec } from '../core/index.js';
import { checkHistory, kvModel, type CheckResult } from '../check/index.js';
import { clientNodeSpec, ClientNodeDriver, randomWorkload, type ClientContext, type ClientNodeResponse, type ClientProgram } from './client-node.js';
import { SimCluster } from './cluster.js';
import { composeSpecs, type ComposedMessage, type ComposedOp, type ComposedRequest, type ComposedResponse } from './compose.js';
import type { Violation } from './chaos.js';
import type { LinkConfig } from './network.js';
import { Simulation } from './simulation.js';

// ------------------------------------------------------------------ the lease server

export type LeaseMessage =
  | { readonly type: 'acquire'; readonly opId: string }
  | { readonly type: 'release'; readonly token: number }
  | { readonly type: 'grant'; readonly opId: string; readonly token: number; readonly ttlMs: number }
  | { readonly type: 'deny'; readonly opId: string };
/** Every token granted is persisted first, so a restarted server never grants one again. */
export type LeaseOp = { readonly kind: 'token'; readonly token: number };

type LeaseFx = Effects<LeaseMessage, LeaseOp, never>;

/** One lease, granted to one node at a time for `ttlMs` of the server's clock, with a token that only grows. */
export class LeaseServerCore implements ProtocolCore<LeaseMessage, never, never, LeaseOp> {
  private holder: { node: NodeId; token: number; expiresAt: number } | undefined;
  private lastToken = 0;
  /** After a restart, no grant until any lease of the earlier life has run out. */
  private readonly quietUntil: number;

  constructor(private readonly env: CoreEnv, durable: readonly LeaseOp[], private readonly ttlMs: number) {
    for (const op of durable) this.lastToken = Math.max(this.lastToken, op.token);
    this.quietUntil = durable.length > 0 ? env.now() + ttlMs : Number.NEGATIVE_INFINITY;
  }

  start(fx: LeaseFx): void {
    fx.annotate('token', this.lastToken);
  }

  handleMessage(from: NodeId, msg: LeaseMessage, fx: LeaseFx): void {
    const now = this.env.now();
    if (msg.type === 'acquire') {
      if (now < this.quietUntil || (this.holder !== undefined && this.holder.expiresAt > now)) {
        fx.send(from, { type: 'deny', opId: msg.opId });
        return;
      }
      const token = ++this.lastToken;
      this.holder = { node: from, token, expiresAt: now + this.ttlMs };
      fx.persist({ kind: 'token', token });
      fx.annotate('token', token);
      fx.annotate('holder', from);
      fx.send(from, { type: 'grant', opId: msg.opId, token, ttlMs: this.ttlMs });
    } else if (msg.type === 'release' && this.holder?.token === msg.token) {
      this.holder = undefined;
      fx.annotate('holder', null);
    }
  }

  handleTick(): void {}

  handleRequest(): void {}

  /** The token of the last grant (for tests). */
  get token(): number {
    return this.lastToken;
  }
}

export function leaseServerSpec(ttlMs: number): ProtocolSpec<LeaseMessage, never, never, LeaseOp, LeaseServerCore> {
  return { name: 'lease', tickIntervalMs: 0, create: (env, durable) => new LeaseServerCore(env, durable, ttlMs) };
}

// ------------------------------------------------------------------ the counter store

export type StoreMessage =
  /** `token` null: a plain read, outside any lease. */
  | { readonly type: 'read'; readonly opId: string; readonly token: number | null }
  | { readonly type: 'write'; readonly opId: string; readonly token: number; readonly value: number }
  | { readonly type: 'value'; readonly opId: string; readonly value: number | null }
  | { readonly type: 'written'; readonly opId: string; readonly value: number }
  | { readonly type: 'fenced'; readonly opId: string; readonly token: number; readonly highest: number };
export type StoreOp = { readonly kind: 'write'; readonly value: number; readonly token: number } | { readonly kind: 'fence'; readonly token: number };

type StoreFx = Effects<StoreMessage, StoreOp, never>;

/**
 * One counter. With `fencing`, every access carries the holder's token and the store refuses a
 * token lower than the highest it has seen (reads raise it too, so a read-then-write under one
 * token is never interleaved with another holder's). Without, tokens are recorded, not checked.
 */
export class CounterStoreCore implements ProtocolCore<StoreMessage, never, never, StoreOp> {
  private value: number | null = null;
  private highest = 0;
  private writes = 0;
  private fenced = 0;

  constructor(durable: readonly StoreOp[], private readonly fencing: boolean) {
    for (const op of durable) {
      if (op.kind === 'write') this.value = op.value;
      this.highest = Math.max(this.highest, op.token);
    }
  }

  start(fx: StoreFx): void {
    fx.annotate('value', this.value);
  }

  handleMessage(from: NodeId, msg: StoreMessage, fx: StoreFx): void {
    if (msg.type !== 'read' && msg.type !== 'write') return;
    const token = msg.token;
    if (this.fencing && token !== null && token < this.highest) {
      this.fenced++;
      fx.annotate('fenced', this.fenced);
      fx.send(from, { type: 'fenced', opId: msg.opId, token, highest: this.highest });
      return;
    }
    if (msg.type === 'read') {
      if (token !== null && token > this.highest) {
        this.highest = token;
        fx.persist({ kind: 'fence', token });
      }
      fx.send(from, { type: 'value', opId: msg.opId, value: this.value });
      return;
    }
    this.value = msg.value;
    this.highest = Math.max(this.highest, msg.token);
    this.writes++;
    fx.persist({ kind: 'write', value: msg.value, token: msg.token });
    fx.annotate('value', msg.value);
    fx.annotate('writeToken', msg.token);
    fx.annotate('writes', this.writes);
    fx.send(from, { type: 'written', opId: msg.opId, value: msg.value });
  }

  handleTick(): void {}

  handleRequest(): void {}

  /** The counter now (for tests). */
  get current(): number | null {
    return this.value;
  }
}

export function counterStoreSpec(fencing: boolean): ProtocolSpec<StoreMessage, never, never, StoreOp, CounterStoreCore> {
  return { name: 'store', tickIntervalMs: 0, create: (_env, durable) => new CounterStoreCore(durable, fencing) };
}

// ------------------------------------------------------------------ the client nodes

export type CounterOp = { readonly f: 'incr' } | { readonly f: 'get' };
type ClientMessage = LeaseMessage | StoreMessage;

export interface LeaseCounterClientOptions {
  readonly leaseNode: NodeId;
  readonly storeNode: NodeId;
  /** The work between reading the counter and writing it back (client clock). */
  readonly workMs: number;
  /** Pause before asking again for a lease someone else holds. */
  readonly backoffMs: number;
}

type Phase =
  | { readonly kind: 'idle' }
  | { readonly kind: 'get' }
  | { readonly kind: 'acquiring'; readonly sentAt: number }
  | { readonly kind: 'backoff'; readonly until: number }
  | { readonly kind: 'reading'; readonly token: number; readonly validUntil: number }
  | { readonly kind: 'working'; readonly token: number; readonly value: number; readonly doneAt: number }
  | { readonly kind: 'writing'; readonly token: number };

/**
 * A leased increment: acquire the lease, read the counter under its token, check that the lease
 * outlasts the work, work, write the counter + 1 with the token, release. The check comes before
 * the work, not again before the write: a pause between a check and the write it guards is what
 * no check can rule out, and the simulator's pause puts it there.
 */
export class LeaseCounterProgram implements ClientProgram<ClientMessage, CounterOp> {
  private phase: Phase = { kind: 'idle' };

  constructor(private readonly o: LeaseCounterClientOptions) {}

  begin(op: CounterOp, ctx: ClientContext<ClientMessage>): void {
    if (op.f === 'get') {
      this.enter({ kind: 'get' }, ctx);
      ctx.send(this.o.storeNode, { type: 'read', opId: ctx.opId, token: null });
      return;
    }
    this.acquire(ctx);
  }

  onMessage(_from: NodeId, msg: ClientMessage, ctx: ClientContext<ClientMessage>): void {
    if (!('opId' in msg) || msg.opId !== ctx.opId) return;
    const p = this.phase;
    switch (msg.type) {
      case 'grant':
        if (p.kind !== 'acquiring') return;
        // the lease began no later than the request left
        this.enter({ kind: 'reading', token: msg.token, validUntil: p.sentAt + msg.ttlMs }, ctx);
        ctx.send(this.o.storeNode, { type: 'read', opId: ctx.opId, token: msg.token });
        return;
      case 'deny':
        if (p.kind === 'acquiring') this.enter({ kind: 'backoff', until: ctx.now() + this.o.backoffMs + Math.floor(ctx.random() * this.o.backoffMs) }, ctx);
        return;
      case 'value':
        if (p.kind === 'get') return this.done(ctx, 'ok', msg.value);
        if (p.kind !== 'reading') return;
        if (ctx.now() + this.o.workMs >= p.validUntil) return this.done(ctx, 'fail', null, 'lease too short for the work', p.token);
        this.enter({ kind: 'working', token: p.token, value: msg.value ?? 0, doneAt: ctx.now() + this.o.workMs }, ctx);
        return;
      case 'written':
        if (p.kind === 'writing') this.done(ctx, 'ok', msg.value, undefined, p.token);
        return;
      case 'fenced':
        if (p.kind === 'reading' || p.kind === 'writing') this.done(ctx, 'fail', null, `fenced: token ${msg.token} < ${msg.highest}`, msg.token);
        return;
      default:
        return;
    }
  }

  onTick(ctx: ClientContext<ClientMessage>): void {
    const p = this.phase;
    if (p.kind === 'backoff' && ctx.now() >= p.until) this.acquire(ctx);
    else if (p.kind === 'working' && ctx.now() >= p.doneAt) {
      this.enter({ kind: 'writing', token: p.token }, ctx);
      ctx.send(this.o.storeNode, { type: 'write', opId: ctx.opId, token: p.token, value: p.value + 1 });
    }
  }

  abandon(ctx: ClientContext<ClientMessage>): 'fail' | 'unknown' {
    const p = this.phase;
    const maybeWritten = p.kind === 'writing';
    if ('token' in p) ctx.send(this.o.leaseNode, { type: 'release', token: p.token });
    this.enter({ kind: 'idle' }, ctx);
    return maybeWritten ? 'unknown' : 'fail';
  }

  private acquire(ctx: ClientContext<ClientMessage>): void {
    this.enter({ kind: 'acquiring', sentAt: ctx.now() }, ctx);
    ctx.send(this.o.leaseNode, { type: 'acquire', opId: ctx.opId });
  }

  private done(ctx: ClientContext<ClientMessage>, outcome: 'ok' | 'fail', output: JsonValue, error?: string, release?: number): void {
    if (release !== undefined) ctx.send(this.o.leaseNode, { type: 'release', token: release });
    this.enter({ kind: 'idle' }, ctx);
    ctx.finish(outcome, output, error);
  }

  private enter(phase: Phase, ctx: ClientContext<ClientMessage>): void {
    this.phase = phase;
    ctx.annotate('phase', phase.kind);
  }
}

// ------------------------------------------------------------------ the composition

export interface LeaseCounterOptions {
  readonly fencing: boolean;
  readonly leaseNode?: NodeId;
  readonly storeNode?: NodeId;
  readonly ttlMs?: number;
  readonly workMs?: number;
  readonly clientTickMs?: number;
  /** An operation a client node has not finished after this long (its clock) is abandoned. */
  readonly clientOpTimeoutMs?: number;
}

export const LEASE_COUNTER_DEFAULTS = { leaseNode: '1', storeNode: '2', ttlMs: 200, workMs: 40, clientTickMs: 10, clientOpTimeoutMs: 1000 } as const;

export function leaseCounterSpec(options: LeaseCounterOptions) {
  const o = { ...LEASE_COUNTER_DEFAULTS, ...options };
  const client = clientNodeSpec<ClientMessage, CounterOp>({
    tickIntervalMs: o.clientTickMs,
    opTimeoutMs: o.clientOpTimeoutMs,
    program: () => new LeaseCounterProgram({ leaseNode: o.leaseNode, storeNode: o.storeNode, workMs: o.workMs, backoffMs: o.clientTickMs * 2 }),
  });
  return composeSpecs({
    name: options.fencing ? 'lease-counter' : 'lease-counter-unfenced',
    parts: { lease: leaseServerSpec(o.ttlMs), store: counterStoreSpec(o.fencing), client },
    placement: (id) => (id === o.leaseNode ? ['lease'] : id === o.storeNode ? ['store'] : ['client']),
    routes: {
      lease: () => 'client',
      store: () => 'client',
      client: (msg) => (msg.type === 'acquire' || msg.type === 'release' ? 'lease' : 'store'),
    },
  });
}

export type LeaseCounterSpec = ReturnType<typeof leaseCounterSpec>;
type Parts = LeaseCounterSpec['parts'];
export type LeaseCounterMessage = ComposedMessage<Parts>;
export type LeaseCounterRequest = ComposedRequest<Parts>;
export type LeaseCounterResponse = ComposedResponse<Parts>;
export type LeaseCounterOp = ComposedOp<Parts>;
export type LeaseCounterSimulation = Simulation<LeaseCounterMessage, LeaseCounterRequest, LeaseCounterResponse, LeaseCounterOp>;

// ------------------------------------------------------------------ the harness

export interface LeaseCounterClusterOptions extends LeaseCounterOptions {
  readonly seed: number;
  /** At least 3: the lease server, the store, and client nodes. */
  readonly nodes: number;
  readonly link?: Partial<LinkConfig>;
  readonly fsyncMs?: number;
  readonly trace?: false | { readonly keepLines?: boolean; readonly sink?: (line: string) => void };
  /** The driver's patience for one operation (virtual ms); unknown after. Default 2000. */
  readonly driverTimeoutMs?: number;
}

/**
 * A simulated lease-counter system: the composed simulation, the client-node driver, and a
 * stale-write monitor (a write the store accepted with a token lower than an earlier accepted
 * write's: the later holder's update was overwritten).
 */
export class LeaseCounterCluster extends SimCluster<LeaseCounterMessage, LeaseCounterRequest, LeaseCounterResponse, LeaseCounterOp> {
  readonly driver: ClientNodeDriver<LeaseCounterMessage, LeaseCounterRequest, LeaseCounterResponse, LeaseCounterOp, CounterOp>;
  readonly clients: NodeId[];
  readonly leaseNode: NodeId;
  readonly storeNode: NodeId;
  readonly ttlMs: number;
  readonly spec: LeaseCounterSpec;
  private readonly found: Violation[] = [];
  private highestWritten = 0;

  constructor(options: LeaseCounterClusterOptions) {
    if (options.nodes < 3) throw new RangeError(`lease-counter needs at least 3 nodes (lease server, store, a client), got ${options.nodes}`);
    const spec = leaseCounterSpec(options);
    const sim = new Simulation({ seed: options.seed, protocol: spec, nodes: options.nodes, link: options.link, fsyncMs: options.fsyncMs ?? 1, trace: options.trace });
    super(sim);
    this.spec = spec;
    this.leaseNode = options.leaseNode ?? LEASE_COUNTER_DEFAULTS.leaseNode;
    this.storeNode = options.storeNode ?? LEASE_COUNTER_DEFAULTS.storeNode;
    this.ttlMs = options.ttlMs ?? LEASE_COUNTER_DEFAULTS.ttlMs;
    this.clients = sim.nodeIds.filter((id) => id !== this.leaseNode && id !== this.storeNode);
    this.driver = new ClientNodeDriver(sim, {
      timeoutMs: options.driverTimeoutMs ?? 2000,
      describe: (op): { f: string; input: JsonValue } => ({ f: op.f, input: op.f === 'incr' ? { key: 'counter', by: 1 } : { key: 'counter' } }),
      request: (op) => ({ part: 'client', op: { op } }),
      response: (res) => clientAnswer(res),
    });
    sim.subscribe((e) => {
      if (e.ev !== 'annotate' || e.node !== this.storeNode || e.key !== 'store/writes') return;
      const token = sim.annotations(this.storeNode).get('store/writeToken');
      if (typeof token !== 'number') return;
      if (token < this.highestWritten) {
        this.found.push({ kind: 'stale-write', atMs: sim.nowMs, message: `the store accepted a write with token ${token} after one with token ${this.highestWritten}: a lease holder's update was overwritten` });
      }
      this.highestWritten = Math.max(this.highestWritten, token);
    });
  }

  /** Random increments (mostly) and reads on every client node until `untilMs`. */
  startLoad(untilMs: number, thinkMs = 20): void {
    this.driver.run(this.clients, randomWorkload<CounterOp>([{ weight: 4, op: { f: 'incr' } }, { weight: 1, op: { f: 'get' } }]), { untilMs, thinkMs });
  }

  /** Pauses `client` for `ms` the first time it enters its work phase (mid critical section). */
  pauseWhenWorking(client: NodeId, ms: number): void {
    let armed = true;
    this.sim.subscribe((e) => {
      if (!armed || e.ev !== 'annotate' || e.node !== client || e.key !== 'client/phase' || e.value !== 'working') return;
      armed = false;
      this.sim.after(0, () => this.pause(client, ms));
    });
  }

  /** Stale writes the monitor saw. */
  violations(): readonly Violation[] {
    return this.found;
  }

  /** Writes the fencing store refused. */
  fencedCount(): number {
    const n = this.sim.annotations(this.storeNode).get('store/fenced');
    return typeof n === 'number' ? n : 0;
  }

  counter(): number | null {
    return this.spec.part(this.sim.core(this.storeNode), 'store')?.current ?? null;
  }

  checkLinearizability(maxStates = 2_000_000): CheckResult {
    return checkHistory(this.history(), kvModel, { maxStates });
  }

  summaryLines(): string[] {
    const c = this.driver.counts;
    const check = this.checkLinearizability();
    const v = this.found;
    return [
      `counter: ${String(this.counter())}; finished operations: ok ${c.ok}, fail ${c.fail}, unknown ${c.unknown}`,
      `writes refused by fencing: ${this.fencedCount()}`,
      v.length === 0 ? 'stale-write monitor: no stale write' : `stale-write monitor: ${v.length} stale write(s), first at ${v[0]?.atMs} ms: ${v[0]?.message}`,
      `linearizability of the counter history: ${check.verdict}`,
    ];
  }
}

function clientAnswer(res: LeaseCounterResponse): ClientNodeResponse | undefined {
  if (!('response' in res) || res.part !== 'client') return undefined;
  return res.response;
}

