// Client operations as bars, one row per client, over virtual time, with the linearizability
// checker's verdict. For a violation, the operations that cannot be placed are outlined in red
// (the one that completed before it could take effect is marked with "!") and listed.
import { describeOperation } from '../../../src/check/index.js';
import type { Operation } from '../../../src/sim/index.js';
import type { ClusterView } from '../source/types.js';
import { clear, formatMs, h, s } from './dom.js';

const WIDTH = 640;
const LEFT = 40;
const ROW = 20;
/** At most this many operations are drawn (the most recent). */
const MAX_DRAWN = 300;

const F_COLORS: Record<string, string> = { add: '#8b5cf6', write: '#3b82f6', put: '#3b82f6', read: '#10b981', get: '#10b981', cas: '#f59e0b' };

function label(op: Operation): string {
  const input = op.input === null ? '' : JSON.stringify(op.input);
  const out = op.outcome === 'ok' && op.output !== null && (op.f === 'read' || op.f === 'get') ? `→${JSON.stringify(op.output)}` : '';
  return `${op.f[0] ?? ''}${input === '' ? '' : ` ${input}`}${out}`;
}

export class HistoryPanel {
  readonly el: HTMLElement;
  private readonly verdict = h('div', { class: 'verdict', 'data-testid': 'verdict' });
  private readonly chart = h('div', { class: 'history-chart' });
  private readonly details = h('ul', { class: 'violation-list', 'data-testid': 'unplaceable' });
  private key = '';

  constructor() {
    this.el = h('div', { class: 'history', 'data-testid': 'history' }, this.verdict, this.chart, this.details);
  }

  render(view: ClusterView): void {
    const ops = view.history;
    const key = `${view.timeMs}|${ops.length}|${ops.filter((o) => o.outcome !== 'unknown').length}|${view.check.text}`;
    if (key === this.key) return;
    this.key = key;
    this.verdict.textContent = view.check.text;
    this.verdict.dataset['verdict'] = view.check.verdict;
    const bad = new Set(view.check.unplaceable);
    const processes = [...new Set(ops.map((o) => o.process))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    const end = Math.max(view.timeMs, 1);
    // long histories: draw the most recent operations only (and whatever the checker points at)
    const begin = ops.length > MAX_DRAWN ? ((ops[ops.length - MAX_DRAWN] as Operation).invokeMs) : 0;
    const shown = begin === 0 ? ops : ops.filter((o) => o.completeMs >= begin || o.outcome === 'unknown' || bad.has(o.index));
    const height = 24 + Math.max(1, processes.length) * ROW;
    const svg = s('svg', { viewBox: `0 0 ${WIDTH} ${height}`, class: 'history-svg', width: '100%' });
    const x = (ms: number): number => LEFT + ((WIDTH - LEFT - 8) * (Math.max(ms, begin) - begin)) / Math.max(1, end - begin);
    for (let k = 0; k <= 4; k++) {
      const ms = begin + ((end - begin) * k) / 4;
      svg.append(s('line', { x1: x(ms), x2: x(ms), y1: 14, y2: height, class: 'axis' }), s('text', { x: x(ms), y: 10, class: 'axis-label' }, formatMs(ms)));
    }
    processes.forEach((p, row) => {
      const y = 18 + row * ROW;
      svg.append(s('text', { x: 4, y: y + 12, class: 'proc' }, p));
      for (const op of shown) {
        if (op.process !== p) continue;
        const open = op.outcome === 'unknown';
        const x1 = x(op.invokeMs);
        const x2 = Math.max(x1 + 3, x(open ? view.timeMs : op.completeMs));
        const color = op.outcome === 'fail' ? '#cbd5e1' : (F_COLORS[op.f] ?? '#64748b');
        const cls = `op${open ? ' open' : ''}${bad.has(op.index) ? ' unplaceable' : ''}${op.outcome === 'fail' ? ' failed' : ''}`;
        const g = s('g', { class: cls, 'data-testid': 'op', 'data-index': op.index, 'data-outcome': op.outcome });
        g.append(s('title', {}, describeOperation(op)), s('rect', { x: x1, y, width: x2 - x1, height: ROW - 5, rx: 3, fill: color }));
        const text = label(op);
        if (x2 - x1 > text.length * 6 + 6) g.append(s('text', { x: x1 + 4, y: y + 11, class: 'op-label' }, text));
        if (view.check.stuck === op.index) g.append(s('text', { x: x2 + 3, y: y + 12, class: 'stuck' }, '!'));
        svg.append(g);
      }
    });
    clear(this.chart);
    this.chart.append(ops.length === 0 ? h('p', { class: 'hint' }, 'No client operations yet: use Write / Read, or turn on background clients.') : svg);
    clear(this.details);
    if (bad.size > 0) {
      const byIndex = new Map(ops.map((o) => [o.index, o]));
      for (const i of view.check.unplaceable) {
        const op = byIndex.get(i);
        this.details.append(h('li', {}, op === undefined ? `#${i}` : describeOperation(op), i === view.check.stuck ? h('strong', {}, ' ← completed before it could take effect') : null));
      }
    }
  }
}
