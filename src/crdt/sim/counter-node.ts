// A replica of one PN-counter as a protocol core: clients increment and decrement it at any node,
// the node joins the delta into its state, persists it before answering, and spreads it to every
// other node by delta-interval anti-entropy (replicator.ts) each gossip interval. What the
// simulator, its chaos and its convergence checker run for src/crdt.
import type { CoreEnv, Effects, NodeId, ProtocolCore, ProtocolSpec } from '../../core/index.js';
import { isCrdtError } from '../errors.js';
import { PN_COUNTER, pnCounterDecrement, pnCounterIncrement, type PnCounterState } from '../counters.js';
import { DeltaReplicator, type ReplicatorMessage } from '../replicator.js';

export type CounterRequest = { readonly op: 'increment' | 'decrement'; readonly amount: number } | { readonly op: 'read' };
export type CounterResponse = { readonly ok: true; readonly value: number } | { readonly ok: false; readonly code: string; readonly message: string };
export type CounterMessage = ReplicatorMessage<PnCounterState>;
/** A delta this node made or learned; replaying every one (joins) rebuilds the state. */
export type CounterPersistOp = { readonly op: 'delta'; readonly delta: PnCounterState };

export interface CounterNodeOptions {
  /** Between two anti-entropy rounds (ms of the node's clock). */
  readonly gossipIntervalMs: number;
  readonly maxBufferedDeltas: number;
}

export const COUNTER_TICK_MS = 10;

type Fx = Effects<CounterMessage, CounterPersistOp, CounterResponse>;

export class CounterNode implements ProtocolCore<CounterMessage, CounterRequest, CounterResponse, CounterPersistOp> {
  readonly replicator: DeltaReplicator<PnCounterState>;
  private lastRoundMs = -Infinity;

  constructor(
    private readonly env: CoreEnv,
    private readonly options: CounterNodeOptions,
    durable: readonly CounterPersistOp[],
  ) {
    this.replicator = new DeltaReplicator(PN_COUNTER, { id: env.id, neighbours: env.members.filter((m) => m !== env.id), maxBufferedDeltas: options.maxBufferedDeltas });
    // the recovered state is buffered as one delta, so that what this node held before its crash reaches every neighbour again
    const recovered = durable.reduce((state, op) => PN_COUNTER.join(state, op.delta), PN_COUNTER.empty());
    if (durable.length > 0) this.replicator.apply(recovered);
  }

  value(): number {
    return PN_COUNTER.value(this.replicator.state());
  }

  handleRequest(requestId: string, request: CounterRequest, fx: Fx): void {
    if (request.op === 'read') return fx.reply(requestId, { ok: true, value: this.value() }, { awaitPersist: false });
    if (!Number.isSafeInteger(request.amount) || request.amount < 1 || request.amount > 2 ** 32) return fx.reply(requestId, { ok: false, code: 'CRDT_INVALID_ARGUMENT', message: 'amount is an integer from 1 to 2^32' });
    const state = this.replicator.state();
    const delta = request.op === 'increment' ? pnCounterIncrement(state, this.env.id, request.amount) : pnCounterDecrement(state, this.env.id, request.amount);
    this.replicator.apply(delta);
    fx.persist({ op: 'delta', delta });
    fx.reply(requestId, { ok: true, value: this.value() });
    fx.annotate('value', this.value());
  }

  handleTick(fx: Fx): void {
    const now = this.env.now();
    if (now - this.lastRoundMs < this.options.gossipIntervalMs) return;
    this.lastRoundMs = now;
    for (const out of this.replicator.round()) fx.send(out.to, out.message, { awaitPersist: false });
  }

  handleMessage(from: NodeId, msg: CounterMessage, fx: Fx): void {
    let message: CounterMessage;
    if (msg.type !== 'delta' && msg.type !== 'ack') return fx.annotate('lastBadMessage', `${from}: unknown message type`);
    try {
      message = msg.type === 'delta' ? { ...msg, payload: PN_COUNTER.decode(msg.payload) } : msg;
    } catch (err) {
      if (!isCrdtError(err)) throw err;
      return fx.annotate('lastBadMessage', `${from}: ${err.message}`);
    }
    const before = this.replicator.deltaCount();
    const replies = this.replicator.receive(from, message);
    // an acknowledgement says the payload is durable here: persist what grew the state first (the send waits for it)
    if (message.type === 'delta' && this.replicator.deltaCount() !== before) {
      fx.persist({ op: 'delta', delta: message.payload });
      fx.annotate('value', this.value());
    }
    for (const out of replies) fx.send(out.to, out.message);
  }
}

export function counterSpec(options: CounterNodeOptions): ProtocolSpec<CounterMessage, CounterRequest, CounterResponse, CounterPersistOp, CounterNode> {
  return { name: 'crdt-counter', tickIntervalMs: COUNTER_TICK_MS, create: (env, durable) => new CounterNode(env, options, durable) };
}
