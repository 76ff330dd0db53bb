// Draws client operations as an SVG tree: one lane per process, each operation a bar from invoke
// to complete (unknown outcomes run to the end, failures greyed), with the checker's evidence
// marked. Shared by `synod check --html` (as text) and the visualizer's history panel (as DOM).
import type { JsonValue, Operation } from '../../core/index.js';
import { describeOperation } from '../report.js';
import type { LinearizedStep } from '../result.js';
import { el, showText, type MarkupElement, type MarkupNode } from './markup.js';

/** What the checker points at, by `Operation.index`. */
export interface ChartHighlight {
  /** The operation that completed before it could be placed. */
  readonly stuck: number | null;
  /** Operations none of which can be placed next (the stuck one among them). */
  readonly unplaceable: readonly number[];
  /** The longest linearizable prefix, in order, with the model's state after each step. */
  readonly prefix?: readonly LinearizedStep[];
}

export interface ChartOptions {
  /**
   * 'time' (default): x is proportional to time between fromMs and toMs, in `width` units.
   * 'order': every distinct invoke or complete time gets an equal slot of `slotWidth` units, so
   * no bar is too thin to see and precedence (all that linearizability looks at) stays exact.
   */
  readonly scale?: 'time' | 'order';
  /** Width of the drawing for the 'time' scale (default 960); for 'order', the width to fill when there are few slots. */
  readonly width?: number;
  /** Units per distinct time for the 'order' scale (default 14). */
  readonly slotWidth?: number;
  /** Start of the 'time' window (default: the earliest invoke); earlier parts of bars are cut. */
  readonly fromMs?: number;
  /** End of the window, where unknown-outcome bars end (default: the latest time in `ops`). */
  readonly toMs?: number;
  /** Lane height (default 20). */
  readonly rowHeight?: number;
  /** Bar height (default: the lane height less 5). */
  readonly barHeight?: number;
  /** Room for the process names on the left (default 48). */
  readonly left?: number;
  /** The partition (key) of each operation, named in its tooltip and written as `data-key`. */
  readonly keys?: ReadonlyMap<number, string>;
  /** What `data-key` holds for a key (default: the key itself); e.g. a short id for a filter. */
  readonly keyAttribute?: (key: string) => string;
  readonly highlight?: ChartHighlight;
  /** Axis labels (default: the number). */
  readonly formatTime?: (t: number) => string;
  /** Bar labels name an operation by its first letter ("w 1" for write 1). */
  readonly shortNames?: boolean;
  /** Longest bar label, in characters (default 32). */
  readonly labelChars?: number;
}

/** Longest tooltip, in characters: a history's values can be megabytes. */
export const MAX_TITLE_CHARS = 400;
/** Longest state shown, in characters. */
export const MAX_STATE_CHARS = 160;
/** Longest process name drawn at the left of a lane. */
const MAX_PROCESS_CHARS = 8;
const CHAR_WIDTH = 6;

const F_COLORS = new Map<string, string>([
  ['add', '#8b5cf6'], ['incr', '#8b5cf6'], ['append', '#8b5cf6'],
  ['write', '#3b82f6'], ['put', '#3b82f6'],
  ['read', '#10b981'], ['get', '#10b981'],
  ['cas', '#f59e0b'],
  ['acquire', '#0ea5e9'], ['release', '#a855f7'],
]);
const FAILED_COLOR = '#cbd5e1';
const OTHER_COLOR = '#64748b';

