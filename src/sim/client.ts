// A retrying client with a session, for any request/response protocol in the simulator: one
// operation at a time, retried across nodes (following leader hints) until it succeeds or its
// time is up, commands numbered (client id, seq) so a retry applies at most once, and every
// operation recorded in the history as ok, fail (certainly no effect) or unknown (a command that
// may have taken effect). A protocol says what its answers mean through ClientProtocol.
import type { JsonValue, Message, NodeId, Outcome } from '../core/index.js';
import type { Simulation } from './simulation.js';

/** What one answer of a node means to the client. */
export type ClientAnswer<Result> =
  | { readonly kind: 'ok'; readonly result: Result; readonly index?: number }
  /**
   * A refusal. `definite`: it proves the request had no effect. `next`: follow the node's hint,
   * try the same node again after a pause, try the next node after a pause, or give up (fail).
   */
  | { readonly kind: 'refused'; readonly error: string; readonly definite: boolean; readonly next: 'follow-hint' | 'same' | 'next' | 'fail'; readonly hint: NodeId | null }
  /** An answer of the wrong shape: the operation fails with `error`. */
  | { readonly kind: 'unexpected'; readonly error: string };

export interface ClientProtocol<Op, Req, Res, Result> {
  isRead(op: Op): boolean;
  /** The request of one attempt; `session` is null for reads. */
  request(op: Op, session: { readonly clientId: string; readonly seq: number } | null): Req;
  interpret(res: Res): ClientAnswer<Result>;
  /** The operation in the history's terms (what the checker's model reads). */
  historyCall(op: Op): { readonly f: string; readonly input: JsonValue };
  historyOutput(op: Op, result: Result): { readonly outcome: Outcome; readonly output: JsonValue };
}

export interface ClientOptions {
  /** One attempt's timeout. */
  readonly requestTimeoutMs: number;
  /** The whole operation's deadline, retries included. */
  readonly opTimeoutMs: number;
  /** Pause before retrying after a refusal that is not a hint. */
  readonly retryBackoffMs: number;
}

/** What a client needs of the cluster it talks to. */
export interface ClientHost<M extends Message, Req, Res, P> {
  readonly sim: Simulation<M, Req, Res, P>;
  readonly nodeIds: NodeId[];
  readonly clientOptions: ClientOptions;
  nextNode(after: NodeId): NodeId;
}

/** A client operation in flight or finished. */
export interface OpHandle<Op, Result> {
  readonly op: Op;
  readonly process: string;
  /** Its position in the history. */
  readonly historyIndex: number;
  done: boolean;
  outcome: Outcome | undefined;
  result: Result | undefined;
  /** The last refusal or why the client gave up. */
  error: string | undefined;
  /** Log index of an applied command, or the read index of a read (when the protocol says). */
  index: number | undefined;
  attempts: number;
}

export interface SubmitOptions<Op, Result> {
  /** false: one attempt only. */
  readonly retry?: boolean;
  /** The node to try first (default: the last node that answered, else a seeded random one). */
  readonly target?: NodeId;
  readonly onDone?: (handle: OpHandle<Op, Result>) => void;
}

/** Hints followed in a row before the client falls back to round-robin (removed nodes may point at each other). */
const MAX_HINT_HOPS = 3;

export class SessionClient<M extends Message, Req, Res, P, Op, Result> {
  private seq = 0;
  /** The node that answered last, tried first next time (a real client caches its leader too). */
  leaderGuess: NodeId | undefined;
  private current: OpHandle<Op, Result> | undefined;

  constructor(
    private readonly host: ClientHost<M, Req, Res, P>,
    private readonly protocol: ClientProtocol<Op, Req, Res, Result>,
    readonly process: string,
    /** Told of every command the cluster acknowledged, with its session (a monitor may check it survives). */
    private readonly onAcknowledged?: (index: number | undefined, clientId: string, seq: number) => void,
  ) {}

  get busy(): boolean {
    return this.current !== undefined && !this.current.done;
  }

  /** Starts `op`; the handle fills in as the simulation runs. */
  submit(op: Op, options: SubmitOptions<Op, Result> = {}): OpHandle<Op, Result> {
    if (this.busy) throw new RangeError(`client ${this.process} already has an operation in flight`);
    const isRead = this.protocol.isRead(op);
    const operation = new ClientOperation(this.host, this.protocol, this, op, isRead ? 0 : ++this.seq, options);
    this.current = operation.handle;
    operation.start();
    return operation.handle;
  }

  acknowledged(index: number | undefined, seq: number): void {
    this.onAcknowledged?.(index, this.process, seq);
  }
}

