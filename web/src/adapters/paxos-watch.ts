// A transparent wrapper of the Paxos cores for the views: it reports each message a node is about
// to handle (before its core sees it, so the core's observer hooks called while handling it find
// it already counted) and each message it sends, bodies included (the simulator's trace leaves
// bodies out unless it records lines). Every effect passes on unchanged: a watched run is the
// same run (test/e2e/paxos-view.test.ts compares trace hashes with an unwatched one).
import type { Effects, Message, NodeId, OutputOptions, ProtocolCore, ProtocolSpec } from '../../../src/sim/index.js';

export interface MessageWatcher<M extends Message> {
  /** `node` is about to handle `msg` from `from`. */
  received?(node: NodeId, from: NodeId, msg: M): void;
  /** `node` sends `msg` to `to`. */
  sent?(node: NodeId, to: NodeId, msg: M): void;
}

const WATCHED = Symbol('watched paxos core');

class WatchedCore<M extends Message, Req, Res, P> implements ProtocolCore<M, Req, Res, P> {
  readonly [WATCHED]: ProtocolCore<M, Req, Res, P>;
  private fx: Effects<M, P, Res> | undefined;
  private proxy: Effects<M, P, Res> | undefined;

  constructor(
    inner: ProtocolCore<M, Req, Res, P>,
    private readonly id: NodeId,
    private readonly watcher: MessageWatcher<M>,
  ) {
    this[WATCHED] = inner;
  }

  private effects(fx: Effects<M, P, Res>): Effects<M, P, Res> {
    if (this.fx !== fx || this.proxy === undefined) {
      const { id, watcher } = this;
      this.fx = fx;
      this.proxy = {
        send(to: NodeId, msg: M, options?: OutputOptions): void {
          watcher.sent?.(id, to, msg);
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
    this[WATCHED].start?.(this.effects(fx));
  }

  handleMessage(from: NodeId, msg: M, fx: Effects<M, P, Res>): void {
    this.watcher.received?.(this.id, from, msg);
    this[WATCHED].handleMessage(from, msg, this.effects(fx));
  }

  handleTick(fx: Effects<M, P, Res>): void {
    this[WATCHED].handleTick(this.effects(fx));
  }

  handleRequest(requestId: string, request: Req, fx: Effects<M, P, Res>): void {
    this[WATCHED].handleRequest(requestId, request, this.effects(fx));
  }
}

/** The spec with every core watched (`supersedesEarlier` kept, so hosts compact the same way). */
export function watchSpec<M extends Message, Req, Res, P>(spec: ProtocolSpec<M, Req, Res, P>, watcher: MessageWatcher<M>): ProtocolSpec<M, Req, Res, P> {
  const watched: ProtocolSpec<M, Req, Res, P> = {
    name: spec.name,
    tickIntervalMs: spec.tickIntervalMs,
    create: (env, durable) => new WatchedCore(spec.create(env, durable), env.id, watcher),
  };
  const supersedes = spec.supersedesEarlier;
  return supersedes === undefined ? watched : { ...watched, supersedesEarlier: (op: P) => supersedes.call(spec, op) };
}

/** The protocol's core inside a watched one (anything else is returned as it is). */
export function unwatch<C>(core: unknown): C | undefined {
  if (core instanceof WatchedCore) return core[WATCHED] as C;
  return core as C | undefined;
}
