// The nemesis: faults on a schedule. A script ("at 2000 ms partition {1,2} | {3,4,5}; at 5000 ms
// heal; at 6000 ms crash leader") or a seeded random schedule with a configurable mix. The script
// is a text syntax for the fault vocabulary of faults.ts; both drive a simulation through
// applyFault, so every fault lands in the trace.
import type { Message, NodeId } from '../core/index.js';
import { applyFault, findLeader, linkRateFault, type Fault, type Target } from './faults.js';
import type { Simulation } from './simulation.js';

export { findLeader, type Target };

/** What a nemesis step does: a fault of the one vocabulary (faults.ts). */
export type NemesisAction = Fault;

export interface NemesisStep {
  readonly atMs: number;
  readonly action: NemesisAction;
}

export class NemesisSyntaxError extends Error {
  readonly code = 'NEMESIS_SYNTAX';
  constructor(message: string) {
    super(message);
    this.name = 'NemesisSyntaxError';
  }
}

/** A step as quoted in a message: scripts may come from files of any size. */
function quote(step: string): string {
  return step.length > 80 ? `${step.slice(0, 80)}…` : step;
}

function parseGroup(text: string, step: string): NodeId[] {
  // checked by hand: the pattern /^\{\s*([^{}]*)\s*\}$/ used before backtracked cubically
  const group = text.trim();
  const inner = group.slice(1, -1);
  if (!group.startsWith('{') || !group.endsWith('}') || group.length < 2 || /[{}]/.test(inner)) {
    throw new NemesisSyntaxError(`expected a group like {1,2} in "${quote(step)}", got "${quote(group)}"`);
  }
  const ids = inner.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (ids.length === 0) throw new NemesisSyntaxError(`empty group in "${quote(step)}"`);
  return ids;
}

const DECIMAL = /^[-+]?\d+(\.\d+)?([eE][-+]?\d+)?$/;

/**
 * The words of an action, read left to right. A number may carry its unit written together
 * ("800ms") or as the next word ("800 ms"); words left over are an error, not ignored.
 */
class Words {
  private at = 1;
  constructor(
    private readonly words: readonly string[],
    private readonly step: string,
  ) {}

  next(): string | undefined {
    return this.words[this.at++];
  }

  target(): Target {
    const word = this.next();
    if (word === undefined) throw new NemesisSyntaxError(`missing target (a node id, "leader" or "random") in "${quote(this.step)}"`);
    if (word === 'leader') return { kind: 'leader' };
    if (word === 'random') return { kind: 'random' };
    if (!/^[A-Za-z0-9_.:-]+$/.test(word)) throw new NemesisSyntaxError(`bad target "${quote(word)}" in "${quote(this.step)}"`);
    return { kind: 'node', id: word };
  }

  number(what: string, unit: 'ms' | 'ppm' | null, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const word = this.next() ?? '';
    const digits = unit !== null && word.endsWith(unit) ? word.slice(0, -unit.length) : word;
    if (unit !== null && digits === word && this.words[this.at] === unit) this.at++;
    return checkedNumber(digits, word, what, this.step, min, max);
  }

  /** Whether words are left. */
  more(): boolean {
    return this.at < this.words.length;
  }

  /** Throws when words are left after a complete action. */
  end(verb: string): void {
    if (this.at < this.words.length) throw new NemesisSyntaxError(`unexpected "${quote(this.words.slice(this.at).join(' '))}" after ${verb} in "${quote(this.step)}"`);
  }
}

function checkedNumber(digits: string, word: string, what: string, step: string, min: number, max: number): number {
  const value = DECIMAL.test(digits) ? Number(digits) : NaN;
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new NemesisSyntaxError(`bad ${what} "${quote(word)}" in "${quote(step)}" (expected a number from ${min} to ${max})`);
  }
  return value;
}

