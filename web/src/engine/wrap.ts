// Wraps a protocol's cores so the engine sees what they do without any change to the simulator:
// every message a core hands to the host (to pair it with the simulator's `send` event and follow
// it in flight), every message delivered to it (which the engine may swallow: a message the user
// dropped in flight), and the end of every step (when the safety monitors run).
import type { Effects, Message, NodeId, OutputOptions, ProtocolCore, ProtocolSpec } from '../../../src/sim/index.js';

export interface CoreHooks {
  /** A core asked the host to send `msg`; the simulator's `send` event for it follows later. */
  sending(from: NodeId, to: NodeId, msg: Message): void;
  /** The core of `node` finished handling one input, described by `input`. */
  stepped(node: NodeId, input: string): void;
  /** After a tick: how many more ticks to run at once (normally 0). */
  extraTicks(node: NodeId): number;
}

const INNER = Symbol('inner core');

class WrappedCore<M extends Message, Req, Res, P> implements ProtocolCore<M, Req, Res, P> {
  readonly [INNER]: ProtocolCore<M, Req, Res, P>;
  private fx: Effects<M, P, Res> | undefined;
  private proxy: Effects<M, P, Res> | undefined;

  constructor(
    inner: ProtocolCore<M, Req, Res, P>,
    private readonly id: NodeId,
    private readonly hooks: CoreHooks,
  ) {
    this[INNER] = inner;
  }

  /** The host passes the same sink every time; one proxy per sink is enough. */
  private effects(fx: Effects<M, P, Res>): Effects<M, P, Res> {
    if (this.fx !== fx || this.proxy === undefined) {
      const hooks = this.hooks;
      const id = this.id;
      this.fx = fx;
      this.proxy = {
        send(to: NodeId, msg: M, options?: OutputOptions): void {
          hooks.sending(id, to, msg);
          fx.send(to, msg, options);
        },
        persist: (op: P) => fx.persist(op),
        reply: (requestId: string, response: Res, options?: OutputOptions) => fx.reply(requestId, response, options),
        annotate: (key: string, value: string | number | boolean | null) => fx.annotate(key, value),
      };
    }
    return this.proxy;
  }

  start(fx: Effects<M, P, Res>): void {
    const inner = this[INNER];
    if (inner.start !== undefined) inner.start(this.effects(fx));
    this.hooks.stepped(this.id, 'start');
  }

  handleMessage(from: NodeId, msg: M, fx: Effects<M, P, Res>): void {
    this[INNER].handleMessage(from, msg, this.effects(fx));
    this.hooks.stepped(this.id, `${msg.type} from ${from}`);
  }

  handleTick(fx: Effects<M, P, Res>): void {
    this[INNER].handleTick(this.effects(fx));
    const extra = this.hooks.extraTicks(this.id);
    for (let i = 0; i < extra; i++) this[INNER].handleTick(this.effects(fx));
    this.hooks.stepped(this.id, extra > 0 ? `tick (+${extra} forced)` : 'tick');
  }

  handleRequest(requestId: string, request: Req, fx: Effects<M, P, Res>): void {
    this[INNER].handleRequest(requestId, request, this.effects(fx));
    this.hooks.stepped(this.id, `client request ${requestId}`);
  }
}

export function wrapSpec<M extends Message, Req, Res, P>(spec: ProtocolSpec<M, Req, Res, P>, hooks: CoreHooks): ProtocolSpec<M, Req, Res, P> {
  const wrapped: ProtocolSpec<M, Req, Res, P> = {
    name: spec.name,
    tickIntervalMs: spec.tickIntervalMs,
    create: (env, durable) => new WrappedCore(spec.create(env, durable), env.id, hooks),
  };
  const supersedes = spec.supersedesEarlier;
  return supersedes === undefined ? wrapped : { ...wrapped, supersedesEarlier: (op: P) => supersedes.call(spec, op) };
}

export function unwrapCore<M extends Message, Req, Res, P>(core: ProtocolCore<M, Req, Res, P> | undefined): ProtocolCore<M, Req, Res, P> | undefined {
  if (core === undefined) return undefined;
  return core instanceof WrappedCore ? (core as WrappedCore<M, Req, Res, P>)[INNER] : core;
}
