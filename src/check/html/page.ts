// The self-contained HTML report of one or more checked histories (`synod check --html`): per
// history a verdict, the partitions, the operations as bars per process with the violation marked,
// and the linearized prefix in order. Pure: it returns text; the host writes the file.
import type { History, Operation } from '../../core/index.js';
import { describeOperation, formatCheckText } from '../report.js';
import type { CheckResult, Violation } from '../result.js';
import { historyChart, MAX_STATE_CHARS, MAX_TITLE_CHARS, showJson, type ChartOptions } from './chart.js';
import { el, showText, toMarkup, type MarkupElement, type MarkupNode } from './markup.js';

/** One checked history: a file, or anything else with a name. */
export interface ReportSection {
  /** Shown as the section's heading (a file name, say). */
  readonly title: string;
  /** Extra lines under the verdict (format, time taken, counts, warnings). */
  readonly notes?: readonly string[];
  readonly history?: History;
  readonly result?: CheckResult;
  /** Each operation's partition key (operationKeys), for the key filter and tooltips. */
  readonly keys?: ReadonlyMap<number, string>;
  /** Why there is no result: the file could not be read or checked. */
  readonly error?: string;
}

export interface ReportOptions {
  /** The page's title (default "Synod check report"). */
  readonly title?: string;
  /** Most operations drawn per section (default DEFAULT_MAX_DRAWN_OPS). */
  readonly maxOps?: number;
  /** Most steps of a linearized prefix listed (the last ones; default 200). */
  readonly maxPrefixSteps?: number;
  /** Most partitions listed in a section's table and key filter (default 200). */
  readonly maxPartitions?: number;
}

/** A history with more operations than this is drawn in part (see selectDrawn). */
export const DEFAULT_MAX_DRAWN_OPS = 20_000;