/** One operation of a client: its attempts, what they proved, and its entry in the history. */
class ClientOperation<M extends Message, Req, Res, P, Op, Result> {
  readonly handle: OpHandle<Op, Result>;
  private readonly isRead: boolean;
  private readonly request: Req;
  private readonly deadlineMs: number;
  /** Some attempt may have been applied (commands only). */
  private uncertain = false;
  private outstanding = false;
  /** Leader hints followed in a row. */
  private hops = 0;
  /** Round-robin cursor, independent of hint-following, so a client cannot cycle among stale nodes. */
  private cursor: NodeId;

  constructor(
    private readonly host: ClientHost<M, Req, Res, P>,
    private readonly protocol: ClientProtocol<Op, Req, Res, Result>,
    private readonly client: SessionClient<M, Req, Res, P, Op, Result>,
    private readonly op: Op,
    private readonly seq: number,
    private readonly options: SubmitOptions<Op, Result>,
  ) {
    const sim = host.sim;
    const call = protocol.historyCall(op);
    this.handle = { op, process: client.process, historyIndex: sim.invoke(client.process, call.f, call.input), done: false, outcome: undefined, result: undefined, error: undefined, index: undefined, attempts: 0 };
    this.isRead = protocol.isRead(op);
    this.request = protocol.request(op, this.isRead ? null : { clientId: client.process, seq });
    this.deadlineMs = sim.nowMs + host.clientOptions.opTimeoutMs;
    // A client knows no leader at first: it starts at a node of its own seeded choice and follows hints.
    this.cursor = options.target ?? client.leaderGuess ?? sim.random.stream(`client:${client.process}`).pick(host.nodeIds);
  }

  start(): void {
    this.host.sim.after(this.host.clientOptions.opTimeoutMs, () => this.giveUp());
    this.attempt(this.cursor);
  }

  private attempt(target: NodeId): void {
    if (this.handle.done) return;
    const sim = this.host.sim;
    this.handle.attempts++;
    this.outstanding = true;
    const timeoutMs = Math.min(this.host.clientOptions.requestTimeoutMs, Math.max(1, this.deadlineMs - sim.nowMs));
    sim.request(target, this.request, { timeoutMs, process: this.client.process }, (res) => {
      this.outstanding = false;
      if (this.handle.done) return;
      if (res === undefined) this.onNoAnswer();
      else this.onAnswer(target, this.protocol.interpret(res));
    });
  }

  private onNoAnswer(): void {
    if (!this.isRead) this.uncertain = true;
    this.handle.error = 'timeout';
    this.client.leaderGuess = undefined;
    this.retry(this.nextByRoundRobin(), 0);
  }

  private onAnswer(target: NodeId, answer: ClientAnswer<Result>): void {
    if (answer.kind === 'unexpected') return this.finish('fail', null, answer.error);
    if (answer.kind === 'ok') {
      this.client.leaderGuess = target;
      this.handle.result = answer.result;
      this.handle.index = answer.index;
      if (!this.isRead) this.client.acknowledged(answer.index, this.seq);
      const { outcome, output } = this.protocol.historyOutput(this.op, answer.result);
      return this.finish(outcome, output);
    }
    const backoffMs = this.host.clientOptions.retryBackoffMs;
    this.handle.error = answer.error;
    if (!answer.definite && !this.isRead) this.uncertain = true;
    switch (answer.next) {
      case 'follow-hint':
        // hints are followed at once, but only a few in a row; then the next node after a pause
        if (answer.hint !== null && this.hops < MAX_HINT_HOPS) {
          this.hops++;
          this.client.leaderGuess = answer.hint;
          return this.retry(answer.hint, 0);
        }
        this.hops = 0;
        this.client.leaderGuess = undefined;
        return this.retry(this.nextByRoundRobin(), backoffMs);
      case 'same':
        return this.retry(target, backoffMs);
      case 'next':
        return this.retry(this.nextByRoundRobin(), backoffMs);
      case 'fail':
        return this.finish('fail', answer.error, answer.error);
    }
  }

  private nextByRoundRobin(): NodeId {
    this.cursor = this.host.nextNode(this.cursor);
    return this.cursor;
  }

  private retry(target: NodeId, delayMs: number): void {
    if (this.options.retry === false) return this.giveUp();
    if (this.host.sim.nowMs + delayMs >= this.deadlineMs) return this.giveUp();
    this.host.sim.after(delayMs, () => this.attempt(target));
  }

  /** Out of time or attempts: a command that may have been applied is unknown; anything else failed. */
  private giveUp(): void {
    const maybeApplied = !this.isRead && (this.uncertain || this.outstanding);
    this.finish(maybeApplied ? 'unknown' : 'fail', null, this.handle.error ?? 'deadline');
  }

  private finish(outcome: Outcome, output: JsonValue, error?: string): void {
    if (this.handle.done) return;
    this.handle.done = true;
    this.handle.outcome = outcome;
    this.handle.error = error;
    this.host.sim.complete(this.handle.historyIndex, outcome, output);
    this.options.onDone?.(this.handle);
  }
}
