// Adapter panels: the extra panels a simulated protocol (ProtocolAdapter.panels) or a live
// service (LiveAdapter.panels) adds to the page. The adapter gives plain data (PanelContent) with
// every view; this draws it with neutral widgets: a table, or rows of cells aligned like the logs.
import type { PanelContent, PanelContents, PanelDef, PanelPlace, SequencesContent, TableCell, TableContent } from '../adapters/types.js';
import { clear, h, panel } from './dom.js';
import { LogChart } from './logs.js';

export class AdapterPanel {
  readonly el: HTMLElement;
  private readonly body = h('div', { class: 'panel-body' });
  private key = '';
  private chart: LogChart | undefined;

  constructor(readonly def: PanelDef) {
    this.el = panel(def.title, `panel-${def.id}`, def.hint === undefined ? null : h('p', { class: 'hint' }, def.hint), this.body);
  }

  /** Draws the panel's content; without content this time, it stays as it was. */
  render(content: PanelContent | undefined): void {
    if (content === undefined) return;
    if (content.kind === 'sequences') this.renderSequences(content);
    else this.renderTable(content);
  }

  private renderSequences(content: SequencesContent): void {
    if (this.chart === undefined) {
      this.chart = new LogChart(content.rowTestId);
      clear(this.body);
      this.body.append(this.chart.el);
    }
    this.chart.render(content.rows);
  }

  private renderTable(content: TableContent): void {
    const key = JSON.stringify(content);
    if (key === this.key) return;
    this.key = key;
    this.chart = undefined;
    clear(this.body);
    if (content.rows.length === 0) {
      this.body.append(h('p', { class: 'hint' }, content.empty ?? 'nothing to show yet'));
      return;
    }
    const head = h('tr', {}, ...content.columns.map((c) => h('th', {}, c)));
    const rows = content.rows.map((r) =>
      h('tr', { 'data-testid': `${this.def.id}-row-${r.key}`, 'data-key': r.key, class: r.tone === undefined ? '' : `tone-${r.tone}` }, ...r.cells.map((c) => tableCell(c))),
    );
    this.body.append(h('table', { class: 'panel-table' }, h('thead', {}, head), h('tbody', {}, ...rows)));
  }
}

function tableCell(c: string | TableCell): HTMLTableCellElement {
  if (typeof c === 'string') return h('td', {}, c);
  return h('td', { class: c.tone === undefined ? '' : `tone-${c.tone}`, title: c.title }, c.text);
}

/** The panels of one page, by where they go. */
export class AdapterPanels {
  private readonly panels: AdapterPanel[];

  constructor(defs: readonly PanelDef[]) {
    this.panels = defs.map((d) => new AdapterPanel(d));
  }

  /** The sections to mount at `place`, in the adapter's order. */
  at(place: PanelPlace): HTMLElement[] {
    return this.panels.filter((p) => p.def.place === place).map((p) => p.el);
  }

  render(contents: PanelContents): void {
    for (const p of this.panels) p.render(contents[p.def.id]);
  }
}
