// The logs, one row per node, aligned by index: cells coloured by term (or by what the adapter
// uses as "term"), faded while uncommitted, with a marker after the commit index.
import type { ProtocolAdapter } from '../adapters/types.js';
import type { ClusterView } from '../source/types.js';
import { clear, h, s, termColor } from './dom.js';

export const LOG_WINDOW = 24;
const CELL = 26;
const ROW = 30;
const LEFT = 34;
const RIGHT = 176;

export class LogPanel {
  readonly el: HTMLElement;
  private readonly svgHost = h('div', { class: 'log-host' });
  private key = '';

  constructor(adapter: ProtocolAdapter) {
    this.el = h('div', { class: 'logs', 'data-testid': 'logs' }, h('p', { class: 'hint' }, adapter.logLegend), this.svgHost);
  }

  render(view: ClusterView): void {
    const key = view.nodes
      .map((n) => `${n.id}:${n.up ? 1 : 0}:${n.log.lastIndex}:${n.log.commit ?? ''}:${n.log.snapshotIndex}:${n.log.cells.map((c) => c.term).join('.')}`)
      .join('|');
    if (key === this.key) return;
    this.key = key;
    const maxLast = Math.max(0, ...view.nodes.map((n) => n.log.lastIndex));
    const start = Math.max(1, maxLast - LOG_WINDOW + 1);
    const columns = Math.max(1, maxLast - start + 1);
    const width = LEFT + Math.max(columns, 8) * CELL + RIGHT;
    const height = 22 + view.nodes.length * ROW;
    const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, width, height, class: 'log-svg' });
    for (let i = start; i <= maxLast; i++) {
      const x = LEFT + (i - start) * CELL;
      svg.append(s('text', { x: x + CELL / 2, y: 13, class: 'log-index' }, String(i)));
    }
    view.nodes.forEach((n, row) => {
      const y = 20 + row * ROW;
      svg.append(s('text', { x: LEFT - 10, y: y + 17, class: `log-node${n.up ? '' : ' down'}` }, n.id));
      const g = s('g', { 'data-testid': `log-${n.id}`, 'data-last': n.log.lastIndex, 'data-commit': n.log.commit ?? '' });
      if (n.log.snapshotIndex >= start) {
        const w = (Math.min(n.log.snapshotIndex, maxLast) - start + 1) * CELL - 2;
        g.append(s('rect', { x: LEFT, y, width: w, height: CELL - 2, rx: 3, class: 'log-snapshot' }, s('title', {}, `entries up to ${n.log.snapshotIndex} compacted into a snapshot`)));
      }
      for (const c of n.log.cells) {
        if (c.index < start) continue;
        const x = LEFT + (c.index - start) * CELL;
        const committed = n.log.commit === null || c.index <= n.log.commit;
        const cell = s('g', { class: `log-cell${committed ? '' : ' uncommitted'}${c.special ? ' special' : ''}${n.up ? '' : ' down'}` });
        cell.append(
          s('title', {}, `${c.title}${committed ? '' : ' (not committed here)'}`),
          s('rect', { x, y, width: CELL - 2, height: CELL - 2, rx: 3, fill: termColor(c.term) }),
          s('text', { x: x + (CELL - 2) / 2, y: y + 17, class: 'log-term' }, c.label),
        );
        g.append(cell);
      }
      if (n.log.commit !== null && n.log.commit >= start - 1 && n.log.commit > 0) {
        const x = LEFT + (Math.min(n.log.commit, maxLast) - start + 1) * CELL - 1;
        g.append(s('line', { x1: x, y1: y - 3, x2: x, y2: y + CELL + 1, class: 'commit-mark' }, s('title', {}, `commit index ${n.log.commit}`)));
      }
      const info = n.log.commit === null ? `${n.log.lastIndex} values` : `last ${n.log.lastIndex} · commit ${n.log.commit}`;
      g.append(s('text', { x: LEFT + Math.max(columns, 8) * CELL + 8, y: y + 17, class: 'log-info' }, info));
      svg.append(g);
    });
    clear(this.svgHost);
    this.svgHost.append(svg);
  }
}
