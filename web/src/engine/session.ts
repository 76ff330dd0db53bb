// One simulated run: a simulation built by a protocol adapter, the list of timed actions of the
// current branch, and everything the view needs that the simulator does not keep (messages in
// flight, monitor verdicts, a fingerprint of the events so far). A session only moves forward;
// going back in time means building a new session and replaying the actions (see Timeline).
import { applyFault, type Message, type NodeId, type TraceEvent } from '../../../src/sim/index.js';
import type { ProtocolAdapter, ProtocolRun, SimControl } from '../adapters/types.js';
import { actionFault, actionToText, isFaultAction, type Action, type FaultAction, type NodeRef, type RunSpec, type TimedAction } from './actions.js';
import { RollingHash } from './hash.js';
import { MessageTracker } from './messages.js';
import { unwrapCore, wrapSpec, type CoreHooks } from './wrap.js';

export interface Violation {
  readonly atMs: number;
  /** Events processed before the offending step (its number in the run, 1-based). */
  readonly event: number;
  readonly node: NodeId;
  /** What the node was handling ("append from 2", "tick", ...). */
  readonly input: string;
  readonly message: string;
}

export interface MonitorState {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  violation: Violation | null;
}

export interface Failure {
  readonly atMs: number;
  readonly message: string;
}

/** Background clients: how many, and how long each waits between operations. */
const WORKLOAD_CLIENTS = 3;
const WORKLOAD_THINK_MS = 120;
/** Recent events kept for the event ticker. */
const RECENT_EVENTS = 14;
/** A forced timeout runs at most this many ticks at once. */
const MAX_FORCED_TICKS = 1000;
/** Single-stepping jumps at most this far when nothing is scheduled before it. */
const STEP_LIMIT_MS = 60_000;

export class SimSession {
  readonly run: ProtocolRun;
  readonly sim: SimControl;
  readonly messages: MessageTracker;
  readonly monitors: MonitorState[];
  /** The actions of this branch, future ones included, in replay order. */
  readonly actions: TimedAction[];
  /** How many of `actions` have been applied. */
  applied = 0;
  /** True when every event due at `nowMs` has run (false after a single step). */
  settled = true;
  failure: Failure | null = null;
  readonly pausedUntil = new Map<NodeId, number>();
  /** Nodes made slow (ms per input) or given a clock offset and drift, as the trace says. */
  private readonly slowMs = new Map<NodeId, number>();
  private readonly clocks = new Map<NodeId, { readonly offsetMs: number; readonly driftPpm: number }>();
  /** Open operation count per client process. */
  private readonly openOps = new Map<string, number>();
  private readonly hash = new RollingHash();
  private events = 0;
  private readonly recent: TraceEvent[] = [];
  private nextValue = 1;
  private workloadGeneration = 0;
  private workloadOn = false;
  private historyVersion = 0;

  constructor(
    readonly adapter: ProtocolAdapter,
    readonly spec: RunSpec,
  ) {
    this.actions = [...spec.actions];
    let tracker: MessageTracker | undefined;
    let monitorsReady = false;
    const forced = new Map<NodeId, () => number>();
    const hooks: CoreHooks = {
      sending: (from, _to, msg) => tracker?.sending(from, msg),
      stepped: (node, input) => {
        if (!monitorsReady) return;
        this.runMonitors(node, input);
        this.run.afterStep?.(node);
      },
      extraTicks: (node) => {
        const count = forced.get(node);
        if (count === undefined) return 0;
        forced.delete(node);
        return Math.max(0, Math.min(MAX_FORCED_TICKS, Math.floor(count())));
      },
    };
    this.run = adapter.build({
      seed: spec.seed,
      nodes: spec.nodes,
      scenario: spec.scenario,
      wrap: (s) => wrapSpec(s, hooks),
      unwrap: unwrapCore,
      forceTicks: (node, count) => forced.set(node, count),
    });
    this.sim = this.run.sim;
    this.messages = tracker = new MessageTracker(this.sim);
    this.monitors = this.run.monitors.map((m) => ({ id: m.id, title: m.title, description: m.description, violation: null }));
    monitorsReady = true;
    this.sim.subscribe((e) => this.onEvent(e));
    const scenario = spec.scenario === undefined ? undefined : adapter.scenarios.find((sc) => sc.id === spec.scenario);
    if (scenario?.driven === true) this.guard(() => this.run.startScenario?.(scenario.id));
  }

  get nowMs(): number {
    return this.sim.nowMs;
  }

  get eventCount(): number {
    return this.sim.stats.eventsProcessed;
  }

  /** Fingerprint of every event so far. */
  get traceHash(): string {
    return this.hash.hex();
  }

  get tracedEvents(): number {
    return this.events;
  }

  /** Bumped whenever a client operation starts or ends. */
  get historyRevision(): number {
    return this.historyVersion;
  }

  get workload(): boolean {
    return this.workloadOn;
  }

  recentEvents(): readonly TraceEvent[] {
    return this.recent;
  }

