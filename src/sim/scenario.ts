// The one scenario interpreter. A scenario is plain data: steps with a name and a caption
// ("isolate L1", "expect a leader within 2 s as L2"). The interpreter is a generator: it carries
// out each step and, where a step waits, yields what it waits for ("run until this holds, within
// T ms"). Drivers decide how time passes: tests and chaos run the simulator to the answer at once
// (runScenarioProgram); the visualizer polls in virtual time between frames
// (driveScenarioProgram). Steps common to every protocol (time, faults through the one fault
// vocabulary, node references, repetition) live here; a protocol adds its own (elections, writes,
// membership) through ScenarioProtocol.
import type { Message, NodeId } from '../core/index.js';
import { applyFault, type LinkChange } from './faults.js';
import type { RandomStream } from './rng.js';
import type { Simulation } from './simulation.js';

/**
 * A node reference: a node id, a name bound by an earlier step (`as`), "leader" (the current
 * leader), or "leaders" (every up node that believes it leads). In a list, "rest" means every
 * node the other references do not name (in a partition: the other groups).
 */
export type NodeRef = string;

/** The steps every protocol's scenarios may use. */
export type CommonStep<P> =
  | { readonly do: 'run'; readonly ms: number }
  | { readonly do: 'runRandom'; readonly minMs: number; readonly maxMs: number }
  | { readonly do: 'note'; readonly text: string }
  /** Binds `count` (default 1) random nodes, other than those in `notIn` (and up ones only if `up`), to a name. */
  | { readonly do: 'pick'; readonly as: string; readonly notIn?: readonly NodeRef[]; readonly count?: number; readonly up?: boolean }
  | { readonly do: 'partition'; readonly groups: readonly (readonly NodeRef[])[] }
  /** Cuts each named node off from everyone. */
  | { readonly do: 'isolate'; readonly nodes: readonly NodeRef[] }
  | { readonly do: 'heal' }
  | { readonly do: 'crash'; readonly nodes: readonly NodeRef[] | 'all' }
  | { readonly do: 'restart'; readonly nodes: readonly NodeRef[] | 'all' }
  /** Restarts random crashed nodes until a majority is up. */
  | { readonly do: 'restartQuorum' }
  /** Reconnects random nodes cut off by `isolate` until a majority can talk to each other. */
  | { readonly do: 'reconnectQuorum' }
  | { readonly do: 'pause'; readonly node: NodeRef; readonly ms: number }
  | { readonly do: 'link'; readonly change: LinkChange }
  | { readonly do: 'repeat'; readonly times: number; readonly steps: readonly Step<P>[] }
  | { readonly do: 'maybe'; readonly probability: number; readonly steps: readonly Step<P>[] };

/** A step of a scenario of a protocol whose own steps are P. */
export type Step<P> = CommonStep<P> | P;

/** A scenario played on a fresh simulated cluster of `nodes` built with options O and a seed (Raft's, Multi-Paxos's, Synod's). */
export interface ClusterScenario<P, O> {
  readonly name: string;
  readonly caption: string;
  readonly nodes: number;
  readonly cluster?: Omit<O, 'seed' | 'nodes'>;
  readonly steps: readonly Step<P>[];
}

/** What playing a ClusterScenario with a seed gave: the monitor's violations V and the cluster C it ran on. */
export interface ClusterScenarioResult<V, C> {
  readonly scenario: string;
  readonly seed: number;
  /** No failed expectation, no monitor violation, and whatever else the runner checks (on a KV cluster: a linearizable history). */
  readonly ok: boolean;
  /** The failed expectation that stopped the scenario, if any. */
  readonly failure: string | undefined;
  readonly violations: readonly V[];
  readonly cluster: C;
}

/** What the interpreter waits for. The driver resumes it with true when `until` held in time. */
export type ScenarioWait =
  /** Let `ms` of virtual time pass. */
  | { readonly kind: 'for'; readonly ms: number }
  /** Run until `until` holds, at most `withinMs`. */
  | { readonly kind: 'until'; readonly until: () => boolean; readonly withinMs: number }
  /** A step begins (drivers may start it in an event of its own, and show it as a caption). */
  | { readonly kind: 'step'; readonly where: string; readonly text: string };

export type ScenarioProgram = Generator<ScenarioWait, void, boolean>;

export class ScenarioError extends Error {
  readonly code = 'SCENARIO_FAILED';
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioError';
  }
}

