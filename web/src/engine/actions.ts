// What a user (or a guided scenario) can do to a simulated cluster, as plain data. A run is a
// seed plus a list of timed actions; replaying the list from the seed reproduces the run exactly,
// so the list is also what goes into a shared link (see encodeRun / decodeRun). The fault actions
// are the visualizer's syntax over the simulator's one fault vocabulary (src/sim/faults.ts):
// actionFault turns one into a Fault, and the session applies it with applyFault.
import type { Fault, NodeId } from '../../../src/sim/index.js';

/** A node id, or "leader": the node that is leader when the action runs (if any). */
export type NodeRef = NodeId | 'leader';

export type Action =
  | { readonly kind: 'crash'; readonly node: NodeRef }
  | { readonly kind: 'restart'; readonly node: NodeRef }
  /** Stop-the-world pause: the node handles nothing for `ms`. */
  | { readonly kind: 'pause'; readonly node: NodeRef; readonly ms: number }
  /** Cuts every link between nodes of different groups (both ways); unnamed nodes stay connected. */
  | { readonly kind: 'partition'; readonly groups: readonly (readonly NodeId[])[] }
  /** Cuts the links from the nodes `from` to the nodes `to`, one way only. */
  | { readonly kind: 'cut'; readonly from: readonly NodeId[]; readonly to: readonly NodeId[] }
  | { readonly kind: 'isolate'; readonly node: NodeRef }
  | { readonly kind: 'heal' }
  /** Each input the node handles costs it `ms` of virtual time (0: back to normal). */
  | { readonly kind: 'slow'; readonly node: NodeRef; readonly ms: number }
  /** The node's local clock reads `offsetMs` ahead of virtual time from now on and runs `driftPpm` fast (its timers too). */
  | { readonly kind: 'clock'; readonly node: NodeRef; readonly offsetMs: number; readonly driftPpm: number }
  /** Loss rate and added delay of the link from `from` to `to` ("*": all), and back when `both`. */
  | { readonly kind: 'link'; readonly from: NodeId | '*'; readonly to: NodeId | '*'; readonly loss: number; readonly delayMs: number; readonly both: boolean }
  /** Drops the message in flight with this number (its position among all messages sent). */
  | { readonly kind: 'drop'; readonly msg: number }
  /**
   * A client operation (adapter-defined: write, read, ...) sent to `node`, or to a node the
   * adapter picks; `arg` is the adapter's own text for operations that take one (a request as JSON).
   */
  | { readonly kind: 'client'; readonly op: string; readonly node: NodeId | null; readonly arg?: string }
  /** Background clients issuing random operations, on or off. */
  | { readonly kind: 'workload'; readonly on: boolean }
  /** A protocol-specific action (adapter-defined: timeout, transfer, add or remove a node). */
  | { readonly kind: 'protocol'; readonly name: string; readonly node: NodeRef | null };

/**
 * An action and the point of the run it happened at: virtual time `at` and, when the user acted
 * between two events of the same millisecond (single-stepping), `seq`, the number of events
 * processed before it. Without `seq` the action runs after every event due at `at`.
 */
/** The actions that are faults (every other one is a client, workload or protocol action). */
export type FaultAction = Extract<Action, { readonly kind: 'crash' | 'restart' | 'pause' | 'partition' | 'cut' | 'isolate' | 'heal' | 'slow' | 'clock' | 'link' | 'drop' }>;

const FAULT_KINDS: ReadonlySet<Action['kind']> = new Set<FaultAction['kind']>(['crash', 'restart', 'pause', 'partition', 'cut', 'isolate', 'heal', 'slow', 'clock', 'link', 'drop']);

export function isFaultAction(a: Action): a is FaultAction {
  return FAULT_KINDS.has(a.kind);
}

/**
 * The Fault a fault action stands for, with its nodes resolved by `resolve` ("leader" to the
 * adapter's leader; undefined for a node that does not exist now), or why there is none now.
 * Nodes that do not exist are left out of partitions.
 */