/** Orders "p2" before "p10": digit runs compare as numbers, the rest by code unit (no locale). */
export function compareNatural(a: string, b: string): number {
  const pa = a.match(/\d+|\D+/g) ?? [];
  const pb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i] as string;
    const y = pb[i] as string;
    if (x === y) continue;
    const digits = /^\d/.test(x) && /^\d/.test(y);
    if (digits && x.length !== y.length) {
      const nx = x.replace(/^0+/, '');
      const ny = y.replace(/^0+/, '');
      if (nx.length !== ny.length) return nx.length - ny.length;
      if (nx !== ny) return nx < ny ? -1 : 1;
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** A value as short JSON text, fit to show. */
export function showJson(value: JsonValue, max: number): string {
  return showText(JSON.stringify(value) ?? 'null', max);
}

function showKey(key: string): string {
  return showText(key, 200);
}

const READS = new Set(['read', 'get']);

/**
 * What a bar says of an input: an object with a "key" (a kv call) without its key, which the
 * partition already names: `{"key":"x","value":1}` is shown as `1`.
 */
function inputText(input: JsonValue): string {
  if (input === null) return '';
  if (typeof input === 'object' && !Array.isArray(input) && Object.hasOwn(input, 'key')) {
    const rest = Object.entries(input).filter(([name]) => name !== 'key');
    if (rest.length === 0) return '';
    if (rest.length === 1) return JSON.stringify((rest[0] as [string, JsonValue])[1]) ?? '';
    return JSON.stringify(Object.fromEntries(rest)) ?? '';
  }
  return JSON.stringify(input) ?? '';
}

/** "write 1", "read → 1", "cas [1,2] → false": what a bar says (its tooltip says all). */
export function operationLabel(op: Operation, shortNames: boolean, max: number): string {
  const name = shortNames ? Array.from(op.f)[0] ?? '' : op.f;
  const input = inputText(op.input);
  const out = JSON.stringify(op.output) ?? 'null';
  const shown = op.outcome === 'ok' && (READS.has(op.f) || (op.output !== null && out !== input));
  return showText(`${name}${input === '' ? '' : ` ${input}`}${shown ? ` → ${out}` : ''}`, max);
}

interface Scale {
  readonly x: (t: number) => number;
  readonly end: number;
  readonly width: number;
  readonly ticks: readonly number[];
}

function timeScale(from: number, to: number, left: number, width: number): Scale {
  const span = Math.max(1, to - from);
  const x = (t: number): number => left + ((width - left - 8) * (Math.min(Math.max(t, from), to) - from)) / span;
  return { x, end: to, width, ticks: [0, 1, 2, 3, 4].map((k) => from + ((to - from) * k) / 4) };
}

function orderScale(ops: readonly Operation[], to: number, left: number, minSlot: number, minWidth: number): Scale {
  const times = new Set<number>();
  for (const op of ops) {
    times.add(op.invokeMs);
    if (op.outcome !== 'unknown') times.add(op.completeMs);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const rank = new Map(sorted.map((t, k) => [t, k]));
  const slots = sorted.length + 1;
  // few distinct times: wider slots (up to 4 times as wide) fill the width given
  const slot = Math.max(minSlot, Math.min(4 * minSlot, (minWidth - left - 8) / slots));
  const x = (t: number): number => left + slot * (t >= to && !rank.has(t) ? slots - 0.5 : (rank.get(t) ?? slots - 0.5) + 0.5);
  const every = Math.max(1, Math.ceil(sorted.length / 12));
  const ticks = sorted.filter((_, k) => k % every === 0);
  return { x, end: to, width: left + slot * slots + 8, ticks };
}

function titleOf(op: Operation, key: string | undefined, step: { order: number; state: JsonValue } | undefined, stuck: boolean, unplaceable: boolean): string {
  const parts = [describeOperation(op)];
  if (key !== undefined && key !== '') parts.push(`key ${showJson(key, 80)}`);
  if (step !== undefined) parts.push(`linearized #${step.order} ⇒ ${showJson(step.state, MAX_STATE_CHARS)}`);
  if (stuck) parts.push('completed before it could take effect');
  else if (unplaceable) parts.push('cannot be placed next');
  return showText(parts.join('\n'), MAX_TITLE_CHARS);
}

/**
 * The operations as an `<svg class="history-svg">` tree. Each bar is a `<g class="op …"
 * data-testid="op" data-index data-outcome [data-key]>` with a `<title>`, a `<rect>` and, where it
 * fits, a label; classes: `open` (unknown outcome), `failed`, `linearized`, `unplaceable`, `stuck`.
 * The same input gives the same tree.
 */
export function historyChart(ops: readonly Operation[], options: ChartOptions = {}): MarkupElement {
  const row = options.rowHeight ?? 20;
  const bar = options.barHeight ?? row - 5;
  const left = options.left ?? 48;
  const maxLabel = options.labelChars ?? 32;
  const formatTime = options.formatTime ?? ((t: number) => String(t));
  let first = Infinity;
  let last = -Infinity;
  for (const op of ops) {
    first = Math.min(first, op.invokeMs);
    last = Math.max(last, op.invokeMs, op.completeMs);
  }
  if (ops.length === 0) first = last = 0;
  const from = options.fromMs ?? first;
  const to = Math.max(options.toMs ?? last, from);
  const scale = options.scale === 'order' ? orderScale(ops, to, left, options.slotWidth ?? 14, options.width ?? 0) : timeScale(from, to, left, options.width ?? 960);
  const processes = [...new Set(ops.map((o) => o.process))].sort(compareNatural);
  const lane = new Map(processes.map((p, k) => [p, k]));
  const height = 24 + Math.max(1, processes.length) * row;
  const highlight = options.highlight;
  const bad = new Set(highlight?.unplaceable ?? []);
  const steps = new Map((highlight?.prefix ?? []).map((s, k) => [s.op, { order: k + 1, state: s.state }]));

  const children: MarkupNode[] = [];
  for (const t of scale.ticks) {
    const x = scale.x(t);
    children.push(el('line', { x1: x, x2: x, y1: 14, y2: height, class: 'axis' }), el('text', { x, y: 10, class: 'axis-label' }, formatTime(t)));
  }
  processes.forEach((p, k) => children.push(el('text', { x: 4, y: 18 + k * row + 12, class: 'proc' }, el('title', {}, showText(p, MAX_TITLE_CHARS)), showText(p, MAX_PROCESS_CHARS))));
  for (const op of ops) {
    const y = 18 + (lane.get(op.process) ?? 0) * row;
    const open = op.outcome === 'unknown';
    const x1 = scale.x(op.invokeMs);
    const x2 = Math.max(x1 + 3, scale.x(open ? scale.end : op.completeMs));
    const step = steps.get(op.index);
    const stuck = highlight?.stuck === op.index;
    const classes = ['op', open ? 'open' : '', op.outcome === 'fail' ? 'failed' : '', step !== undefined ? 'linearized' : '', bad.has(op.index) ? 'unplaceable' : '', stuck ? 'stuck' : ''];
    const key = options.keys?.get(op.index);
    const fill = op.outcome === 'fail' ? FAILED_COLOR : (F_COLORS.get(op.f) ?? OTHER_COLOR);
    const label = operationLabel(op, options.shortNames === true, maxLabel);
    const fits = x2 - x1 > label.length * CHAR_WIDTH + 6;
    children.push(el('g', { class: classes.filter((c) => c !== '').join(' '), 'data-testid': 'op', 'data-index': op.index, 'data-outcome': op.outcome, 'data-key': key === undefined ? undefined : (options.keyAttribute ?? showKey)(key) },
      el('title', {}, titleOf(op, key, step, stuck, bad.has(op.index))),
      el('rect', { x: x1, y, width: x2 - x1, height: bar, rx: 3, fill }),
      fits && el('text', { x: x1 + 4, y: y + bar / 2 + 3.5, class: 'op-label' }, label),
      step !== undefined && el('text', { x: x1 + 1, y: y + bar + 9, class: 'lin-order' }, String(step.order)),
      stuck && el('text', { x: x2 + 3, y: y + bar / 2 + 4.5, class: 'stuck-mark' }, '!'),
    ));
  }
  return el('svg', { xmlns: 'http://www.w3.org/2000/svg', viewBox: `0 0 ${Math.round(scale.width)} ${height}`, class: 'history-svg', width: options.scale === 'order' ? Math.round(scale.width) : '100%', height: options.scale === 'order' ? height : undefined, 'data-lanes': processes.length }, ...children);
}