function parsePartition(rest: string, step: string): NemesisAction {
  if (rest.includes('->')) {
    const [from, to, extra] = rest.split('->');
    if (extra !== undefined || to === undefined) throw new NemesisSyntaxError(`one-way partition takes "{a,b} -> {c}" in "${quote(step)}"`);
    return { kind: 'partition-one-way', from: parseGroup(from as string, step), to: parseGroup(to, step) };
  }
  const groups = rest.split('|').map((g) => parseGroup(g, step));
  if (groups.length < 2) throw new NemesisSyntaxError(`partition needs two or more groups separated by "|" in "${quote(step)}"`);
  return { kind: 'partition', groups };
}

function parseAction(text: string, step: string): NemesisAction {
  const trimmed = text.trim();
  const words = trimmed.split(/\s+/);
  const verb = words[0] ?? '';
  const args = new Words(words, step);
  let action: NemesisAction;
  switch (verb) {
    case 'partition':
      // groups may hold spaces, so they are read from the text; the group parser checks it all
      return parsePartition(trimmed.slice(verb.length), step);
    case 'isolate':
    case 'crash':
      action = { kind: verb, target: args.target() };
      break;
    case 'heal':
      action = { kind: 'heal' };
      break;
    case 'restart':
      if (words[1] === 'all') {
        args.next();
        action = { kind: 'restart', target: { kind: 'all' } };
      } else {
        action = { kind: 'restart', target: args.target() };
      }
      break;
    case 'pause': {
      const target = args.target();
      if (args.next() !== 'for') throw new NemesisSyntaxError(`pause takes "pause TARGET for D ms" in "${quote(step)}"`);
      action = { kind: 'pause', target, durationMs: args.number('duration', 'ms') };
      break;
    }
    case 'slow':
      action = { kind: 'slow', target: args.target(), processingMs: args.number('processing time', 'ms') };
      break;
    case 'clock': {
      // clock TARGET OFFSETms [DRIFTppm]
      const target = args.target();
      const offsetMs = args.number('offset', 'ms', -1e12, 1e12);
      const driftPpm = args.more() ? args.number('drift', 'ppm', -999_999, 1e6) : 0;
      action = { kind: 'clock', target, offsetMs, driftPpm };
      break;
    }
    case 'loss':
    case 'duplicate':
    case 'reorder':
      action = linkRateFault(verb, args.number('rate', null, 0, 1));
      break;
    default:
      throw new NemesisSyntaxError(`unknown action "${quote(verb)}" in "${quote(step)}" (known: partition, isolate, heal, crash, restart, pause, slow, clock, loss, duplicate, reorder)`);
  }
  args.end(verb);
  return action;
}

/** The text of a script line up to its comment: "#" starts a comment that runs to the end of the line. */
function withoutComment(line: string): string {
  const hash = line.indexOf('#');
  return hash < 0 ? line : line.slice(0, hash);
}

/** Parses a script of steps separated by ";" or newlines, each "at T ms ACTION"; "#" starts a comment. */
export function parseNemesisScript(script: string): NemesisStep[] {
  const steps: NemesisStep[] = [];
  // bounded by the script: one pass per line, and per ";"-separated step within it
  for (const line of script.split('\n')) {
    for (const raw of withoutComment(line).split(';')) {
      const step = raw.trim();
      if (step.length === 0) continue;
      const m = /^at\s+(\S+?)\s*ms\s+(.+)$/.exec(step);
      if (m === null) throw new NemesisSyntaxError(`expected "at T ms ACTION", got "${quote(step)}"`);
      steps.push({ atMs: checkedNumber(m[1] as string, m[1] as string, 'time', step, 0, Number.MAX_SAFE_INTEGER), action: parseAction(m[2] as string, step) });
    }
  }
  return steps;
}

/** Carries out one action now. Returns a short description for the trace. */
export function applyNemesisAction<M extends Message, Req, Res, P>(sim: Simulation<M, Req, Res, P>, action: NemesisAction): string {
  return applyFault(sim, action);
}