export function actionFault(a: FaultAction, resolve: (ref: NodeRef) => NodeId | undefined): Fault | { readonly skip: string } {
  const node = (ref: NodeRef): { readonly kind: 'node'; readonly id: NodeId } | undefined => {
    const id = resolve(ref);
    return id === undefined ? undefined : { kind: 'node', id };
  };
  const known = (ids: readonly NodeId[]): NodeId[] => ids.filter((id) => resolve(id) === id);
  const noNode = { skip: 'no such node now' } as const;
  switch (a.kind) {
    case 'crash':
    case 'restart':
    case 'isolate': {
      const target = node(a.node);
      return target === undefined ? noNode : { kind: a.kind, target };
    }
    case 'pause': {
      const target = node(a.node);
      return target === undefined ? noNode : { kind: 'pause', target, durationMs: a.ms };
    }
    case 'slow': {
      const target = node(a.node);
      return target === undefined ? noNode : { kind: 'slow', target, processingMs: a.ms };
    }
    case 'clock': {
      const target = node(a.node);
      return target === undefined ? noNode : { kind: 'clock', target, offsetMs: a.offsetMs, driftPpm: a.driftPpm };
    }
    case 'partition': {
      const groups = a.groups.map(known).filter((g) => g.length > 0);
      return groups.length >= 2 ? { kind: 'partition', groups } : { skip: 'fewer than two groups of known nodes' };
    }
    case 'cut': {
      const from = known(a.from);
      const to = known(a.to);
      return from.length > 0 && to.length > 0 ? { kind: 'partition-one-way', from, to } : { skip: 'no known node on one side' };
    }
    case 'heal':
      return { kind: 'heal' };
    case 'link':
      // an end that names no node (a link written for another protocol's node names) is skipped, as a crash of one is
      if ((a.from !== '*' && resolve(a.from) !== a.from) || (a.to !== '*' && resolve(a.to) !== a.to)) return noNode;
      // a link to itself is set once, even "both ways"
      return { kind: 'link', from: a.from, to: a.to, both: a.both && a.from !== a.to, change: { lossRate: a.loss, extraDelayMs: a.delayMs } };
    case 'drop':
      return { kind: 'drop', msg: a.msg };
  }
}

export interface TimedAction {
  readonly at: number;
  readonly seq?: number;
  readonly action: Action;
}

/** Everything needed to replay a run. */
export interface RunSpec {
  readonly protocol: string;
  readonly nodes: number;
  readonly seed: number;
  readonly actions: readonly TimedAction[];
  /** A guided scenario the actions came from (for its captions), if any. */
  readonly scenario?: string;
}

export class RunFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunFormatError';
  }
}

// ---------------------------------------------------------------- text form (for URLs)

const ID = /^[A-Za-z0-9_.:-]+$/;

function nodeRef(s: string | undefined, what: string): NodeRef {
  if (s === undefined || !ID.test(s)) throw new RunFormatError(`bad node "${s ?? ''}" in ${what}`);
  return s;
}

function optionalNode(s: string | undefined, what: string): NodeId | null {
  return s === undefined || s === '-' || s === '' ? null : nodeRef(s, what);
}

function num(s: string | undefined, what: string, min: number, max: number): number {
  const v = s === undefined || s === '' ? NaN : Number(s);
  if (!Number.isFinite(v) || v < min || v > max) throw new RunFormatError(`bad number "${s ?? ''}" in ${what} (expected ${min}..${max})`);
  return v;
}

/** `crash(3)`, `partition(1,2/3,4,5)`, `client(write,-)`: one action as text. */
export function actionToText(a: Action): string {
  switch (a.kind) {
    case 'crash':
    case 'restart':
    case 'isolate':
      return `${a.kind}(${a.node})`;
    case 'pause':
    case 'slow':
      return `${a.kind}(${a.node},${a.ms})`;
    case 'clock':
      return `clock(${a.node},${a.offsetMs},${a.driftPpm})`;
    case 'partition':
      return `partition(${a.groups.map((g) => g.join(',')).join('/')})`;
    case 'cut':
      return `cut(${a.from.join(',')}/${a.to.join(',')})`;
    case 'heal':
      return 'heal';
    case 'link':
      return `link(${a.from},${a.to},${a.loss},${a.delayMs}${a.both ? ',both' : ''})`;
    case 'drop':
      return `drop(${a.msg})`;
    case 'client':
      return `client(${a.op},${a.node ?? '-'}${a.arg === undefined ? '' : `,${escapeArg(a.arg)}`})`;
    case 'workload':
      return `workload(${a.on ? 'on' : 'off'})`;
    case 'protocol':
      return `protocol(${a.name},${a.node ?? '-'})`;
  }
}

