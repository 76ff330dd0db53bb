// Client operations as bars, one row per client, over virtual time, with the linearizability
// checker's verdict. For a violation, the operations that cannot be placed are outlined in red
// (the one that completed before it could take effect is marked with "!") and listed.
import { describeOperation, historyChart } from '../../../src/check/index.js';
import type { Operation } from '../../../src/sim/index.js';
import type { ClusterView } from '../source/types.js';
import { clear, formatMs, h, svgFromMarkup } from './dom.js';

const WIDTH = 640;
const LEFT = 40;
const ROW = 20;
/** At most this many operations are drawn (the most recent). */
const MAX_DRAWN = 300;

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
    const end = Math.max(view.timeMs, 1);
    // long histories: draw the most recent operations only (and whatever the checker points at)
    const begin = ops.length > MAX_DRAWN ? ((ops[ops.length - MAX_DRAWN] as Operation).invokeMs) : 0;
    const shown = begin === 0 ? ops : ops.filter((o) => o.completeMs >= begin || o.outcome === 'unknown' || bad.has(o.index));
    // the bars are drawn by the same renderer as `synod check --html` (src/check/html)
    const svg = svgFromMarkup(historyChart(shown, {
      scale: 'time',
      width: WIDTH,
      left: LEFT,
      rowHeight: ROW,
      fromMs: begin,
      toMs: end,
      formatTime: formatMs,
      shortNames: true,
      labelChars: 24,
      highlight: { stuck: view.check.stuck, unplaceable: view.check.unplaceable },
    }));
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
