// The nemesis: faults on a schedule. A script ("at 2000 ms partition {1,2} | {3,4,5}; at 5000 ms
// heal; at 6000 ms crash leader") or a seeded random schedule with a configurable mix; both
// drive a simulation through its fault methods, so every fault lands in the trace.
import type { Message, NodeId } from './core.js';
import type { Simulation } from './simulation.js';

/** A target: a node id, the current leader (by the `role`/`term` annotations), or a random node. */
export type Target = { readonly kind: 'node'; readonly id: NodeId } | { readonly kind: 'leader' } | { readonly kind: 'random' };

export type NemesisAction =
  | { readonly kind: 'partition'; readonly groups: readonly (readonly NodeId[])[] }
  | { readonly kind: 'partition-one-way'; readonly from: readonly NodeId[]; readonly to: readonly NodeId[] }
  | { readonly kind: 'isolate'; readonly target: Target }
  | { readonly kind: 'heal' }
  | { readonly kind: 'crash'; readonly target: Target }
  | { readonly kind: 'restart'; readonly target: Target | { readonly kind: 'all' } }
  | { readonly kind: 'pause'; readonly target: Target; readonly durationMs: number }
  | { readonly kind: 'slow'; readonly target: Target; readonly processingMs: number }
  | { readonly kind: 'clock'; readonly target: Target; readonly offsetMs: number; readonly driftPpm: number }
  | { readonly kind: 'loss'; readonly rate: number }
  | { readonly kind: 'duplicate'; readonly rate: number }
  | { readonly kind: 'reorder'; readonly rate: number };

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

const GROUP = /^\{\s*([^{}]*)\s*\}$/;

function parseGroup(text: string, step: string): NodeId[] {
  const m = GROUP.exec(text.trim());
  if (m === null) throw new NemesisSyntaxError(`expected a group like {1,2} in "${step}", got "${text.trim()}"`);
  const ids = (m[1] as string).split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (ids.length === 0) throw new NemesisSyntaxError(`empty group in "${step}"`);
  return ids;
}

function parseTarget(word: string | undefined, step: string): Target {
  if (word === undefined) throw new NemesisSyntaxError(`missing target (a node id, "leader" or "random") in "${step}"`);
  if (word === 'leader') return { kind: 'leader' };
  if (word === 'random') return { kind: 'random' };
  if (!/^[A-Za-z0-9_.:-]+$/.test(word)) throw new NemesisSyntaxError(`bad target "${word}" in "${step}"`);
  return { kind: 'node', id: word };
}

function parseNumber(word: string | undefined, what: string, step: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const value = word === undefined ? NaN : Number(word.replace(/ms$|ppm$/, ''));
  if (!Number.isFinite(value) || value < min || value > max) throw new NemesisSyntaxError(`bad ${what} "${word ?? ''}" in "${step}" (expected a number from ${min} to ${max})`);
  return value;
}

function parseAction(text: string, step: string): NemesisAction {
  const words = text.trim().split(/\s+/);
  const verb = words[0];
  const rest = text.trim().slice((verb ?? '').length).trim();
  switch (verb) {
    case 'partition': {
      if (rest.includes('->')) {
        const [from, to, extra] = rest.split('->');
        if (extra !== undefined || to === undefined) throw new NemesisSyntaxError(`one-way partition takes "{a,b} -> {c}" in "${step}"`);
        return { kind: 'partition-one-way', from: parseGroup(from as string, step), to: parseGroup(to, step) };
      }
      const groups = rest.split('|').map((g) => parseGroup(g, step));
      if (groups.length < 2) throw new NemesisSyntaxError(`partition needs two or more groups separated by "|" in "${step}"`);
      return { kind: 'partition', groups };
    }
    case 'isolate':
      return { kind: 'isolate', target: parseTarget(words[1], step) };
    case 'heal':
      return { kind: 'heal' };
    case 'crash':
      return { kind: 'crash', target: parseTarget(words[1], step) };
    case 'restart':
      return { kind: 'restart', target: words[1] === 'all' ? { kind: 'all' } : parseTarget(words[1], step) };
    case 'pause':
      if (words[2] !== 'for') throw new NemesisSyntaxError(`pause takes "pause TARGET for D ms" in "${step}"`);
      return { kind: 'pause', target: parseTarget(words[1], step), durationMs: parseNumber(words[3], 'duration', step) };
    case 'slow':
      return { kind: 'slow', target: parseTarget(words[1], step), processingMs: parseNumber(words[2], 'processing time', step) };
    case 'clock':
      // clock TARGET OFFSETms [DRIFTppm]
      return {
        kind: 'clock',
        target: parseTarget(words[1], step),
        offsetMs: parseNumber(words[2], 'offset', step, -1e12, 1e12),
        driftPpm: words[3] === undefined ? 0 : parseNumber(words[3], 'drift', step, -999_999, 1e6),
      };
    case 'loss':
    case 'duplicate':
    case 'reorder':
      return { kind: verb, rate: parseNumber(words[1], 'rate', step, 0, 1) };
    default:
      throw new NemesisSyntaxError(`unknown action "${verb ?? ''}" in "${step}" (known: partition, isolate, heal, crash, restart, pause, slow, clock, loss, duplicate, reorder)`);
  }
}