export interface DrawnOps {
  /** The operations to draw, in history order. */
  readonly ops: readonly Operation[];
  /** What was left out and why; null when everything is drawn. */
  readonly omitted: string | null;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/**
 * At most `max` operations of a history (every one of them when it is small enough). Otherwise
 * the violating partition's; if even that is too many, a run of them around the operation that got
 * stuck (the unplaceable ones always among them); without a violation, the first `max`.
 */
export function selectDrawn(history: History, violation: Violation | null, keys: ReadonlyMap<number, string> | undefined, max: number): DrawnOps {
  const all = history.ops;
  if (all.length <= max) return { ops: all, omitted: null };
  if (violation === null) {
    return { ops: all.slice(0, max), omitted: `The first ${max} of ${all.length} operations are drawn: a history this long is not drawn whole.` };
  }
  const keyName = violation.key === '' ? 'the history' : `key ${showJson(violation.key, 80)}`;
  const inKey = keys === undefined ? all : all.filter((op) => keys.get(op.index) === violation.key);
  const otherKeys = keys === undefined ? 0 : new Set([...keys.values()].filter((k) => k !== violation.key)).size;
  const others = all.length - inKey.length;
  const elsewhere = others > 0 ? `; the ${plural(others, 'operation')} of ${plural(otherKeys, 'other key')} are left out` : '';
  if (inKey.length <= max) {
    return { ops: inKey, omitted: `Only ${keyName}, the violating partition, is drawn: ${plural(inKey.length, 'operation')} of ${all.length}${elsewhere}.` };
  }
  const must = new Set(violation.unplaceable);
  const at = Math.max(0, inKey.findIndex((op) => op.index === violation.stuck));
  // the stuck operation is in the window anyway; room is kept for the other unplaceable ones
  const room = Math.max(1, max - must.size + (must.has(violation.stuck) ? 1 : 0));
  const start = Math.max(0, Math.min(at - Math.floor(room / 2), inKey.length - room));
  const window = new Set(inKey.slice(start, start + room).map((op) => op.index));
  const ops = inKey.filter((op) => window.has(op.index) || must.has(op.index));
  return {
    ops,
    omitted: `${ops.length} of the ${inKey.length} operations of ${keyName} (the violating partition) are drawn, those around the operation that got stuck and every unplaceable one${elsewhere}.`,
  };
}

const STYLE = `
:root { --bad: #dc2626; --good: #059669; --dim: #64748b; --line: #e2e8f0; font-family: system-ui, sans-serif; color: #0f172a; }
body { margin: 0 auto; max-width: 1400px; padding: 16px 24px; }
h1 { font-size: 20px; } h2 { font-size: 17px; margin: 0 0 6px; word-break: break-all; } h3 { font-size: 15px; margin: 14px 0 6px; }
section.report { border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; margin: 16px 0; }
.verdict { font-weight: 600; } .verdict[data-verdict=linearizable] { color: var(--good); }
.verdict[data-verdict=not-linearizable], .error { color: var(--bad); } .verdict[data-verdict=unknown] { color: #b45309; }
.notes, .omitted { color: var(--dim); font-size: 13px; margin: 4px 0; }
table { border-collapse: collapse; font-size: 12px; margin: 6px 0; } td, th { border-bottom: 1px solid var(--line); padding: 2px 8px; text-align: left; }
tr.violating td { color: var(--bad); font-weight: 600; }
.controls { display: flex; gap: 8px; align-items: center; font-size: 13px; margin: 8px 0; }
.chart-scroll { overflow: auto; max-height: 70vh; border: 1px solid var(--line); border-radius: 6px; }
.history-svg { display: block; font-family: ui-monospace, monospace; }
.axis { stroke: #f1f5f9; } .axis-label { font-size: 10px; fill: var(--dim); text-anchor: middle; } .proc { font-size: 11px; fill: var(--dim); }
.op rect { stroke: rgba(15, 23, 42, 0.35); stroke-width: 1; } .op:hover rect { stroke: #0f172a; stroke-width: 2; }
.op.open rect { opacity: 0.45; stroke-dasharray: 3 2; } .op.failed rect { opacity: 0.6; }
.op.linearized rect { stroke: var(--good); stroke-width: 2; } .lin-order { font-size: 8px; fill: var(--good); }
.op.unplaceable rect { stroke: var(--bad); stroke-width: 3; } .op.stuck rect { fill: var(--bad); }
.op-label { font-size: 10px; fill: #fff; pointer-events: none; } .stuck-mark { font-size: 14px; font-weight: 700; fill: var(--bad); }
[hidden] { display: none !important; }
.legend { font-size: 12px; color: var(--dim); } .legend span { margin-right: 12px; }
ol.prefix, ul.unplaceable { font-family: ui-monospace, monospace; font-size: 12px; } li.stuck { color: var(--bad); font-weight: 600; }
li code { color: var(--good); }
`;

// shows the chart of the chosen key and zooms the drawings; it reads only the page's own attributes
const SCRIPT = `
(function () {
  document.querySelectorAll('section.report').forEach(function (section) {
    var charts = section.querySelectorAll('[data-chart]');
    var filter = section.querySelector('select.key-filter');
    if (filter) {
      filter.addEventListener('change', function () {
        charts.forEach(function (chart) { chart.hidden = chart.getAttribute('data-chart') !== filter.value; });
      });
    }
    var svgs = section.querySelectorAll('svg.history-svg');
    svgs.forEach(function (svg) {
      svg.setAttribute('data-width', svg.getAttribute('width'));
      svg.setAttribute('data-height', svg.getAttribute('height'));
    });
    var zoom = 1;
    function setZoom(z) {
      zoom = Math.min(8, Math.max(0.02, z));
      svgs.forEach(function (svg) {
        svg.setAttribute('width', String(Math.round(Number(svg.getAttribute('data-width')) * zoom)));
        svg.setAttribute('height', String(Math.round(Number(svg.getAttribute('data-height')) * zoom)));
      });
      section.setAttribute('data-zoom', String(zoom));
    }
    section.querySelectorAll('button[data-zoom]').forEach(function (button) {
      button.addEventListener('click', function () {
        var how = button.getAttribute('data-zoom');
        var visible = section.querySelector('[data-chart]:not([hidden])');
        var svg = visible && visible.querySelector('svg');
        if (how === 'in') setZoom(zoom * 1.5);
        else if (how === 'out') setZoom(zoom / 1.5);
        else if (svg) setZoom(Math.min(1, visible.clientWidth / Number(svg.getAttribute('data-width'))));
      });
    });
  });
})();
`;

function partitionTable(result: CheckResult, ids: ReadonlyMap<string, string>, max: number): MarkupNode[] {
  const violating = result.violation?.key;
  const listed = result.partitions.slice(0, max);
  const extra = result.partitions.slice(max).find((p) => p.key === violating);
  if (extra !== undefined) listed.push(extra);
  const rows = listed.map((p) => el('tr', { class: p.key === violating ? 'violating' : undefined, 'data-key': ids.get(p.key) },
    el('td', {}, showJson(p.key, 80)), el('td', {}, p.verdict), el('td', {}, String(p.ops)), el('td', {}, String(p.states)),
    el('td', {}, p.ms === null ? '' : p.ms.toFixed(1)), el('td', {}, p.reason ?? '')));
  const left = result.partitions.length - listed.length;
  return [
    el('table', { class: 'partitions' }, el('tr', {}, ...['key', 'verdict', 'operations', 'states', 'ms', 'reason'].map((h) => el('th', {}, h))), ...rows),
    ...(left > 0 ? [el('p', { class: 'omitted' }, `… ${plural(left, 'more key')} not listed.`)] : []),
  ];
}

/** The key filter: one option per key that has a chart of its own. */
function keyFilter(keys: readonly string[], ids: ReadonlyMap<string, string>, selected: string): MarkupNode {
  const options = keys.map((key) => el('option', { value: ids.get(key) ?? '', selected: ids.get(key) === selected ? 'selected' : undefined }, showJson(key, 80)));
  return el('label', {}, 'key ', el('select', { class: 'key-filter', 'data-testid': 'key-filter' }, el('option', { value: '' }, 'all keys'), ...options));
}

function violationDetails(violation: Violation, history: History, maxSteps: number): MarkupNode[] {
  const byIndex = new Map(history.ops.map((op) => [op.index, op]));
  const describe = (index: number): string => {
    const op = byIndex.get(index);
    return op === undefined ? `#${index}` : showText(describeOperation(op), MAX_TITLE_CHARS);
  };
  const joined = violation.keys === undefined ? null : violation.keys.slice(0, 20).map((k) => showJson(k, 80)).join(', ') + (violation.keys.length > 20 ? ', …' : '');
  const where = joined !== null ? ` in keys ${joined}` : violation.key === '' ? '' : ` in key ${showJson(violation.key, 80)}`;
  const first = Math.max(0, violation.prefix.length - maxSteps);
  const steps = violation.prefix.slice(first).map((s) => el('li', { 'data-index': s.op }, describe(s.op), ' ⇒ ', el('code', {}, showJson(s.state, MAX_STATE_CHARS))));
  return [
    el('h3', {}, `Longest linearizable prefix${where}: ${plural(violation.prefix.length, 'operation')}`),
    ...(first > 0 ? [el('p', { class: 'omitted' }, `… ${first} earlier steps not listed.`)] : []),
    steps.length > 0 ? el('ol', { class: 'prefix', start: first + 1, 'data-testid': 'prefix' }, ...steps) : el('p', { class: 'notes' }, 'No operation can be placed first.'),
    el('h3', {}, 'None of these can be placed next'),
    el('ul', { class: 'unplaceable', 'data-testid': 'unplaceable' }, ...violation.unplaceable.map((i) =>
      el('li', { class: i === violation.stuck ? 'stuck' : undefined, 'data-index': i }, describe(i), i === violation.stuck ? ' ← completed before it could take effect' : ''))),
  ];
}

const LEGEND = el('p', { class: 'legend' },
  el('span', {}, 'bars: invoke → complete, coloured by operation'), el('span', {}, 'grey: failed'), el('span', {}, 'faded, dashed: unknown outcome (to the end)'),
  el('span', {}, 'green outline + number: linearized prefix, in order'), el('span', {}, 'red outline: cannot be placed next'), el('span', {}, 'red, !: completed before it could take effect'),
  el('span', {}, 'x: distinct event times in order; hover a bar for its times'));

/** One history's part of the page. */
export function reportSection(section: ReportSection, number: number, options: ReportOptions = {}): MarkupElement {
  const { history, result } = section;
  const verdict = result?.verdict ?? 'unknown';
  const head: MarkupNode[] = [el('h2', {}, showText(section.title, 300))];
  if (history !== undefined && result !== undefined) {
    head.push(el('p', { class: 'verdict', 'data-verdict': verdict, 'data-testid': 'verdict' }, showText(formatCheckText(result, history).split('\n')[0] ?? verdict, 300)));
  }
  if (section.error !== undefined) head.push(el('p', { class: 'error', 'data-testid': 'error' }, showText(section.error, 1000)));
  for (const note of section.notes ?? []) head.push(el('p', { class: 'notes' }, showText(note, 1000)));
  const attrs = { class: 'report', id: `history-${number}`, 'data-verdict': verdict };
  if (history === undefined || result === undefined) return el('section', attrs, ...head);

  const maxPartitions = options.maxPartitions ?? 200;
  const ids = new Map(result.partitions.map((p, k) => [p.key, String(k)]));
  for (const key of section.keys?.values() ?? []) if (!ids.has(key)) ids.set(key, String(ids.size));
  const drawn = selectDrawn(history, result.violation, section.keys, options.maxOps ?? DEFAULT_MAX_DRAWN_OPS);
  const violation = result.violation;
  const chartOptions: ChartOptions = {
    scale: 'order',
    slotWidth: 22,
    width: 1200,
    rowHeight: 30,
    barHeight: 16,
    left: 56,
    labelChars: 40,
    keys: section.keys,
    keyAttribute: (key) => ids.get(key) ?? '',
    highlight: violation === null ? undefined : violation,
  };
  // a chart of all keys, and one per key (each on its own time slots, so a key's operations sit
  // side by side) for the keys of the partition table; the filter shows one at a time
  const byKey = new Map<string, Operation[]>();
  const listed = new Set(result.partitions.slice(0, maxPartitions).map((p) => p.key));
  if (violation !== null) listed.add(violation.key);
  for (const op of drawn.ops) {
    const key = section.keys?.get(op.index);
    if (key === undefined || !listed.has(key)) continue;
    const ops = byKey.get(key) ?? [];
    if (ops.length === 0) byKey.set(key, ops);
    ops.push(op);
  }
  const filtered = byKey.size > 1;
  const shown = filtered && violation !== null ? (ids.get(violation.key) ?? '') : '';
  const chartOf = (id: string, ops: readonly Operation[]): MarkupElement =>
    el('div', { class: 'chart-scroll', 'data-chart': id, hidden: id === shown ? undefined : 'hidden' }, historyChart(ops, chartOptions));
  const charts = [chartOf('', drawn.ops), ...(filtered ? [...byKey].map(([key, ops]) => chartOf(ids.get(key) ?? '', ops)) : [])];
  return el('section', attrs, ...head,
    ...(result.partitions.length > 1 ? partitionTable(result, ids, maxPartitions) : []),
    el('div', { class: 'controls' }, filtered ? keyFilter([...byKey.keys()], ids, shown) : null,
      el('button', { type: 'button', 'data-zoom': 'out', title: 'zoom out' }, '−'),
      el('button', { type: 'button', 'data-zoom': 'in', title: 'zoom in' }, '+'),
      el('button', { type: 'button', 'data-zoom': 'fit', title: 'fit the width' }, 'fit')),
    drawn.omitted === null ? null : el('p', { class: 'omitted', 'data-testid': 'omitted' }, drawn.omitted),
    ...charts,
    LEGEND,
    ...(violation === null ? [] : violationDetails(violation, history, options.maxPrefixSteps ?? 200)));
}

const CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'";

/**
 * The page up to its first section: head (inline style; a Content-Security-Policy that forbids
 * every external resource), title and, for several histories, a list of links to their sections.
 * With htmlReportSection and htmlReportEnd a host can write a page section by section.
 */
export function htmlReportStart(titles: readonly string[], options: ReportOptions = {}): string {
  const title = options.title ?? 'Synod check report';
  const head = el('head', {},
    el('meta', { charset: 'utf-8' }),
    el('meta', { 'http-equiv': 'Content-Security-Policy', content: CSP }),
    el('meta', { name: 'viewport', content: 'width=device-width, initial-scale=1' }),
    el('title', {}, showText(title, 200)),
    el('style', {}, STYLE));
  const contents = titles.length > 1 ? el('ul', { class: 'contents' }, ...titles.map((t, k) => el('li', {}, el('a', { href: `#history-${k + 1}` }, showText(t, 200))))) : null;
  return `<!doctype html>\n<html lang="en">${toMarkup(head)}<body>${toMarkup(el('h1', {}, showText(title, 200)))}${contents === null ? '' : toMarkup(contents)}\n`;
}

/** Section `number` (from 1, matching htmlReportStart's links) as HTML text. */
export function htmlReportSection(section: ReportSection, number: number, options: ReportOptions = {}): string {
  return `${toMarkup(reportSection(section, number, options))}\n`;
}

/** The rest of the page after the last section: the script (key filter, zoom). */
export function htmlReportEnd(): string {
  return `${toMarkup(el('script', {}, SCRIPT))}</body></html>\n`;
}

/**
 * The whole page as HTML text: inline style and script, no external resources (its
 * Content-Security-Policy forbids them). Every text from a history is escaped and cut to length;
 * the same sections give the same text.
 */
export function renderHtmlReport(sections: readonly ReportSection[], options: ReportOptions = {}): string {
  const parts = [htmlReportStart(sections.map((s) => s.title), options)];
  sections.forEach((s, k) => parts.push(htmlReportSection(s, k + 1, options)));
  parts.push(htmlReportEnd());
  return parts.join('');
}
