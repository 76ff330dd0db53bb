// Watches the store's cores for scenarios and the visualizer: a spec wrapper reporting each input
// a node handles and what it emits meanwhile (messages, persists, answers), that input as cause.
// Every effect passes on unchanged: a watched run is the same run (scenarios.test.ts checks it).
import type { Effects, NodeId, OutputOptions, ProtocolCore, ProtocolSpec } from '../../core/index.js';
import type { QuorumMessage, QuorumPersistOp } from '../messages.js';
import { QuorumNode } from '../node.js';
import type { QuorumRequest, QuorumResponse } from '../requests.js';

export type QuorumCore = ProtocolCore<QuorumMessage, QuorumRequest, QuorumResponse, QuorumPersistOp>;
export type QuorumSpecOf = ProtocolSpec<QuorumMessage, QuorumRequest, QuorumResponse, QuorumPersistOp>;
type Fx = Effects<QuorumMessage, QuorumPersistOp, QuorumResponse>;

/** What a node is handling. */
export type QuorumInput =
  | { readonly kind: 'start' }
  | { readonly kind: 'tick' }
  | { readonly kind: 'message'; readonly from: NodeId; readonly msg: QuorumMessage }
  | { readonly kind: 'request'; readonly requestId: string; readonly request: QuorumRequest };

/** What a node emitted while handling an input. */
export type QuorumOutput =
  | { readonly kind: 'send'; readonly to: NodeId; readonly msg: QuorumMessage }
  | { readonly kind: 'persist'; readonly op: QuorumPersistOp }
  | { readonly kind: 'reply'; readonly requestId: string; readonly response: QuorumResponse };

export interface QuorumWatcher {
  /** `node` is about to handle `input`: `core` still shows the state before it. */
  input(node: NodeId, core: QuorumNode, input: QuorumInput): void;
  /** `node` emitted `output` while handling `input` (in the order the core emitted them). */
  output(node: NodeId, core: QuorumNode, input: QuorumInput, output: QuorumOutput): void;
}

const WATCHED = Symbol('watched quorum core');

class WatchedCore implements QuorumCore {
  readonly [WATCHED]: QuorumNode;

  constructor(
    inner: QuorumNode,
    private readonly id: NodeId,
    private readonly watcher: QuorumWatcher,
  ) {
    this[WATCHED] = inner;
  }

  /** A sink that tells the watcher, then passes each effect on as it came. */
  private effects(fx: Fx, input: QuorumInput): Fx {
    const { id, watcher } = this;
    const core = this[WATCHED];
    return {
      send(to: NodeId, msg: QuorumMessage, options?: OutputOptions): void {
        watcher.output(id, core, input, { kind: 'send', to, msg });
        fx.send(to, msg, options);
      },
      persist(op: QuorumPersistOp): void {
        watcher.output(id, core, input, { kind: 'persist', op });
        fx.persist(op);
      },
      reply(requestId: string, response: QuorumResponse, options?: OutputOptions): void {
        watcher.output(id, core, input, { kind: 'reply', requestId, response });
        fx.reply(requestId, response, options);
      },
      annotate: (key, value) => fx.annotate(key, value),
    };
  }

  private handle(input: QuorumInput, fx: Fx, run: (inner: QuorumNode, fx: Fx) => void): void {
    this.watcher.input(this.id, this[WATCHED], input);
    run(this[WATCHED], this.effects(fx, input));
  }

  start(fx: Fx): void {
    this.handle({ kind: 'start' }, fx, (inner, wfx) => inner.start(wfx));
  }

  handleTick(fx: Fx): void {
    this.handle({ kind: 'tick' }, fx, (inner, wfx) => inner.handleTick(wfx));
  }

  handleMessage(from: NodeId, msg: QuorumMessage, fx: Fx): void {
    this.handle({ kind: 'message', from, msg }, fx, (inner, wfx) => inner.handleMessage(from, msg, wfx));
  }

  handleRequest(requestId: string, request: QuorumRequest, fx: Fx): void {
    this.handle({ kind: 'request', requestId, request }, fx, (inner, wfx) => inner.handleRequest(requestId, request, wfx));
  }
}

/** The spec with every core watched by `watcher` (the watcher sees cores created before its owner exists, too). */
export function watchSpec(spec: ProtocolSpec<QuorumMessage, QuorumRequest, QuorumResponse, QuorumPersistOp, QuorumNode>, watcher: QuorumWatcher): QuorumSpecOf {
  return {
    name: spec.name,
    tickIntervalMs: spec.tickIntervalMs,
    create: (env, durable) => new WatchedCore(spec.create(env, durable), env.id, watcher),
  };
}

/** The store's node inside a watched core (undefined for anything else). */
export function watchedNode(core: QuorumCore | undefined): QuorumNode | undefined {
  if (core instanceof WatchedCore) return core[WATCHED];
  return core instanceof QuorumNode ? core : undefined;
}
