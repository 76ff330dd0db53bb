// Delta-interval anti-entropy (Almeida, Shoker and Baquero 2018, Algorithm 2), sans-I/O: a replica
// of one CRDT keeps its state, a bounded buffer of the deltas it made or learned (numbered), and per
// neighbour the highest number that neighbour acknowledged. Each round it sends every neighbour the
// join of the deltas that neighbour has not acknowledged — or its whole state when those deltas are
// no longer buffered (a long partition, a new neighbour). Messages may be lost, duplicated or
// reordered: every message is a join, so a late or repeated one changes nothing.
import { assertInvariant } from '../core/assert.js';
import { failCrdt } from './errors.js';
import type { CrdtType, ReplicaId } from './types.js';

export type ReplicatorMessage<S> =
  /** The join of the sender's deltas numbered [from, upTo), or (full) its whole state; ack with upTo. */
  | { readonly type: 'delta'; readonly payload: S; readonly upTo: number; readonly full: boolean }
  | { readonly type: 'ack'; readonly upTo: number };

export interface Outgoing<S> {
  readonly to: ReplicaId;
  readonly message: ReplicatorMessage<S>;
}

export interface ReplicatorOptions {
  readonly id: ReplicaId;
  readonly neighbours: readonly ReplicaId[];
  /** Deltas kept for neighbours that have not acknowledged them; past this a neighbour behind gets the whole state. */
  readonly maxBufferedDeltas?: number;
}

export interface ReplicatorStats {
  readonly deltasSent: number;
  readonly fullStatesSent: number;
  readonly buffered: number;
}

const DEFAULT_MAX_BUFFERED = 1_000;

export class DeltaReplicator<S> {
  private current: S;
  /** deltas[i] has number firstBuffered + i. */
  private deltas: S[] = [];
  private firstBuffered = 0;
  /** The number the next buffered delta gets. */
  private nextNumber = 0;
  /** Per neighbour: every delta numbered below this is acknowledged (folded into its state). */
  private readonly acked = new Map<ReplicaId, number>();
  private readonly maxBuffered: number;
  private deltasSent = 0;
  private fullStatesSent = 0;

  constructor(
    private readonly type: CrdtType<S, unknown>,
    options: ReplicatorOptions,
    initial?: S,
  ) {
    if (options.neighbours.includes(options.id)) failCrdt('CRDT_INVALID_ARGUMENT', `replica ${options.id} cannot be its own neighbour`);
    this.maxBuffered = options.maxBufferedDeltas ?? DEFAULT_MAX_BUFFERED;
    if (!Number.isInteger(this.maxBuffered) || this.maxBuffered < 1) failCrdt('CRDT_INVALID_ARGUMENT', 'maxBufferedDeltas is a positive integer');
    this.current = initial ?? type.empty();
    for (const n of options.neighbours) this.acked.set(n, 0);
  }

  state(): S {
    return this.current;
  }

  /** How many deltas this replica has made or learned: it grows exactly when the state grows. */
  deltaCount(): number {
    return this.nextNumber;
  }

  stats(): ReplicatorStats {
    return { deltasSent: this.deltasSent, fullStatesSent: this.fullStatesSent, buffered: this.deltas.length };
  }

  /** A local mutation's delta: joined into the state and buffered for every neighbour. */
  apply(delta: S): void {
    this.current = this.type.join(this.current, delta);
    this.buffer(delta);
  }

  /** One round of anti-entropy: for each neighbour behind, the deltas it lacks (or the whole state). */
  round(): Outgoing<S>[] {
    const out: Outgoing<S>[] = [];
    for (const [to, upTo] of this.acked) {
      if (upTo >= this.nextNumber) continue;
      if (upTo < this.firstBuffered) {
        // what it lacks is no longer buffered: the state holds it all
        out.push({ to, message: { type: 'delta', payload: this.current, upTo: this.nextNumber, full: true } });
        this.fullStatesSent++;
        continue;
      }
      let interval = this.type.empty();
      for (let i = upTo - this.firstBuffered; i < this.deltas.length; i++) interval = this.type.join(interval, this.deltas[i] as S);
      out.push({ to, message: { type: 'delta', payload: interval, upTo: this.nextNumber, full: false } });
      this.deltasSent++;
    }
    return out;
  }

  /** A neighbour's message; returns what to send back (an acknowledgement). A payload from outside must be decoded by the host first. */
  receive(from: ReplicaId, message: ReplicatorMessage<S>): Outgoing<S>[] {
    if (!this.acked.has(from)) return [];
    if (message.type === 'ack') {
      if (!Number.isSafeInteger(message.upTo) || message.upTo > this.nextNumber) return [];
      this.acked.set(from, Math.max(this.acked.get(from) as number, message.upTo));
      this.collect();
      return [];
    }
    const joined = this.type.join(this.current, message.payload);
    // only what grew the state travels on (to the other neighbours): a repeat costs nothing more
    if (this.type.canonical(joined) !== this.type.canonical(this.current)) {
      this.current = joined;
      this.buffer(message.payload);
      // the sender holds it already
      if (this.acked.get(from) === this.nextNumber - 1) this.acked.set(from, this.nextNumber);
    }
    return [{ to: from, message: { type: 'ack', upTo: message.upTo } }];
  }

  private buffer(delta: S): void {
    this.deltas.push(delta);
    this.nextNumber++;
    if (this.deltas.length > this.maxBuffered) {
      this.deltas.shift();
      this.firstBuffered++;
    }
    assertInvariant(this.firstBuffered + this.deltas.length === this.nextNumber, () => 'delta buffer numbering out of step');
  }

  /** Drops the deltas every neighbour has acknowledged. */
  private collect(): void {
    let lowest = this.nextNumber;
    for (const upTo of this.acked.values()) lowest = Math.min(lowest, upTo);
    const drop = Math.min(lowest - this.firstBuffered, this.deltas.length);
    if (drop <= 0) return;
    this.deltas = this.deltas.slice(drop);
    this.firstBuffered += drop;
  }
}