  private onEvent(e: TraceEvent): void {
    this.events++;
    hashEvent(this.hash, e);
    this.messages.onEvent(e);
    if (e.ev !== 'tick' && e.ev !== 'annotate' && e.ev !== 'fsync' && e.ev !== 'persist') {
      this.recent.push(e);
      if (this.recent.length > RECENT_EVENTS) this.recent.shift();
    }
    switch (e.ev) {
      case 'invoke':
        this.openOps.set(e.process, (this.openOps.get(e.process) ?? 0) + 1);
        this.historyVersion++;
        break;
      case 'complete':
        this.openOps.set(e.process, Math.max(0, (this.openOps.get(e.process) ?? 0) - 1));
        this.historyVersion++;
        break;
      case 'pause':
        this.pausedUntil.set(e.node, Math.max(this.pausedUntil.get(e.node) ?? 0, e.t + e.ms));
        break;
      case 'slow':
        if (e.processingMs > 0) this.slowMs.set(e.node, e.processingMs);
        else this.slowMs.delete(e.node);
        break;
      case 'clock':
        if (e.offsetMs !== 0 || e.driftPpm !== 0) this.clocks.set(e.node, { offsetMs: e.offsetMs, driftPpm: e.driftPpm });
        else this.clocks.delete(e.node);
        break;
      default:
        break;
    }
  }

  private runMonitors(node: NodeId, input: string): void {
    const monitors = this.run.monitors;
    for (let i = 0; i < monitors.length; i++) {
      const state = this.monitors[i] as MonitorState;
      if (state.violation !== null) continue;
      const found = (monitors[i] as (typeof monitors)[number]).afterStep(node);
      if (found !== null) {
        state.violation = { atMs: this.sim.nowMs, event: this.sim.stats.eventsProcessed, node, input, message: found };
      }
    }
  }

  // ---------------------------------------------------------------- moving forward

  /** Runs to `t` (>= now), applying the branch's recorded actions on the way. */
  advanceTo(t: number): void {
    if (this.failure !== null || t < this.sim.nowMs) return;
    this.guard(() => {
      for (;;) {
        const next = this.actions[this.applied];
        if (next === undefined || next.at > t) break;
        this.reach(next);
        this.applied++;
        this.apply(next.action);
      }
      this.sim.runUntil(t);
      this.settled = true;
    });
  }

  /** Brings the simulation to the point where `a` was taken. */
  private reach(a: TimedAction): void {
    if (a.seq === undefined) {
      if (a.at >= this.sim.nowMs) this.sim.runUntil(a.at);
      this.settled = true;
      return;
    }
    while (this.sim.stats.eventsProcessed < a.seq && this.sim.nowMs <= a.at) {
      if (!this.sim.step()) break;
    }
    if (this.sim.nowMs < a.at) this.sim.runUntil(a.at);
    this.settled = false;
  }

  /** Processes one event (or the next recorded action, if it comes first). */
  stepOne(): void {
    if (this.failure !== null) return;
    this.guard(() => {
      const next = this.actions[this.applied];
      if (next !== undefined && next.seq !== undefined && next.seq <= this.sim.stats.eventsProcessed) {
        this.reach(next);
        this.applied++;
        this.apply(next.action);
        return;
      }
      const limit = next === undefined ? this.sim.nowMs + STEP_LIMIT_MS : Math.min(next.at, this.sim.nowMs + STEP_LIMIT_MS);
      let calls = 0;
      const stepped = this.sim.runUntilTrue(() => calls++ > 0, Math.max(0, limit - this.sim.nowMs));
      this.settled = !stepped;
      if (!stepped && next !== undefined && next.seq === undefined && next.at === this.sim.nowMs) {
        this.applied++;
        this.apply(next.action);
      }
    });
  }

