// A spec combinator: several kinds of core (parts) in one ProtocolSpec, so one Simulation (or any
// host) runs them side by side. Messages, persisted ops, requests, replies and annotations are
// namespaced by part, and each node runs the parts its placement names.
import { assertInvariant } from '../core/index.js';
import type { CoreEnv, Effects, Message, NodeId, OutputOptions, ProtocolCore, ProtocolSpec } from '../core/index.js';

/** A part of a composition: the spec of some core, its types kept by the composed types below. */
export type AnyPartSpec = ProtocolSpec<Message, never, unknown, unknown, ProtocolCore<Message, never, unknown, unknown>>;
export type PartSpecs = { readonly [name: string]: AnyPartSpec };
export type PartName<Parts extends PartSpecs> = keyof Parts & string;

export type CoreOf<S> = S extends { create(env: CoreEnv, durable: never): infer C } ? C : never;
export type PartMessage<S> = CoreOf<S> extends ProtocolCore<infer M, infer _Req, infer _Res, infer _P> ? M : never;
export type PartRequest<S> = CoreOf<S> extends ProtocolCore<infer _M, infer Req, infer _Res, infer _P> ? Req : never;
export type PartResponse<S> = CoreOf<S> extends ProtocolCore<infer _M, infer _Req, infer Res, infer _P> ? Res : never;
export type PartOp<S> = S extends ProtocolSpec<infer _M, infer _Req, infer _Res, infer P, infer _C> ? P : never;

/** A message on the wire: `type` is `PART/TYPE`, PART being the part that receives it. */
export type ComposedMessage<Parts extends PartSpecs> = {
  [K in PartName<Parts>]: { readonly type: `${K}/${string}`; readonly body: PartMessage<Parts[K]> };
}[PartName<Parts>];

/** A client request for one part. */
export type ComposedRequest<Parts extends PartSpecs> = {
  [K in PartName<Parts>]: { readonly part: K; readonly op: PartRequest<Parts[K]> };
}[PartName<Parts>];

/** A part's reply, or the composition's refusal of a request for a part the node does not run. */
export type ComposedResponse<Parts extends PartSpecs> =
  | { [K in PartName<Parts>]: { readonly part: K; readonly response: PartResponse<Parts[K]> } }[PartName<Parts>]
  | { readonly part: string; readonly error: 'part-not-placed' };

/** A persisted op, tagged with its part so that a restart replays it into that part. */
export type ComposedOp<Parts extends PartSpecs> = {
  [K in PartName<Parts>]: { readonly part: K; readonly op: PartOp<Parts[K]> };
}[PartName<Parts>];

/** Which parts run on a node: a table (a node it does not name runs no part) or a function. */
export type Placement<K extends string> = Readonly<Record<NodeId, readonly K[]>> | ((id: NodeId) => readonly K[]);

/**
 * Where a part's messages go: the part that receives each one on the destination node. Default:
 * the sender's own part (peers of one protocol). A route to another part must send only messages
 * that part's core understands (a client part speaking to a server part, say).
 */
export type Routes<Parts extends PartSpecs> = { readonly [K in PartName<Parts>]?: (msg: PartMessage<Parts[K]>) => PartName<Parts> };

export interface ComposeOptions<Parts extends PartSpecs> {
  readonly name?: string;
  readonly parts: Parts;
  readonly placement: Placement<PartName<Parts>>;
  readonly routes?: Routes<Parts>;
}

type ErasedCore = ProtocolCore<Message, unknown, unknown, unknown>;
type ErasedSpec = ProtocolSpec<Message, unknown, unknown, unknown>;
type OuterFx = Effects<WireMessage, TaggedOp, ErasedResponse>;
interface WireMessage extends Message {
  readonly body: Message;
}
interface TaggedOp {
  readonly part: string;
  readonly op: unknown;
}
type ErasedResponse = { readonly part: string; readonly response: unknown } | { readonly part: string; readonly error: 'part-not-placed' };
interface ErasedRequest {
  readonly part: string;
  readonly op: unknown;
}

/** The Effects a part's core writes to: each output is tagged with the part and passed on. */
class PartEffects implements Effects<Message, unknown, unknown> {
  outer: OuterFx | undefined;

  constructor(
    private readonly part: string,
    private readonly route: ((msg: Message) => string) | undefined,
  ) {}

  private fx(): OuterFx {
    assertInvariant(this.outer !== undefined, () => `compose: part ${this.part} wrote an output outside a call`);
    return this.outer;
  }