export function actionFromText(text: string): Action {
  const m = /^([a-z]+)(?:\((.*)\))?$/.exec(text.trim());
  if (m === null) throw new RunFormatError(`cannot read action "${text}"`);
  const verb = m[1] as string;
  const args = m[2] === undefined ? [] : (m[2] as string).split(',').map((s) => s.trim());
  const what = `"${text}"`;
  switch (verb) {
    case 'crash':
    case 'restart':
    case 'isolate':
      return { kind: verb, node: nodeRef(args[0], what) };
    case 'pause':
    case 'slow':
      return { kind: verb, node: nodeRef(args[0], what), ms: num(args[1], what, 0, 3_600_000) };
    case 'clock':
      return { kind: 'clock', node: nodeRef(args[0], what), offsetMs: num(args[1], what, -3_600_000, 3_600_000), driftPpm: num(args[2] ?? '0', what, -999_999, 1_000_000) };
    case 'partition':
    case 'cut': {
      const groups = (m[2] ?? '').split('/').map((g) => g.split(',').map((s) => s.trim()).filter((s) => s.length > 0));
      if (verb === 'cut' && (groups.length !== 2 || groups.some((g) => g.length === 0))) throw new RunFormatError(`cut needs two non-empty groups (from/to) in ${what}`);
      if (groups.length < 2 || groups.some((g) => g.length === 0)) throw new RunFormatError(`partition needs two or more non-empty groups in ${what}`);
      const ids = groups.map((g) => g.map((id) => nodeRef(id, what)));
      return verb === 'cut' ? { kind: 'cut', from: ids[0] as NodeId[], to: ids[1] as NodeId[] } : { kind: 'partition', groups: ids };
    }
    case 'heal':
      return { kind: 'heal' };
    case 'link': {
      const end = (s: string | undefined): NodeId | '*' => (s === '*' ? '*' : nodeRef(s, what));
      return { kind: 'link', from: end(args[0]), to: end(args[1]), loss: num(args[2], what, 0, 1), delayMs: num(args[3], what, 0, 3_600_000), both: args[4] === 'both' };
    }
    case 'drop':
      return { kind: 'drop', msg: num(args[0], what, 0, Number.MAX_SAFE_INTEGER) };
    case 'client': {
      // the argument is free text (commas included): everything after the second comma
      const inner = m[2] ?? '';
      const first = inner.indexOf(',');
      const second = first < 0 ? -1 : inner.indexOf(',', first + 1);
      const op = (first < 0 ? inner : inner.slice(0, first)).trim();
      if (!/^[a-zA-Z]+$/.test(op)) throw new RunFormatError(`bad client operation in ${what}`);
      const node = optionalNode(first < 0 ? undefined : inner.slice(first + 1, second < 0 ? undefined : second).trim(), what);
      return second < 0 ? { kind: 'client', op, node } : { kind: 'client', op, node, arg: unescapeArg(inner.slice(second + 1), what) };
    }
    case 'workload':
      if (args[0] !== 'on' && args[0] !== 'off') throw new RunFormatError(`workload takes on or off in ${what}`);
      return { kind: 'workload', on: args[0] === 'on' };
    case 'protocol': {
      const name = args[0];
      if (name === undefined || !/^[a-zA-Z]+$/.test(name)) throw new RunFormatError(`bad protocol action in ${what}`);
      return { kind: 'protocol', name, node: optionalNode(args[1], what) };
    }
    default:
      throw new RunFormatError(`unknown action "${verb}" in ${what}`);
  }
}