/** What a protocol's steps may use while they run. */
export interface ScenarioContext {
  readonly rng: RandomStream;
  fail(where: string, what: string): never;
  resolve(ref: NodeRef, where: string): NodeId[];
  resolveAll(refs: readonly NodeRef[], where: string): NodeId[];
  resolveOne(ref: NodeRef, where: string): NodeId;
  bind(name: string, ids: NodeId[]): void;
  /** What the current step is doing now (a visualizer shows it under the caption). */
  status(text: string): void;
}

/** A protocol's part of the scenario language. */
export interface ScenarioProtocol<P extends { readonly do: string }> {
  /** Whether `step` is one of the protocol's own (not a common step). */
  owns(step: Step<P>): step is P;
  describe(step: P): string;
  /** Carries out a step; a generator when it waits. Throws ScenarioError (through ctx.fail) when an expectation fails. */
  run(step: P, where: string, ctx: ScenarioContext): ScenarioProgram | void;
  /** What "leader" names now (undefined: nobody; the step then acts on no node). */
  leader(): NodeId | undefined;
  /** What "leaders" names: every up node that believes it leads. */
  leaders(): NodeId[];
}

/** Bounds the work a scenario can ask for (nested repeats multiply). */
const MAX_STEPS_EXECUTED = 1_000_000;

/** What describing a step needs of a protocol (no cluster: a scenario can be described before it runs). */
export type StepDescriber<P extends { readonly do: string }> = Pick<ScenarioProtocol<P>, 'owns' | 'describe'>;

/** One line describing a step, as the trace notes and a visualizer show it. */
export function describeStep<P extends { readonly do: string }>(step: Step<P>, protocol: StepDescriber<P>): string {
  if (protocol.owns(step)) return protocol.describe(step);
  const s = step as CommonStep<P>;
  const refs = (r: readonly NodeRef[]): string => `{${r.join(',')}}`;
  switch (s.do) {
    case 'run':
      return `run ${s.ms} ms`;
    case 'runRandom':
      return `run ${s.minMs}-${s.maxMs} ms`;
    case 'note':
      return s.text;
    case 'pick':
      return `pick ${s.count ?? 1} node(s)${s.notIn ? ` not in ${refs(s.notIn)}` : ''} as ${s.as}`;
    case 'partition':
      return `partition ${s.groups.map(refs).join(' | ')}`;
    case 'isolate':
      return `isolate ${s.nodes.join(', ')}`;
    case 'heal':
      return 'heal the network';
    case 'crash':
    case 'restart':
      return `${s.do} ${s.nodes === 'all' ? 'all' : s.nodes.join(', ')}`;
    case 'restartQuorum':
      return 'restart crashed nodes until a majority is up';
    case 'reconnectQuorum':
      return 'reconnect isolated nodes until a majority is connected';
    case 'pause':
      return `pause ${s.node} for ${s.ms} ms`;
    case 'link':
      return `links: ${JSON.stringify(s.change)}`;
    case 'repeat':
      return `repeat ${s.times} times: ${s.steps.map((x) => describeStep(x, protocol)).join('; ')}`;
    case 'maybe':
      return `with probability ${s.probability}: ${s.steps.map((x) => describeStep(x, protocol)).join('; ')}`;
  }
}

/** Interprets steps on a simulation: one instance per scenario run (it holds the bindings). */
export class ScenarioInterpreter<M extends Message, Req, Res, Pers, P extends { readonly do: string }> {
  private readonly bindings = new Map<string, NodeId[]>();
  private readonly isolated = new Set<NodeId>();
  private executed = 0;
  readonly context: ScenarioContext;
  /** What the current step is doing, for captions. */
  statusText = '';

  constructor(
    private readonly sim: Simulation<M, Req, Res, Pers>,
    private readonly protocol: ScenarioProtocol<P>,
  ) {
    const rng = sim.random.stream('scenario');
    this.context = {
      rng,
      fail: (where, what) => this.fail(where, what),
      resolve: (ref, where) => this.resolve(ref, where),
      resolveAll: (refs, where) => this.resolveAll(refs, where),
      resolveOne: (ref, where) => this.resolveOne(ref, where),
      bind: (name, ids) => {
        this.bindings.set(name, ids);
        this.statusText = `${name} = ${ids.join(',')}`;
        this.sim.note(this.statusText);
      },
      status: (text) => (this.statusText = text),
    };
  }