  /** Takes a new action now: the recorded future of this branch is discarded. */
  act(action: Action): TimedAction {
    this.actions.length = this.applied;
    const timed: TimedAction = this.settled ? { at: this.sim.nowMs, action } : { at: this.sim.nowMs, seq: this.sim.stats.eventsProcessed, action };
    this.actions.push(timed);
    this.applied++;
    if (this.failure === null) this.guard(() => this.apply(action));
    return timed;
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      this.failure = { atMs: this.sim.nowMs, message };
      console.error('visualizer: the simulation stopped', err);
    }
  }

  // ---------------------------------------------------------------- actions

  private resolve(ref: NodeRef): NodeId | undefined {
    if (ref === 'leader') return this.run.leader();
    return this.run.nodeIds().includes(ref) ? ref : undefined;
  }

  private apply(action: Action): void {
    const text = actionToText(action);
    if (isFaultAction(action)) {
      this.applyFaultAction(action, text);
      return;
    }
    switch (action.kind) {
      case 'client':
        this.run.clientOp(action.op, this.idleClient('c'), action.node, this.nextValue++, action.arg);
        break;
      case 'workload':
        this.setWorkload(action.on);
        break;
      case 'protocol': {
        const node = action.node === null ? null : (this.resolve(action.node) ?? null);
        if (action.node !== null && node === null) this.sim.note(`visualizer: ${text}: no such node now`);
        else this.sim.note(`visualizer: ${this.run.protocolAction(action.name, node)}`);
        break;
      }
    }
  }

  /** A fault: built as the simulator's Fault and applied by applyFault, the one code path every fault takes. */
  private applyFaultAction(action: FaultAction, text: string): void {
    const fault = actionFault(action, (ref) => this.resolve(ref));
    if ('skip' in fault) {
      this.sim.note(`visualizer: ${text}: ${fault.skip}`);
      return;
    }
    if (fault.kind === 'drop') {
      // only a message still in flight; the tracker marks it dropped by the user
      if (!this.messages.canDrop(fault.msg)) {
        this.sim.note(`visualizer: ${text}: not in flight`);
        return;
      }
      applyFault(this.sim, fault);
      this.messages.droppedByUser(fault.msg);
      this.sim.note(`visualizer: dropped message #${fault.msg}`);
      return;
    }
    applyFault(this.sim, fault);
  }

  /** The lowest-numbered client of this family with no operation open. */
  private idleClient(prefix: string): string {
    for (let k = 1; ; k++) {
      const name = `${prefix}${k}`;
      if ((this.openOps.get(name) ?? 0) === 0) return name;
    }
  }

  private setWorkload(on: boolean): void {
    if (on === this.workloadOn) return;
    this.workloadOn = on;
    const generation = ++this.workloadGeneration;
    if (!on) return;
    const rng = this.sim.random.stream('visualizer-workload');
    const ops = this.adapter.clientOps;
    if (ops.length === 0) return;
    const loop = (process: string): void => {
      if (generation !== this.workloadGeneration) return;
      if ((this.openOps.get(process) ?? 0) === 0) {
        const op = rng.pick(ops);
        this.run.clientOp(op.id, process, null, this.nextValue++);
      }
      this.sim.after(rng.int(WORKLOAD_THINK_MS / 2, WORKLOAD_THINK_MS * 2), () => loop(process));
    };
    for (let c = 1; c <= WORKLOAD_CLIENTS; c++) {
      const process = `w${c}`;
      this.sim.after(rng.int(0, WORKLOAD_THINK_MS), () => loop(process));
    }
  }

  /** Whether the node is inside a pause now. */
  isPaused(id: NodeId): boolean {
    return (this.pausedUntil.get(id) ?? -1) > this.sim.nowMs;
  }

  /** Short lines for the node faults in force on a node ("slow 20 ms/input", "clock +500 ms"). */
  nodeFaults(id: NodeId): string[] {
    const lines: string[] = [];
    const slow = this.slowMs.get(id);
    if (slow !== undefined) lines.push(`slow ${slow} ms/input`);
    const clock = this.clocks.get(id);
    if (clock !== undefined) lines.push(`clock ${clock.offsetMs >= 0 ? '+' : ''}${clock.offsetMs} ms${clock.driftPpm === 0 ? '' : `, ${clock.driftPpm > 0 ? '+' : ''}${clock.driftPpm} ppm`}`);
    return lines;
  }

  describeMessage(msg: Message | undefined, type: string): string {
    if (msg === undefined) return type;
    try {
      return this.run.describeMessage(msg);
    } catch {
      return type;
    }
  }
}

const KIND_CODES: Record<TraceEvent['ev'], number> = {
  send: 1,
  deliver: 2,
  drop: 3,
  duplicate: 4,
  tick: 5,
  persist: 6,
  fsync: 7,
  crash: 8,
  restart: 9,
  pause: 10,
  slow: 11,
  clock: 12,
  partition: 13,
  heal: 14,
  link: 15,
  request: 16,
  reply: 17,
  invoke: 18,
  complete: 19,
  annotate: 20,
  note: 21,
};

/** Folds the identifying fields of an event (not message bodies) into the hash. */
function hashEvent(h: RollingHash, e: TraceEvent): void {
  h.addNumber(e.t * 32 + KIND_CODES[e.ev]);
  switch (e.ev) {
    case 'send':
      h.add(`${e.id}:${e.from}>${e.to}:${e.type}@${e.arriveMs ?? '-'}`);
      break;
    case 'duplicate':
      h.add(`${e.id}=${e.of}:${e.from}>${e.to}:${e.type}@${e.arriveMs}`);
      break;
    case 'deliver':
      h.add(`${e.id}:${e.from}>${e.to}:${e.type}`);
      break;
    case 'drop':
      h.add(`${e.id}:${e.from}>${e.to}:${e.type}:${e.reason}`);
      break;
    case 'annotate':
      h.add(`${e.node}.${e.key}=${String(e.value)}`);
      break;
    case 'tick':
    case 'persist':
    case 'fsync':
    case 'crash':
    case 'restart':
    case 'pause':
    case 'slow':
    case 'clock':
      h.add(e.node);
      break;
    case 'invoke':
    case 'complete':
      h.add(`${e.process}#${e.index}`);
      break;
    case 'request':
    case 'reply':
      h.add(`${e.node}:${e.requestId}`);
      break;
    case 'note':
      h.add(e.text);
      break;
    default:
      break;
  }
}
