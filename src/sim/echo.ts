// A small demonstration core that exercises every part of the contract: a client asks any node
// to broadcast a value; the node records it durably, sends it to every peer, retransmits on
// ticks until acknowledged, and answers the client once a majority holds the value.
import type { CoreEnv, Effects, NodeId, ProtocolCore, ProtocolSpec } from '../core/index.js';
import type { Simulation } from './simulation.js';

export type EchoMessage = { readonly type: 'bcast'; readonly id: string; readonly value: number } | { readonly type: 'ack'; readonly id: string };
export type EchoRequest = { readonly type: 'broadcast'; readonly value: number } | { readonly type: 'read' };
export type EchoResponse = { readonly ok: true; readonly id?: string; readonly values?: readonly number[] } | { readonly ok: false; readonly error: string };
/** Durable ops: a value delivered here; the origin's counter, so ids stay unique after a restart. */
export type EchoOp = { readonly kind: 'delivered'; readonly id: string; readonly value: number } | { readonly kind: 'issued'; readonly seq: number };

type Fx = Effects<EchoMessage, EchoOp, EchoResponse>;

interface Outstanding {
  readonly value: number;
  readonly requestId: string;
  readonly acked: Set<NodeId>;
  replied: boolean;
}

/** Bounds the retransmission work a node takes on. */
const MAX_OUTSTANDING = 10_000;

export class EchoCore implements ProtocolCore<EchoMessage, EchoRequest, EchoResponse, EchoOp> {
  private readonly delivered = new Map<string, number>();
  private readonly outstanding = new Map<string, Outstanding>();
  private nextSeq = 0;
  private readonly peers: NodeId[];
  private readonly majority: number;

  constructor(private readonly env: CoreEnv, durable: readonly EchoOp[]) {
    this.peers = env.members.filter((m) => m !== env.id);
    this.majority = Math.floor(env.members.length / 2) + 1;
    for (const op of durable) {
      if (op.kind === 'delivered') this.delivered.set(op.id, op.value);
      else this.nextSeq = Math.max(this.nextSeq, op.seq + 1);
    }
  }

  start(fx: Fx): void {
    fx.annotate('delivered', this.delivered.size);
  }

  handleRequest(requestId: string, request: EchoRequest, fx: Fx): void {
    if (request.type === 'read') {
      fx.reply(requestId, { ok: true, values: [...this.delivered.values()] });
      return;
    }
    if (this.outstanding.size >= MAX_OUTSTANDING) {
      fx.reply(requestId, { ok: false, error: 'overloaded' });
      return;
    }
    const seq = this.nextSeq++;
    const id = `${this.env.id}:${seq}`;
    fx.persist({ kind: 'issued', seq });
    this.deliver(id, request.value, fx);
    const entry: Outstanding = { value: request.value, requestId, acked: new Set([this.env.id]), replied: false };
    this.outstanding.set(id, entry);
    for (const peer of this.peers) fx.send(peer, { type: 'bcast', id, value: request.value });
    this.maybeReply(id, entry, fx);
  }

  handleMessage(from: NodeId, msg: EchoMessage, fx: Fx): void {
    if (msg.type === 'bcast') {
      this.deliver(msg.id, msg.value, fx);
      fx.send(from, { type: 'ack', id: msg.id });
      return;
    }
    const entry = this.outstanding.get(msg.id);
    if (entry === undefined) return;
    entry.acked.add(from);
    this.maybeReply(msg.id, entry, fx);
  }

  handleTick(fx: Fx): void {
    for (const [id, entry] of this.outstanding) {
      for (const peer of this.peers) if (!entry.acked.has(peer)) fx.send(peer, { type: 'bcast', id, value: entry.value });
    }
  }

  private deliver(id: string, value: number, fx: Fx): void {
    if (this.delivered.has(id)) return;
    this.delivered.set(id, value);
    fx.persist({ kind: 'delivered', id, value });
    fx.annotate('delivered', this.delivered.size);
  }

  private maybeReply(id: string, entry: Outstanding, fx: Fx): void {
    if (!entry.replied && entry.acked.size >= this.majority) {
      entry.replied = true;
      fx.reply(entry.requestId, { ok: true, id });
    }
    if (entry.acked.size === this.peers.length + 1) this.outstanding.delete(id);
  }

  /** Values this node holds (for tests). */
  deliveredValues(): number[] {
    return [...this.delivered.values()];
  }
}

export function echoSpec(tickIntervalMs = 50): ProtocolSpec<EchoMessage, EchoRequest, EchoResponse, EchoOp> {
  return { name: 'echo', tickIntervalMs, create: (env, durable) => new EchoCore(env, durable) };
}

export interface EchoWorkloadOptions {
  readonly clients: number;
  readonly untilMs: number;
  /** Pause between a client's operations. */
  readonly thinkMs: number;
  readonly timeoutMs: number;
}

/** Clients that broadcast increasing values through random nodes and record each operation. */
export function runEchoWorkload(sim: Simulation<EchoMessage, EchoRequest, EchoResponse, EchoOp>, options: EchoWorkloadOptions): void {
  const rng = sim.random.stream('workload');
  let nextValue = 1;
  const loop = (process: string): void => {
    if (sim.nowMs >= options.untilMs) return;
    const value = nextValue++;
    const target = rng.pick(sim.nodeIds);
    const index = sim.invoke(process, 'broadcast', value);
    sim.request(target, { type: 'broadcast', value }, { timeoutMs: options.timeoutMs, process }, (res) => {
      if (res === undefined) sim.complete(index, 'unknown', null);
      else if (res.ok) sim.complete(index, 'ok', res.id ?? null);
      else sim.complete(index, 'fail', res.error);
      sim.after(options.thinkMs, () => loop(process));
    });
  };
  for (let c = 0; c < options.clients; c++) sim.after(rng.int(0, options.thinkMs), () => loop(`c${c}`));
}