/**
 * A client action's argument in a link: the characters that separate fields (&), actions (;) or
 * would be read as URL escapes (%) are written ~HH, and ~ itself too; the rest stays readable.
 */
function escapeArg(arg: string): string {
  return arg.replace(/[~%;&#]/g, (c) => `~${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

function unescapeArg(text: string, what: string): string {
  if (/~(?![0-9A-F]{2})/.test(text)) throw new RunFormatError(`bad escape in the argument of ${what} (~ is followed by two hex digits)`);
  return text.replace(/~([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

export function timedToText(t: TimedAction): string {
  return `${actionToText(t.action)}@${t.at}${t.seq === undefined ? '' : `.${t.seq}`}`;
}

export function timedFromText(text: string): TimedAction {
  const at = text.lastIndexOf('@');
  if (at < 0) throw new RunFormatError(`action "${text}" lacks "@time"`);
  const when = /^(\d+)(?:\.(\d+))?$/.exec(text.slice(at + 1));
  if (when === null) throw new RunFormatError(`bad time in "${text}" (expected @ms or @ms.seq)`);
  const action = actionFromText(text.slice(0, at));
  const ms = Number(when[1]);
  return when[2] === undefined ? { at: ms, action } : { at: ms, seq: Number(when[2]), action };
}

/** Actions in replay order: by time, then by event count (actions without one come last at their time). */
export function compareTimed(a: TimedAction, b: TimedAction): number {
  if (a.at !== b.at) return a.at - b.at;
  return (a.seq ?? Number.MAX_SAFE_INTEGER) - (b.seq ?? Number.MAX_SAFE_INTEGER);
}

export interface EncodedRun {
  readonly run: RunSpec;
  /** The time the link points at (the view's time when it was shared). */
  readonly timeMs: number | null;
}

/**
 * The URL fragment of a run: `p=raft&n=5&s=42&t=3200&a=crash(1)@1200;heal@3000`. Every value is
 * plain text (ids, numbers, a few punctuation marks), so the link stays readable.
 */
export function encodeRun(run: RunSpec, timeMs: number | null): string {
  const parts = [`p=${run.protocol}`, `n=${run.nodes}`, `s=${run.seed}`];
  if (timeMs !== null) parts.push(`t=${Math.round(timeMs)}`);
  if (run.scenario !== undefined) parts.push(`sc=${run.scenario}`);
  if (run.actions.length > 0) parts.push(`a=${run.actions.map(timedToText).join(';')}`);
  return parts.join('&');
}

export function decodeRun(fragment: string, defaults: { protocol: string; nodes: number; seed: number }): EncodedRun {
  let text = fragment.startsWith('#') ? fragment.slice(1) : fragment;
  try {
    text = decodeURIComponent(text);
  } catch {
    throw new RunFormatError('the link is not valid URL text');
  }
  const fields = new Map<string, string>();
  for (const part of text.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) throw new RunFormatError(`bad field "${part}" in the link`);
    fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const protocol = fields.get('p') ?? defaults.protocol;
  if (!/^[a-z0-9-]+$/.test(protocol)) throw new RunFormatError(`bad protocol "${protocol}"`);
  // the page clamps it to the protocol's sizes; a gossip group goes up to a few hundred
  const nodes = fields.has('n') ? num(fields.get('n'), 'n', 1, 1024) : defaults.nodes;
  const seed = fields.has('s') ? num(fields.get('s'), 's', 0, Number.MAX_SAFE_INTEGER) : defaults.seed;
  if (!Number.isInteger(nodes) || !Number.isSafeInteger(seed)) throw new RunFormatError('n and s must be integers');
  const timeMs = fields.has('t') ? num(fields.get('t'), 't', 0, Number.MAX_SAFE_INTEGER) : null;
  const a = fields.get('a');
  const actions = a === undefined || a === '' ? [] : a.split(';').map(timedFromText);
  const sorted = [...actions].sort(compareTimed);
  const scenario = fields.get('sc');
  const run: RunSpec = scenario === undefined ? { protocol, nodes, seed, actions: sorted } : { protocol, nodes, seed, actions: sorted, scenario };
  return { run, timeMs };
}
