// Clients that are nodes: a client core runs on a simulated node, so pauses, crashes and clock
// faults hit it as they hit servers, and it carries out each operation by messages to servers.
// A host-side driver hands it operations (scripted or random) and records the history.
import type { CoreEnv, Effects, JsonValue, Message, NodeId, Outcome, ProtocolCore, ProtocolSpec } from '../core/index.js';
import { assertInvariant } from '../core/index.js';
import type { RandomStream } from './rng.js';
import type { Simulation } from './simulation.js';

/** What the driver asks a client node to do. */
export interface ClientNodeRequest<Op> {
  readonly op: Op;
}

/** How a client node says an operation ended, in the history's terms. */
export interface ClientNodeResponse {
  /** ok: took effect; fail: certainly no effect; unknown: may have taken effect. */
  readonly outcome: Outcome;
  readonly output: JsonValue;
  readonly error?: string;
}

/** A client node's durable op: one per life, so operation ids stay unique across restarts. */
export interface ClientNodeOp {
  readonly kind: 'life';
  readonly life: number;
}

/** What a client program may do during one call. */
export interface ClientContext<M extends Message> {
  /** The open operation's id (unique across restarts); messages about it should carry it. */
  readonly opId: string;
  /** The node's local clock (skewed and drifting in the simulator). */
  now(): number;
  random(): number;
  send(to: NodeId, msg: M): void;
  annotate(key: string, value: string | number | boolean | null): void;
  /** Ends the open operation and answers the driver; later calls of it are ignored. */
  finish(outcome: Outcome, output: JsonValue, error?: string): void;
}

/**
 * How a client carries out operations: one at a time, as a state machine over messages and ticks.
 * Messages reach it only while an operation is open; it should ignore answers about other ids.
 */
export interface ClientProgram<M extends Message, Op> {
  begin(op: Op, ctx: ClientContext<M>): void;
  onMessage(from: NodeId, msg: M, ctx: ClientContext<M>): void;
  onTick(ctx: ClientContext<M>): void;
  /** The operation ran out of time: 'fail' if it certainly had no effect, else 'unknown'. */
  abandon(ctx: ClientContext<M>): 'fail' | 'unknown';
}

export interface ClientNodeOptions<M extends Message, Op> {
  readonly name?: string;
  /** Tick interval of the client (its program's timers and the operation deadline). */
  readonly tickIntervalMs: number;
  /** An operation not finished within this long on the node's clock is abandoned. */
  readonly opTimeoutMs: number;
  readonly program: (env: CoreEnv) => ClientProgram<M, Op>;
}

type Fx<M extends Message> = Effects<M, ClientNodeOp, ClientNodeResponse>;

interface OpenOp {
  readonly requestId: string;
  readonly opId: string;
  readonly deadline: number;
}

/** The client core: one operation at a time, each with a local deadline, answered by reply. */
export class ClientNodeCore<M extends Message, Op> implements ProtocolCore<M, ClientNodeRequest<Op>, ClientNodeResponse, ClientNodeOp> {
  readonly program: ClientProgram<M, Op>;
  private readonly life: number;
  private nextOp = 0;
  private open: OpenOp | undefined;

  constructor(
    private readonly env: CoreEnv,
    durable: readonly ClientNodeOp[],
    private readonly options: ClientNodeOptions<M, Op>,
  ) {
    let life = 0;
    for (const op of durable) {
      assertInvariant(op.kind === 'life' && op.life > life, () => `client node ${env.id}: bad durable op ${JSON.stringify(op)}`);
      life = op.life;
    }
    this.life = life + 1;
    this.program = options.program(env);
  }

  get busy(): boolean {
    return this.open !== undefined;
  }

  start(fx: Fx<M>): void {
    fx.persist({ kind: 'life', life: this.life });
    fx.annotate('life', this.life);
    fx.annotate('busy', false);
  }

  handleRequest(requestId: string, request: ClientNodeRequest<Op>, fx: Fx<M>): void {
    if (this.open !== undefined) {
      fx.reply(requestId, { outcome: 'fail', output: null, error: 'busy' });
      return;
    }
    const opId = `${this.env.id}.${this.life}.${this.nextOp++}`;
    this.open = { requestId, opId, deadline: this.env.now() + this.options.opTimeoutMs };
    fx.annotate('busy', true);
    this.program.begin(request.op, this.context(opId, fx));
  }

  handleMessage(from: NodeId, msg: M, fx: Fx<M>): void {
    if (this.open === undefined) return;
    this.program.onMessage(from, msg, this.context(this.open.opId, fx));
  }

  handleTick(fx: Fx<M>): void {
    const open = this.open;
    if (open === undefined) return;
    const ctx = this.context(open.opId, fx);
    if (this.env.now() >= open.deadline) {
      const outcome = this.program.abandon(ctx);
      ctx.finish(outcome, null, 'timeout');
      return;
    }
    this.program.onTick(ctx);
  }

  private context(opId: string, fx: Fx<M>): ClientContext<M> {
    return {
      opId,
      now: () => this.env.now(),
      random: () => this.env.random(),
      send: (to, msg) => fx.send(to, msg),
      annotate: (key, value) => fx.annotate(key, value),
      finish: (outcome, output, error) => {
        const open = this.open;
        if (open === undefined || open.opId !== opId) return;
        this.open = undefined;
        fx.annotate('busy', false);
        fx.reply(open.requestId, error === undefined ? { outcome, output } : { outcome, output, error });
      },
    };
  }
}