/** Schedules every step of a script on the simulation (times are absolute virtual ms). */
export function scheduleNemesis<M extends Message, Req, Res, P>(sim: Simulation<M, Req, Res, P>, steps: readonly NemesisStep[]): void {
  for (const step of steps) {
    sim.at(Math.max(step.atMs, sim.nowMs), () => sim.note(`nemesis: ${applyNemesisAction(sim, step.action)}`));
  }
}

export interface RandomNemesisOptions {
  /** Mean time between the starts of two faults. */
  readonly meanIntervalMs: number;
  /** How long a fault lasts before it is undone (uniform in [min, max]). */
  readonly minFaultMs: number;
  readonly maxFaultMs: number;
  /** Relative weights of the fault kinds. */
  readonly mix: Readonly<Record<RandomFaultKind, number>>;
  /** No new fault starts after this time; every fault is undone by `untilMs` + maxFaultMs. */
  readonly untilMs: number;
  /**
   * A clock fault sets the node's clock to virtual time plus up to this much either way (default
   * 500). 0: no step at all, the clock keeps its reading and only its rate changes (a monotonic
   * clock, as a process's own is: for protocols that assume one, such as lease expiry).
   */
  readonly clockStepMaxMs?: number;
  /** A clock fault's new rate error is up to this many ppm either way (default 1000). */
  readonly clockDriftMaxPpm?: number;
}

export type RandomFaultKind = 'partition' | 'crash' | 'pause' | 'clock' | 'loss' | 'duplicate' | 'reorder' | 'slow';

export const DEFAULT_RANDOM_NEMESIS: Omit<RandomNemesisOptions, 'untilMs'> = {
  meanIntervalMs: 1000,
  minFaultMs: 200,
  maxFaultMs: 2000,
  mix: { partition: 3, crash: 2, pause: 2, clock: 1, loss: 1, duplicate: 1, reorder: 1, slow: 1 },
};

/**
 * A seeded random schedule: faults start at exponential intervals, drawn from the mix, and are
 * undone after a random duration. It draws only from the "nemesis" stream.
 */
export function scheduleRandomNemesis<M extends Message, Req, Res, P>(sim: Simulation<M, Req, Res, P>, options: RandomNemesisOptions): void {
  const rng = sim.random.stream('nemesis-schedule');
  const kinds = (Object.keys(options.mix) as RandomFaultKind[]).filter((k) => options.mix[k] > 0);
  const total = kinds.reduce((s, k) => s + options.mix[k], 0);
  if (total <= 0) throw new RangeError('random nemesis: the mix has no fault with weight > 0');
  const pickKind = (): RandomFaultKind => {
    let x = rng.float() * total;
    for (const k of kinds) if ((x -= options.mix[k]) < 0) return k;
    return kinds[kinds.length - 1] as RandomFaultKind;
  };
  let t = sim.nowMs;
  for (let i = 0; i < 100_000; i++) {
    t += Math.max(1, Math.round(-options.meanIntervalMs * Math.log(1 - rng.float())));
    if (t > options.untilMs) return;
    const kind = pickKind();
    const durationMs = rng.int(options.minFaultMs, options.maxFaultMs);
    const seed = rng.int(0, 0x7fffffff);
    sim.at(t, () => startRandomFault(sim, kind, durationMs, seed, options));
  }
}

