// Logs, one row per node, aligned by index: cells coloured by term (or by what the adapter uses
// as "term"), faded while uncommitted, with a marker after the commit index. LogChart draws any
// such rows (adapter panels of kind "sequences" use it too); LogPanel draws the nodes' own logs.
import type { ProtocolAdapter, SequenceRow } from '../adapters/types.js';
import type { ClusterView } from '../source/types.js';
import { clear, h, s, termColor } from './dom.js';

export const LOG_WINDOW = 24;
const CELL = 26;
const ROW = 30;
const LEFT = 34;
const RIGHT = 176;

/** Rows of cells aligned by index; each row's data-testid is `${rowTestId}-${node}`. */
export class LogChart {
  readonly el = h('div', { class: 'log-host' });
  private key = '';

  constructor(private readonly rowTestId: string) {}

  render(rows: readonly SequenceRow[]): void {
    const key = rows.map((r) => `${r.node}:${r.up ? 1 : 0}:${r.log.lastIndex}:${r.log.commit ?? ''}:${r.log.snapshotIndex}:${r.log.cells.map((c) => `${c.term}${c.label}`).join('.')}`).join('|');
    if (key === this.key) return;
    this.key = key;
    const maxLast = Math.max(0, ...rows.map((r) => r.log.lastIndex));
    const start = Math.max(1, maxLast - LOG_WINDOW + 1);
    const columns = Math.max(1, maxLast - start + 1);
    const width = LEFT + Math.max(columns, 8) * CELL + RIGHT;
    const height = 22 + rows.length * ROW;
    const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, width, height, class: 'log-svg' });
    for (let i = start; i <= maxLast; i++) {
      const x = LEFT + (i - start) * CELL;
      svg.append(s('text', { x: x + CELL / 2, y: 13, class: 'log-index' }, String(i)));
    }
    rows.forEach((r, row) => svg.append(...this.drawRow(r, 20 + row * ROW, start, maxLast, columns)));
    clear(this.el);
    this.el.append(svg);
  }

  private drawRow(r: SequenceRow, y: number, start: number, maxLast: number, columns: number): SVGElement[] {
    const log = r.log;
    const name = s('text', { x: LEFT - 10, y: y + 17, class: `log-node${r.up ? '' : ' down'}` }, r.node);
    const g = s('g', { 'data-testid': `${this.rowTestId}-${r.node}`, 'data-last': log.lastIndex, 'data-commit': log.commit ?? '' });
    if (log.snapshotIndex >= start) {
      const w = (Math.min(log.snapshotIndex, maxLast) - start + 1) * CELL - 2;
      g.append(s('rect', { x: LEFT, y, width: w, height: CELL - 2, rx: 3, class: 'log-snapshot' }, s('title', {}, `entries up to ${log.snapshotIndex} compacted into a snapshot`)));
    }
    for (const c of log.cells) {
      if (c.index < start) continue;
      const x = LEFT + (c.index - start) * CELL;
      const committed = log.commit === null || c.index <= log.commit;
      const cell = s('g', { class: `log-cell${committed ? '' : ' uncommitted'}${c.special ? ' special' : ''}${r.up ? '' : ' down'}` });
      cell.append(
        s('title', {}, `${c.title}${committed ? '' : ' (not committed here)'}`),
        s('rect', { x, y, width: CELL - 2, height: CELL - 2, rx: 3, fill: termColor(c.term) }),
        s('text', { x: x + (CELL - 2) / 2, y: y + 17, class: 'log-term' }, c.label),
      );
      g.append(cell);
    }
    if (log.commit !== null && log.commit >= start - 1 && log.commit > 0) {
      const x = LEFT + (Math.min(log.commit, maxLast) - start + 1) * CELL - 1;
      g.append(s('line', { x1: x, y1: y - 3, x2: x, y2: y + CELL + 1, class: 'commit-mark' }, s('title', {}, `commit index ${log.commit}`)));
    }
    const info = log.commit === null ? `${log.lastIndex} value${log.lastIndex === 1 ? '' : 's'}` : `last ${log.lastIndex} · commit ${log.commit}`;
    g.append(s('text', { x: LEFT + Math.max(columns, 8) * CELL + 8, y: y + 17, class: 'log-info' }, info));
    return [name, g];
  }
}

/** The nodes' own logs (NodeView.log); nodes without one are left out. */
export class LogPanel {
  readonly el: HTMLElement;
  private readonly chart = new LogChart('log');

  constructor(adapter: ProtocolAdapter) {
    this.el = h('div', { class: 'logs', 'data-testid': 'logs' }, h('p', { class: 'hint' }, adapter.logLegend ?? ''), this.chart.el);
  }

  render(view: ClusterView): void {
    this.chart.render(view.nodes.flatMap((n) => (n.log === undefined ? [] : [{ node: n.id, up: n.up, log: n.log }])));
  }
}