  send(to: NodeId, msg: Message, options?: OutputOptions): void {
    const dest = this.route === undefined ? this.part : this.route(msg);
    this.fx().send(to, { type: `${dest}/${msg.type}`, body: msg }, options);
  }
  persist(op: unknown): void {
    this.fx().persist({ part: this.part, op });
  }
  reply(requestId: string, response: unknown, options?: OutputOptions): void {
    this.fx().reply(requestId, { part: this.part, response }, options);
  }
  annotate(key: string, value: string | number | boolean | null): void {
    this.fx().annotate(`${this.part}/${key}`, value);
  }
}

interface RunningPart {
  readonly name: string;
  readonly core: ErasedCore;
  readonly fx: PartEffects;
  /** Ticks this part every `every` ticks of the composed core (0: never). */
  readonly every: number;
}

/** A composed spec, with a typed look into the cores it creates. */
export interface ComposedSpec<Parts extends PartSpecs> extends ProtocolSpec<ComposedMessage<Parts>, ComposedRequest<Parts>, ComposedResponse<Parts>, ComposedOp<Parts>, ComposedCore<Parts>> {
  readonly parts: Parts;
  /** The inner core of part `name` in `core` (e.g. `sim.core(id)`), or undefined when the node does not run it (or is down). */
  part<K extends PartName<Parts>>(core: ProtocolCore<ComposedMessage<Parts>, ComposedRequest<Parts>, ComposedResponse<Parts>, ComposedOp<Parts>> | undefined, name: K): CoreOf<Parts[K]> | undefined;
}

/** The core a composed spec creates: the parts placed on this node, and the routing between them. */
export class ComposedCore<Parts extends PartSpecs> implements ProtocolCore<ComposedMessage<Parts>, ComposedRequest<Parts>, ComposedResponse<Parts>, ComposedOp<Parts>> {
  private readonly running = new Map<string, RunningPart>();
  private ticks = 0;
  private dropped = 0;

  /** @internal built by composeSpecs */
  constructor(parts: readonly RunningPart[]) {
    for (const p of parts) this.running.set(p.name, p);
  }

  /** The parts running on this node, in the composition's order. */
  get partNames(): string[] {
    return [...this.running.keys()];
  }

  /** The inner core of `name`, or undefined when the part is not placed on this node. */
  part<K extends PartName<Parts>>(name: K): CoreOf<Parts[K]> | undefined {
    return this.running.get(name)?.core as CoreOf<Parts[K]> | undefined;
  }

  /** Messages and requests this node received for a part it does not run (since it started). */
  get droppedCount(): number {
    return this.dropped;
  }

  start(fx: Effects<ComposedMessage<Parts>, ComposedOp<Parts>, ComposedResponse<Parts>>): void {
    for (const p of this.running.values()) if (p.core.start !== undefined) this.call(p, fx, (core, pfx) => core.start?.(pfx));
  }

  handleMessage(from: NodeId, msg: ComposedMessage<Parts>, fx: Effects<ComposedMessage<Parts>, ComposedOp<Parts>, ComposedResponse<Parts>>): void {
    const wire = msg as WireMessage;
    const slash = wire.type.indexOf('/');
    const target = slash < 0 ? undefined : this.running.get(wire.type.slice(0, slash));
    const body = wire.body as Message | undefined;
    if (target === undefined || body === undefined || body.type !== wire.type.slice(slash + 1)) {
      this.recordDrop(fx, `message ${wire.type} from ${from}`);
      return;
    }
    this.call(target, fx, (core, pfx) => core.handleMessage(from, body, pfx));
  }

  handleTick(fx: Effects<ComposedMessage<Parts>, ComposedOp<Parts>, ComposedResponse<Parts>>): void {
    const n = this.ticks++;
    for (const p of this.running.values()) if (p.every > 0 && n % p.every === 0) this.call(p, fx, (core, pfx) => core.handleTick(pfx));
  }

  handleRequest(requestId: string, request: ComposedRequest<Parts>, fx: Effects<ComposedMessage<Parts>, ComposedOp<Parts>, ComposedResponse<Parts>>): void {
    const req = request as ErasedRequest;
    const target = this.running.get(req.part);
    if (target === undefined) {
      this.recordDrop(fx, `request for ${req.part}`);
      (fx as unknown as OuterFx).reply(requestId, { part: req.part, error: 'part-not-placed' });
      return;
    }
    this.call(target, fx, (core, pfx) => core.handleRequest(requestId, req.op, pfx));
  }

  private call(p: RunningPart, fx: Effects<ComposedMessage<Parts>, ComposedOp<Parts>, ComposedResponse<Parts>>, fn: (core: ErasedCore, pfx: PartEffects) => void): void {
    p.fx.outer = fx as unknown as OuterFx;
    try {
      fn(p.core, p.fx);
    } finally {
      p.fx.outer = undefined;
    }
  }

