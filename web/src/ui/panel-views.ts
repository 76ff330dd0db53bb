// Adapter panels: the extra panels a simulated protocol (ProtocolAdapter.panels) or a live
// service (LiveAdapter.panels) adds to the page. The adapter gives plain data (PanelContent) with
// every view; this draws it with neutral widgets: a table, or rows of cells aligned like the logs,
// under the panel's own controls (fields and buttons that issue client actions), if it has any.
import type { PanelButton, PanelContent, PanelContents, PanelControl, PanelDef, PanelField, PanelPlace, SequencesContent, TableCell, TableContent } from '../adapters/types.js';
import type { Action } from '../engine/actions.js';
import { button, clear, h, panel } from './dom.js';
import { LogChart } from './logs.js';

/** What a panel's buttons need from the page (absent: the controls are not drawn). */
export interface PanelHost {
  dispatch(action: Action): void;
}

export class AdapterPanel {
  readonly el: HTMLElement;
  private readonly body = h('div', { class: 'panel-body' });
  private readonly message = h('p', { class: 'panel-message', hidden: true });
  private readonly values = new Map<string, () => string>();
  private readonly nodeLists: { readonly el: HTMLSelectElement; readonly any: boolean }[] = [];
  private knownIds = '';
  private key = '';
  private chart: LogChart | undefined;

  constructor(
    readonly def: PanelDef,
    private readonly host?: PanelHost,
  ) {
    this.message.dataset['testid'] = `${def.id}-message`;
    const controls = host === undefined ? [] : (def.controls ?? []).map((row) => h('div', { class: 'row' }, ...row.map((c) => this.control(c))));
    this.el = panel(def.title, `panel-${def.id}`, def.hint === undefined ? null : h('p', { class: 'hint' }, def.hint), ...controls, controls.length > 0 ? this.message : null, this.body);
  }

  /** Draws the panel's content; without content this time, it stays as it was. `nodes`: the ids for node lists. */
  render(content: PanelContent | undefined, nodes: readonly string[] = []): void {
    this.fillNodeLists(nodes);
    if (content === undefined) return;
    if (content.kind === 'sequences') this.renderSequences(content);
    else this.renderTable(content);
  }

  private control(c: PanelControl): HTMLElement {
    if (c.kind === 'note') return h('span', { class: 'hint' }, c.text);
    if (c.kind === 'button') return button(c.label, `${this.def.id}-${c.id}`, c.title, () => this.press(c));
    return this.field(c);
  }

  private field(f: PanelField): HTMLElement {
    const testid = `${this.def.id}-${f.id}`;
    const labelled = (input: HTMLElement): HTMLElement => (f.label === undefined ? input : h('label', { title: f.title }, `${f.label} `, input));
    switch (f.kind) {
      case 'check': {
        const box = h('input', { type: 'checkbox', checked: f.initial === 'true', 'data-testid': testid, title: f.title });
        this.values.set(f.id, () => (box.checked ? 'true' : ''));
        return f.label === undefined ? box : h('label', { title: f.title }, box, ` ${f.label}`);
      }
      case 'node': {
        const list = h('select', { 'data-testid': testid, title: f.title });
        this.nodeLists.push({ el: list, any: f.any === true });
        this.values.set(f.id, () => list.value);
        return labelled(list);
      }
      case 'json': {
        const box = h('textarea', { rows: 5, cols: f.size ?? 44, spellcheck: 'false', 'data-testid': testid, title: f.title });
        box.value = f.initial ?? '';
        this.values.set(f.id, () => box.value);
        const presets = f.presets ?? [];
        if (presets.length === 0) return labelled(box);
        const pick = h('select', { 'data-testid': `${testid}-preset`, title: 'fill the box with an example' }, h('option', { value: '' }, 'examples…'), ...presets.map((p, i) => h('option', { value: String(i) }, p.label)));
        pick.addEventListener('change', () => {
          const preset = presets[Number(pick.value)];
          if (pick.value !== '' && preset !== undefined) box.value = preset.text;
          pick.value = '';
        });
        return h('div', { class: 'json-field' }, f.label === undefined ? null : h('span', {}, `${f.label} `), pick, box);
      }
      case 'text':
      case 'number': {
        // `size` does not size a number input: a width in characters does, for both (plus room for the spinner)
        const input = h('input', { type: f.kind, value: f.initial ?? '', 'data-testid': testid, title: f.title, style: `width: ${(f.size ?? 8) + (f.kind === 'number' ? 4 : 2)}ch` });
        this.values.set(f.id, () => input.value);
        return labelled(input);
      }
    }
  }

  private press(b: PanelButton): void {
    const values = new Map<string, string>();
    for (const [id, read] of this.values) values.set(id, read());
    const built = b.build(values);
    if ('problem' in built) {
      this.say(built.problem, 'bad');
      return;
    }
    this.say('', null);
    const action: Action = built.arg === undefined ? { kind: 'client', op: built.op, node: built.node } : { kind: 'client', op: built.op, node: built.node, arg: built.arg };
    this.host?.dispatch(action);
  }

  private say(text: string, tone: 'bad' | null): void {
    this.message.textContent = text;
    this.message.className = tone === null ? 'panel-message' : `panel-message tone-${tone}`;
    this.message.hidden = text === '';
  }

  private fillNodeLists(ids: readonly string[]): void {
    const key = ids.join(',');
    if (key === this.knownIds) return;
    this.knownIds = key;
    for (const { el, any } of this.nodeLists) {
      const value = el.value;
      clear(el);
      if (any) el.append(h('option', { value: '' }, 'any node'));
      for (const id of ids) el.append(h('option', { value: id }, `node ${id}`));
      el.value = ids.includes(value) || (any && value === '') ? value : any ? '' : (ids[0] ?? '');
    }
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
    if (content.caption !== undefined) {
      const c = content.caption;
      this.body.append(h('p', { class: `panel-caption${c.tone === undefined ? '' : ` tone-${c.tone}`}`, 'data-testid': `${this.def.id}-caption`, title: c.title }, c.text));
    }
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

  constructor(defs: readonly PanelDef[], host?: PanelHost) {
    this.panels = defs.map((d) => new AdapterPanel(d, host));
  }

  /** The sections to mount at `place`, in the adapter's order. */
  at(place: PanelPlace): HTMLElement[] {
    return this.panels.filter((p) => p.def.place === place).map((p) => p.el);
  }

  render(contents: PanelContents, nodes: readonly string[] = []): void {
    for (const p of this.panels) p.render(contents[p.def.id], nodes);
  }
}