  /** The program of `steps`; `path` prefixes step numbers ("3.2.1"). */
  *steps(steps: readonly Step<P>[], path = ''): ScenarioProgram {
    for (let i = 0; i < steps.length; i++) {
      if (++this.executed > MAX_STEPS_EXECUTED) throw new ScenarioError(`more than ${MAX_STEPS_EXECUTED} steps executed`);
      const step = steps[i] as Step<P>;
      const where = `${path}${i + 1}`;
      const text = describeStep(step, this.protocol);
      yield { kind: 'step', where, text };
      this.statusText = '';
      this.sim.note(`step ${where}: ${text}`);
      yield* this.step(step, where);
    }
  }

  private *step(step: Step<P>, where: string): ScenarioProgram {
    if (this.protocol.owns(step)) {
      const program = this.protocol.run(step, where, this.context);
      if (program !== undefined) yield* program;
      return;
    }
    const s = step as CommonStep<P>;
    const sim = this.sim;
    const rng = this.context.rng;
    switch (s.do) {
      case 'run':
        yield { kind: 'for', ms: s.ms };
        return;
      case 'runRandom':
        yield { kind: 'for', ms: rng.int(s.minMs, s.maxMs) };
        return;
      case 'note':
        this.statusText = s.text;
        return;
      case 'pick':
        return this.pick(s, where);
      case 'partition':
        this.isolated.clear();
        applyFault(sim, { kind: 'partition', groups: this.partitionGroups(s.groups, where) });
        return;
      case 'isolate':
        for (const id of this.resolveAll(s.nodes, where)) {
          applyFault(sim, { kind: 'isolate', target: { kind: 'node', id } });
          this.isolated.add(id);
        }
        return;
      case 'heal':
        this.isolated.clear();
        applyFault(sim, { kind: 'heal' });
        return;
      case 'crash':
      case 'restart':
        for (const id of s.nodes === 'all' ? sim.nodeIds : this.resolveAll(s.nodes, where)) applyFault(sim, { kind: s.do, target: { kind: 'node', id } });
        return;
      case 'restartQuorum':
        return this.restartQuorum();
      case 'reconnectQuorum':
        return this.reconnectQuorum();
      case 'pause':
        for (const id of this.resolve(s.node, where)) applyFault(sim, { kind: 'pause', target: { kind: 'node', id }, durationMs: s.ms });
        return;
      case 'link':
        applyFault(sim, { kind: 'link', from: '*', to: '*', both: false, change: s.change });
        return;
      case 'repeat':
        for (let round = 1; round <= s.times; round++) yield* this.steps(s.steps, `${where}.${round}.`);
        return;
      case 'maybe':
        if (rng.chance(s.probability)) yield* this.steps(s.steps, `${where}.`);
        return;
    }
  }

  private fail(where: string, what: string): never {
    throw new ScenarioError(`step ${where}: ${what} (at ${this.sim.nowMs} ms)`);
  }

  /** Resolves one reference; "leader" gives nobody when there is no leader (the action is skipped). */
  private resolve(ref: NodeRef, where: string): NodeId[] {
    if (ref === 'leader') {
      const leader = this.protocol.leader();
      return leader === undefined ? [] : [leader];
    }
    if (ref === 'leaders') return this.protocol.leaders();
    const bound = this.bindings.get(ref);
    if (bound !== undefined) return bound;
    if (this.sim.nodeIds.includes(ref)) return [ref];
    return this.fail(where, `unknown node reference "${ref}"`);
  }

  /** Resolves a list; "rest" stands for every node the other references do not name. */
  private resolveAll(refs: readonly NodeRef[], where: string): NodeId[] {
    const named = [...new Set(refs.filter((r) => r !== 'rest').flatMap((r) => this.resolve(r, where)))];
    if (!refs.includes('rest')) return named;
    return [...named, ...this.sim.nodeIds.filter((id) => !named.includes(id))];
  }

  private resolveOne(ref: NodeRef, where: string): NodeId {
    const [id] = this.resolve(ref, where);
    return id ?? this.fail(where, `no node for "${ref}" (no leader?)`);
  }

  private pick(step: Extract<CommonStep<P>, { do: 'pick' }>, where: string): void {
    const excluded = new Set(this.resolveAll(step.notIn ?? [], where));
    const pool = this.sim.nodeIds.filter((id) => !excluded.has(id) && (step.up !== true || this.sim.isUp(id)));
    const count = step.count ?? 1;
    if (pool.length < count) this.fail(where, `only ${pool.length} node(s) to pick ${count} from`);
    this.context.bind(step.as, this.context.rng.shuffled(pool).slice(0, count));
  }