/** Parses a script of steps separated by ";" or newlines, each "at T ms ACTION". */
export function parseNemesisScript(script: string): NemesisStep[] {
  const steps: NemesisStep[] = [];
  for (const raw of script.split(/[;\n]/)) {
    const step = raw.trim();
    if (step.length === 0 || step.startsWith('#')) continue;
    const m = /^at\s+(\S+?)\s*ms\s+(.+)$/.exec(step);
    if (m === null) throw new NemesisSyntaxError(`expected "at T ms ACTION", got "${step}"`);
    steps.push({ atMs: parseNumber(m[1], 'time', step), action: parseAction(m[2] as string, step) });
  }
  return steps;
}

/** The up node that calls itself leader with the highest term, if any. */
export function findLeader<M extends Message, Req, Res, P>(sim: Simulation<M, Req, Res, P>): NodeId | undefined {
  let best: NodeId | undefined;
  let bestTerm = -Infinity;
  for (const id of sim.nodeIds) {
    if (!sim.isUp(id)) continue;
    const a = sim.annotations(id);
    if (a.get('role') !== 'leader') continue;
    const term = Number(a.get('term') ?? 0);
    if (term > bestTerm) {
      best = id;
      bestTerm = term;
    }
  }
  return best;
}

function resolve<M extends Message, Req, Res, P>(sim: Simulation<M, Req, Res, P>, target: Target): NodeId | undefined {
  switch (target.kind) {
    case 'node':
      return target.id;
    case 'leader':
      return findLeader(sim);
    case 'random':
      return sim.random.stream('nemesis').pick(sim.nodeIds);
  }
}

/** Carries out one action now. Returns a short description for the trace. */
export function applyNemesisAction<M extends Message, Req, Res, P>(sim: Simulation<M, Req, Res, P>, action: NemesisAction): string {
  const on = (target: Target, fn: (id: NodeId) => void, verb: string, detail = ''): string => {
    const id = resolve(sim, target);
    if (id === undefined) return `${verb}: no ${target.kind} to act on`;
    fn(id);
    return `${verb} ${id}${detail}`;
  };
  switch (action.kind) {
    case 'partition':
      sim.partition(action.groups);
      return `partition ${action.groups.map((g) => `{${g.join(',')}}`).join(' | ')}`;
    case 'partition-one-way':
      sim.partitionOneWay(action.from, action.to);
      return `partition {${action.from.join(',')}} -> {${action.to.join(',')}}`;
    case 'isolate':
      return on(action.target, (id) => sim.isolate(id), 'isolate');
    case 'heal':
      sim.heal();
      return 'heal';
    case 'crash':
      return on(action.target, (id) => sim.crash(id), 'crash');
    case 'restart':
      if (action.target.kind === 'all') {
        for (const id of sim.nodeIds) sim.restart(id);
        return 'restart all';
      }
      return on(action.target, (id) => sim.restart(id), 'restart');
    case 'pause':
      return on(action.target, (id) => sim.pause(id, action.durationMs), 'pause', ` for ${action.durationMs} ms`);
    case 'slow':
      return on(action.target, (id) => sim.setSlow(id, action.processingMs), 'slow', ` ${action.processingMs} ms per input`);
    case 'clock':
      return on(action.target, (id) => sim.setClock(id, action.offsetMs, action.driftPpm), 'clock', ` offset ${action.offsetMs} ms, drift ${action.driftPpm} ppm`);
    case 'loss':
      sim.setLink('*', '*', { lossRate: action.rate });
      return `loss ${action.rate}`;
    case 'duplicate':
      sim.setLink('*', '*', { duplicateRate: action.rate });
      return `duplicate ${action.rate}`;
    case 'reorder':
      sim.setLink('*', '*', { reorderRate: action.rate });
      return `reorder ${action.rate}`;
  }
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
    sim.at(t, () => startRandomFault(sim, kind, durationMs, seed));
  }
}

function startRandomFault<M extends Message, Req, Res, P>(sim: Simulation<M, Req, Res, P>, kind: RandomFaultKind, durationMs: number, seed: number): void {
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
    case 'clock':
      act({ kind: 'clock', target: { kind: 'node', id: pick(ids, 2) }, offsetMs: (seed % 1001) - 500, driftPpm: (seed % 2001) - 1000 });
      break;
    case 'slow': {
      const id = pick(ids, 3);
      act({ kind: 'slow', target: { kind: 'node', id }, processingMs: 1 + (seed % 20) });
      undo(() => act({ kind: 'slow', target: { kind: 'node', id }, processingMs: 0 }));
      break;
    }
    case 'loss':
    case 'duplicate':
    case 'reorder':
      act({ kind, rate: (5 + (seed % 20)) / 100 });
      undo(() => act({ kind, rate: 0 }));
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
    const [key, value] = arg.split('=').map((s) => s.trim());
    const n = Number(value);
    if (key === undefined || value === undefined || !Number.isFinite(n) || n < 0) throw new NemesisSyntaxError(`bad random nemesis argument "${arg}" (expected name=number >= 0)`);
    if (key === 'meanMs') opts.meanIntervalMs = Math.max(1, n);
    else if (key === 'minFaultMs') opts.minFaultMs = n;
    else if (key === 'maxFaultMs') opts.maxFaultMs = n;
    else if (key in mix) mix[key as RandomFaultKind] = n;
    else throw new NemesisSyntaxError(`unknown random nemesis argument "${key}" (known: meanMs, minFaultMs, maxFaultMs, ${Object.keys(mix).join(', ')})`);
  }
  if (opts.maxFaultMs < opts.minFaultMs) throw new NemesisSyntaxError('random nemesis: maxFaultMs < minFaultMs');
  return { ...opts, mix };
}