export function clientNodeSpec<M extends Message, Op>(options: ClientNodeOptions<M, Op>): ProtocolSpec<M, ClientNodeRequest<Op>, ClientNodeResponse, ClientNodeOp, ClientNodeCore<M, Op>> {
  if (!(options.tickIntervalMs > 0)) throw new RangeError(`client node: tickIntervalMs must be > 0, got ${options.tickIntervalMs}`);
  return {
    name: options.name ?? 'client',
    tickIntervalMs: options.tickIntervalMs,
    create: (env, durable) => new ClientNodeCore(env, durable, options),
    // each life's op makes the earlier ones redundant
    supersedesEarlier: () => true,
  };
}

// ------------------------------------------------------------------ the driver (host side)

/** How the driver speaks to client nodes inside some simulation (a composed one, say). */
export interface ClientDriverOptions<Op, Req, Res> {
  /** The operation in the history's terms (what the checker's model reads). */
  readonly describe: (op: Op) => { readonly f: string; readonly input: JsonValue };
  readonly request: (op: Op) => Req;
  /** The client node's answer inside the host's response; undefined: not an answer (refused). */
  readonly response: (res: Res) => ClientNodeResponse | undefined;
  /** The driver gives up on an answer after this long (virtual ms): the outcome is then unknown. */
  readonly timeoutMs: number;
}

/** Which operation a client does next (its n-th); undefined: it is done. */
export type Workload<Op> = (client: NodeId, n: number, rng: RandomStream) => Op | undefined;

/** A fixed list of operations per client. */
export function scriptedWorkload<Op>(script: Readonly<Record<NodeId, readonly Op[]>>): Workload<Op> {
  return (client, n) => script[client]?.[n];
}

/** Operations drawn by weight, without end. */
export function randomWorkload<Op>(choices: readonly { readonly weight: number; readonly op: Op }[]): Workload<Op> {
  const total = choices.reduce((s, c) => s + c.weight, 0);
  if (!(total > 0)) throw new RangeError('randomWorkload: the weights must add up to more than 0');
  return (_client, _n, rng) => {
    let x = rng.float() * total;
    for (const c of choices) {
      if ((x -= c.weight) < 0) return c.op;
    }
    return (choices[choices.length - 1] as { op: Op }).op;
  };
}

export interface DriverCounts {
  ok: number;
  fail: number;
  unknown: number;
}

/**
 * Hands operations to client nodes and records them: invoke when the request leaves the host,
 * complete when the answer is back (or unknown after `timeoutMs`). After an unknown outcome the
 * client continues as a new history process (`3`, then `3'1`, ...), as Jepsen does, since the
 * abandoned operation may still take effect.
 */
export class ClientNodeDriver<M extends Message, Req, Res, P, Op> {
  readonly counts: DriverCounts = { ok: 0, fail: 0, unknown: 0 };
  private readonly busy = new Set<NodeId>();
  private readonly generation = new Map<NodeId, number>();

  constructor(
    readonly sim: Simulation<M, Req, Res, P>,
    private readonly options: ClientDriverOptions<Op, Req, Res>,
  ) {}

  isBusy(client: NodeId): boolean {
    return this.busy.has(client);
  }

  /** The history process that stands for `client` now. */
  process(client: NodeId): string {
    const g = this.generation.get(client) ?? 0;
    return g === 0 ? client : `${client}'${g}`;
  }

  /** Submits one operation to `client` now; `onDone` gets how it ended. */
  submit(client: NodeId, op: Op, onDone?: (result: ClientNodeResponse) => void): void {
    if (this.busy.has(client)) throw new RangeError(`client ${client} already has an operation in flight`);
    const sim = this.sim;
    const process = this.process(client);
    const call = this.options.describe(op);
    const index = sim.invoke(process, call.f, call.input);
    this.busy.add(client);
    sim.request(client, this.options.request(op), { timeoutMs: this.options.timeoutMs, process }, (res) => {
      const answer: ClientNodeResponse = res === undefined ? { outcome: 'unknown', output: null, error: 'no answer' } : (this.options.response(res) ?? { outcome: 'fail', output: null, error: 'refused' });
      this.busy.delete(client);
      this.counts[answer.outcome]++;
      sim.complete(index, answer.outcome, answer.output);
      if (answer.outcome === 'unknown') this.generation.set(client, (this.generation.get(client) ?? 0) + 1);
      onDone?.(answer);
    });
  }

  /** Runs `workload` on `clients` until `untilMs`: each client does one operation, thinks, does the next. */
  run(clients: readonly NodeId[], workload: Workload<Op>, options: { readonly untilMs: number; readonly thinkMs: number; readonly rngName?: string }): void {
    const rng = this.sim.random.stream(options.rngName ?? 'client-nodes');
    for (const client of clients) {
      let n = 0;
      const next = (): void => {
        if (this.sim.nowMs >= options.untilMs) return;
        const op = workload(client, n++, rng);
        if (op === undefined) return;
        this.submit(client, op, () => this.sim.after(options.thinkMs, next));
      };
      this.sim.after(rng.int(0, options.thinkMs), next);
    }
  }
}
