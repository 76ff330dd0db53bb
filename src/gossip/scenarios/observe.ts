// Watches the gossip members for scenarios and the visualizer: a spec wrapper that tells a watcher
// each input a member handles, each message it sends meanwhile, and when it is done; and one that
// boots each member knowing only a few seeds (as a real deployment joins through seeds), not the
// whole group. Every effect passes on unchanged: a watched member behaves exactly as an unwatched
// one started with the same seeds (scenarios.test.ts checks it).
import type { CoreEnv, Effects, NodeId, OutputOptions, ProtocolCore } from '../../core/index.js';
import { GossipCrdtNode, type GossipNodeMessage, type GossipNodePersistOp, type GossipNodeRequest, type GossipNodeResponse } from '../crdt-node.js';
import type { GossipNodeSpec } from '../sim/cluster.js';

export type GossipCore = ProtocolCore<GossipNodeMessage, GossipNodeRequest, GossipNodeResponse, GossipNodePersistOp>;
type Fx = Effects<GossipNodeMessage, GossipNodePersistOp, GossipNodeResponse>;

/** What a member is handling. */
export type GossipInput =
  | { readonly kind: 'start' }
  | { readonly kind: 'tick' }
  | { readonly kind: 'message'; readonly from: NodeId; readonly msg: GossipNodeMessage }
  | { readonly kind: 'request'; readonly requestId: string; readonly request: GossipNodeRequest };

export interface GossipWatcher {
  /** `node` is about to handle `input`: `core` still shows the state before it. */
  input(node: NodeId, core: GossipCrdtNode, input: GossipInput): void;
  /** `node` sent `msg` to `to` while handling `input`. */
  sent(node: NodeId, core: GossipCrdtNode, input: GossipInput, to: NodeId, msg: GossipNodeMessage): void;
  /** `node` finished handling `input`: `core` shows the state after it. */
  handled(node: NodeId, core: GossipCrdtNode, input: GossipInput): void;
}

const WATCHED = Symbol('watched gossip member');

class WatchedCore implements GossipCore {
  readonly [WATCHED]: GossipCrdtNode;

  constructor(
    inner: GossipCrdtNode,
    private readonly id: NodeId,
    private readonly watcher: GossipWatcher,
  ) {
    this[WATCHED] = inner;
  }

  private handle(input: GossipInput, fx: Fx, run: (inner: GossipCrdtNode, fx: Fx) => void): void {
    const { id, watcher } = this;
    const core = this[WATCHED];
    watcher.input(id, core, input);
    run(core, {
      send(to: NodeId, msg: GossipNodeMessage, options?: OutputOptions): void {
        watcher.sent(id, core, input, to, msg);
        fx.send(to, msg, options);
      },
      persist: (op) => fx.persist(op),
      reply: (requestId, response, options) => fx.reply(requestId, response, options),
      annotate: (key, value) => fx.annotate(key, value),
    });
    watcher.handled(id, core, input);
  }

  start(fx: Fx): void {
    this.handle({ kind: 'start' }, fx, (inner, wfx) => inner.start(wfx));
  }

  handleTick(fx: Fx): void {
    this.handle({ kind: 'tick' }, fx, (inner, wfx) => inner.handleTick(wfx));
  }

  handleMessage(from: NodeId, msg: GossipNodeMessage, fx: Fx): void {
    this.handle({ kind: 'message', from, msg }, fx, (inner, wfx) => inner.handleMessage(from, msg, wfx));
  }

  handleRequest(requestId: string, request: GossipNodeRequest, fx: Fx): void {
    this.handle({ kind: 'request', requestId, request }, fx, (inner, wfx) => inner.handleRequest(requestId, request, wfx));
  }
}

/** The seeds a member boots with: the first `count` members (other than itself). */
export function firstSeeds(count: number): (env: CoreEnv) => NodeId[] {
  return (env) => env.members.filter((m) => m !== env.id).slice(0, count);
}

/** The spec with each member booting on `seeds(env)` only: its env.members is itself and those. */
export function seedSpec(spec: GossipNodeSpec, seeds: (env: CoreEnv) => NodeId[]): GossipNodeSpec {
  const wrapped: GossipNodeSpec = {
    name: spec.name,
    tickIntervalMs: spec.tickIntervalMs,
    create: (env, durable) => spec.create({ id: env.id, members: [env.id, ...seeds(env)], now: () => env.now(), random: () => env.random() }, durable),
  };
  return withSupersedes(wrapped, spec);
}

/** The spec with each member watched by `watcher`. The spec must make GossipCrdtNode members. */
export function watchSpec(spec: GossipNodeSpec, watcher: GossipWatcher): GossipNodeSpec {
  const wrapped: GossipNodeSpec = {
    name: spec.name,
    tickIntervalMs: spec.tickIntervalMs,
    create: (env, durable) => {
      const core = spec.create(env, durable);
      if (!(core instanceof GossipCrdtNode)) throw new TypeError('watchSpec: the spec must make GossipCrdtNode members');
      return new WatchedCore(core, env.id, watcher);
    },
  };
  return withSupersedes(wrapped, spec);
}

function withSupersedes(wrapped: GossipNodeSpec, spec: GossipNodeSpec): GossipNodeSpec {
  const supersedes = spec.supersedesEarlier;
  return supersedes === undefined ? wrapped : { ...wrapped, supersedesEarlier: (op) => supersedes.call(spec, op) };
}

/** The member inside a watched core (undefined for anything else). */
export function watchedMember(core: GossipCore | undefined): GossipCrdtNode | undefined {
  if (core instanceof WatchedCore) return core[WATCHED];
  return core instanceof GossipCrdtNode ? core : undefined;
}