  private recordDrop(fx: Effects<ComposedMessage<Parts>, ComposedOp<Parts>, ComposedResponse<Parts>>, what: string): void {
    this.dropped++;
    fx.annotate('dropped', this.dropped);
    fx.annotate('lastDropped', what);
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * Composes `parts` into one spec. On each node the parts its placement names run, each with its
 * own core, persisted ops and annotations:
 * - a message a part sends travels as `{ type: 'DEST/TYPE', body }`, DEST being the part that
 *   receives it (the sender's own part unless `routes` says otherwise); the receiving node hands
 *   the body to DEST's core. A node that does not run DEST drops it and annotates `dropped` (a
 *   count) and `lastDropped`: the trace records it, nothing throws;
 * - persisted ops are `{ part, op }` and a restart replays each part's ops into that part;
 * - client requests are `{ part, op }`, replies `{ part, response }` (or `{ part, error:
 *   'part-not-placed' }` from a node without the part); annotations are `PART/KEY`;
 * - ticks: the composed spec ticks every g ms, g the greatest common divisor of the parts'
 *   positive tick intervals (whole ms), and a part of interval I gets every (I/g)-th of those
 *   ticks, all parts on a node's first tick. A pause delays a part's ticks as it delays the node's.
 * - a part's core sees as `members` the nodes its part is placed on (in the node's member order).
 * The composition offers no `supersedesEarlier`: one part's snapshot cannot discard another
 * part's ops, so replay keeps every op.
 */
export function composeSpecs<Parts extends PartSpecs>(options: ComposeOptions<Parts>): ComposedSpec<Parts> {
  const parts = options.parts as { readonly [name: string]: ErasedSpec };
  const names = Object.keys(parts);
  if (names.length === 0) throw new RangeError('compose: at least one part is needed');
  for (const name of names) {
    if (name === '' || name.includes('/')) throw new RangeError(`compose: part name ${JSON.stringify(name)} must be non-empty and have no "/"`);
    const interval = (parts[name] as ErasedSpec).tickIntervalMs;
    if (!Number.isInteger(interval) || interval < 0) throw new RangeError(`compose: part ${name} has tick interval ${interval}; parts need whole ms >= 0`);
  }
  const intervals = names.map((n) => (parts[n] as ErasedSpec).tickIntervalMs).filter((ms) => ms > 0);
  const base = intervals.reduce((g, ms) => gcd(g, ms), 0);
  const placement = options.placement;
  const placed = (id: NodeId): readonly string[] => {
    const list = typeof placement === 'function' ? placement(id) : (placement[id] ?? []);
    for (const p of list) if (!(p in parts)) throw new RangeError(`compose: node ${id} is placed to run unknown part ${JSON.stringify(p)} (parts: ${names.join(', ')})`);
    return list;
  };
  if (typeof placement !== 'function') for (const id of Object.keys(placement)) placed(id);
  const routes = (options.routes ?? {}) as { readonly [name: string]: ((msg: Message) => string) | undefined };
  for (const name of Object.keys(routes)) if (!(name in parts)) throw new RangeError(`compose: a route is given for unknown part ${JSON.stringify(name)}`);
  const route = (part: string): ((msg: Message) => string) | undefined => {
    const fn = routes[part];
    if (fn === undefined) return undefined;
    return (msg) => {
      const dest = fn(msg);
      assertInvariant(dest in parts, () => `compose: part ${part} routed ${msg.type} to unknown part ${JSON.stringify(dest)}`);
      return dest;
    };
  };

  return {
    name: options.name ?? `compose(${names.join('+')})`,
    tickIntervalMs: base,
    create(env: CoreEnv, durable: readonly ComposedOp<Parts>[]): ComposedCore<Parts> {
      const here = new Set(placed(env.id));
      const byPart = new Map<string, unknown[]>();
      for (const tagged of durable as readonly TaggedOp[]) {
        assertInvariant(here.has(tagged.part), () => `compose: node ${env.id} holds a persisted op of part ${JSON.stringify(tagged.part)}, which it does not run`);
        let list = byPart.get(tagged.part);
        if (list === undefined) byPart.set(tagged.part, (list = []));
        list.push(tagged.op);
      }
      const running: RunningPart[] = [];
      for (const name of names) {
        if (!here.has(name)) continue;
        const spec = parts[name] as ErasedSpec;
        const partEnv: CoreEnv = { id: env.id, members: env.members.filter((m) => placed(m).includes(name)), now: () => env.now(), random: () => env.random() };
        const every = spec.tickIntervalMs > 0 ? spec.tickIntervalMs / base : 0;
        running.push({ name, core: spec.create(partEnv, byPart.get(name) ?? []), fx: new PartEffects(name, route(name)), every });
      }
      return new ComposedCore<Parts>(running);
    },
    parts: options.parts,
    part: (core, name) => (core instanceof ComposedCore ? (core as ComposedCore<Parts>).part(name) : undefined),
  };
}