  private partitionGroups(groups: readonly (readonly NodeRef[])[], where: string): NodeId[][] {
    const named = groups.map((g) => this.resolveAll(g.filter((r) => r !== 'rest'), where));
    const used = new Set(named.flat());
    const rest = this.sim.nodeIds.filter((id) => !used.has(id));
    return groups.map((g, i) => (g.includes('rest') ? [...(named[i] as NodeId[]), ...rest] : (named[i] as NodeId[])));
  }

  private restartQuorum(): void {
    const sim = this.sim;
    const majority = Math.floor(sim.nodeIds.length / 2) + 1;
    for (const id of this.context.rng.shuffled(sim.nodeIds)) {
      if (sim.nodeIds.filter((n) => sim.isUp(n)).length >= majority) return;
      if (!sim.isUp(id)) applyFault(sim, { kind: 'restart', target: { kind: 'node', id } });
    }
  }

  /** Reconnecting one node means healing everything and cutting the others off again. */
  private reconnectQuorum(): void {
    const sim = this.sim;
    const majority = Math.floor(sim.nodeIds.length / 2) + 1;
    if (sim.nodeIds.length - this.isolated.size >= majority) return;
    for (const id of this.context.rng.shuffled([...this.isolated])) {
      if (sim.nodeIds.length - this.isolated.size >= majority) break;
      this.isolated.delete(id);
    }
    applyFault(sim, { kind: 'heal' });
    for (const id of this.isolated) applyFault(sim, { kind: 'isolate', target: { kind: 'node', id } });
  }
}

/**
 * Runs a program to its end at once, the simulator answering each wait (tests, chaos, the CLI).
 * A failed expectation is returned, not thrown; any other error is thrown.
 */
export function runScenarioProgram<M extends Message, Req, Res, P>(sim: Simulation<M, Req, Res, P>, program: ScenarioProgram): string | undefined {
  try {
    let answer = true;
    for (;;) {
      const next = program.next(answer);
      if (next.done === true) return undefined;
      const wait = next.value;
      if (wait.kind === 'for') {
        sim.runFor(wait.ms);
        answer = true;
      } else if (wait.kind === 'until') {
        answer = sim.runUntilTrue(wait.until, wait.withinMs);
      } else {
        answer = true;
      }
    }
  } catch (err) {
    if (err instanceof ScenarioError) return err.message;
    throw err;
  }
}

export interface DriveOptions {
  /** How often a wait looks at its condition, in virtual ms. */
  readonly pollMs: number;
  readonly onStep?: (where: string, text: string) => void;
  /** The program ended: `failure` is the failed expectation, if any. */
  readonly onEnd: (failure: string | undefined) => void;
}

/**
 * Runs a program as host callbacks in virtual time, for a driver that must not run the
 * simulator itself (the visualizer steps it frame by frame): each step starts in an event of its
 * own (long scripts never grow the stack), and a wait polls every `pollMs`. Deterministic: the
 * same seed replays exactly.
 */
export function driveScenarioProgram<M extends Message, Req, Res, P>(sim: Simulation<M, Req, Res, P>, program: ScenarioProgram, options: DriveOptions): void {
  let finished = false;
  const end = (failure: string | undefined): void => {
    if (finished) return;
    finished = true;
    options.onEnd(failure);
  };
  const resume = (answer: boolean): void => {
    if (finished) return;
    let next: IteratorResult<ScenarioWait, void>;
    try {
      next = program.next(answer);
    } catch (err) {
      if (err instanceof ScenarioError) return end(err.message);
      throw err;
    }
    if (next.done === true) return end(undefined);
    const wait = next.value;
    if (wait.kind === 'step') {
      options.onStep?.(wait.where, wait.text);
      sim.after(0, () => resume(true));
    } else if (wait.kind === 'for') {
      sim.after(Math.max(0, wait.ms), () => resume(true));
    } else {
      const deadline = sim.nowMs + wait.withinMs;
      const poll = (): void => {
        if (finished) return;
        if (wait.until()) return resume(true);
        if (sim.nowMs >= deadline) return resume(false);
        sim.after(Math.min(options.pollMs, Math.max(1, deadline - sim.nowMs)), poll);
      };
      poll();
    }
  };
  resume(true);
}