function startRandomFault<M extends Message, Req, Res, P>(sim: Simulation<M, Req, Res, P>, kind: RandomFaultKind, durationMs: number, seed: number, options: RandomNemesisOptions): void {
  const ids = sim.nodeIds;
  const pick = <T>(items: readonly T[], salt: number): T => items[(seed + salt) % items.length] as T;
  const undo = (fn: () => void): void => sim.after(durationMs, fn);
  const act = (action: NemesisAction): void => sim.note(`nemesis: ${applyNemesisAction(sim, action)}`);
  switch (kind) {
    case 'partition': {
      // a random cut into a minority and a majority
      const shuffled = [...ids].sort((a, b) => hash(a, seed) - hash(b, seed));
      const cut = 1 + (seed % Math.max(1, Math.floor(ids.length / 2)));
      act({ kind: 'partition', groups: [shuffled.slice(0, cut), shuffled.slice(cut)] });
      undo(() => act({ kind: 'heal' }));
      break;
    }
    case 'crash': {
      const id = seed % 3 === 0 ? (findLeader(sim) ?? pick(ids, 0)) : pick(ids, 0);
      if (!sim.isUp(id)) return;
      act({ kind: 'crash', target: { kind: 'node', id } });
      undo(() => act({ kind: 'restart', target: { kind: 'node', id } }));
      break;
    }
    case 'pause':
      act({ kind: 'pause', target: { kind: 'node', id: seed % 3 === 0 ? (findLeader(sim) ?? pick(ids, 1)) : pick(ids, 1) }, durationMs });
      break;
    case 'clock': {
      const id = pick(ids, 2);
      const stepMs = options.clockStepMaxMs ?? 500;
      const driftPpm = options.clockDriftMaxPpm ?? 1000;
      // without steps the clock keeps its reading: its offset from virtual time stays what it is now
      const offsetMs = stepMs === 0 ? sim.localNowMs(id) - sim.nowMs : (seed % (2 * stepMs + 1)) - stepMs;
      act({ kind: 'clock', target: { kind: 'node', id }, offsetMs, driftPpm: (seed % (2 * driftPpm + 1)) - driftPpm });
      break;
    }
    case 'slow': {
      const id = pick(ids, 3);
      act({ kind: 'slow', target: { kind: 'node', id }, processingMs: 1 + (seed % 20) });
      undo(() => act({ kind: 'slow', target: { kind: 'node', id }, processingMs: 0 }));
      break;
    }
    case 'loss':
    case 'duplicate':
    case 'reorder':
      act(linkRateFault(kind, (5 + (seed % 20)) / 100));
      undo(() => act(linkRateFault(kind, 0)));
      break;
  }
}

function hash(text: string, seed: number): number {
  let h = seed | 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x9e3779b1);
  return h >>> 0;
}

/** Parses "random" or "random(meanMs=800,partition=2,crash=0,...)" into options. */
export function parseRandomNemesis(spec: string, untilMs: number): RandomNemesisOptions | undefined {
  const m = /^random(?:\((.*)\))?$/.exec(spec.trim());
  if (m === null) return undefined;
  const mix: Record<RandomFaultKind, number> = { ...DEFAULT_RANDOM_NEMESIS.mix };
  const opts = { ...DEFAULT_RANDOM_NEMESIS, untilMs };
  const args = (m[1] ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  for (const arg of args) {
    const m = /^([^=]*)=([^=]*)$/.exec(arg);
    const key = m?.[1]?.trim() ?? '';
    const value = m?.[2]?.trim() ?? '';
    const n = DECIMAL.test(value) ? Number(value) : NaN;
    if (m === null || key === '' || !Number.isFinite(n) || n < 0) throw new NemesisSyntaxError(`bad random nemesis argument "${quote(arg)}" (expected name=number >= 0)`);
    if (key === 'meanMs') opts.meanIntervalMs = Math.max(1, n);
    else if (key === 'minFaultMs') opts.minFaultMs = n;
    else if (key === 'maxFaultMs') opts.maxFaultMs = n;
    // own keys only: "toString" or "__proto__" are in every object, but are not fault kinds
    else if (Object.hasOwn(mix, key)) mix[key as RandomFaultKind] = n;
    else throw new NemesisSyntaxError(`unknown random nemesis argument "${quote(key)}" (known: meanMs, minFaultMs, maxFaultMs, ${Object.keys(mix).join(', ')})`);
  }
  if (opts.maxFaultMs < opts.minFaultMs) throw new NemesisSyntaxError('random nemesis: maxFaultMs < minFaultMs');
  return { ...opts, mix };
}
