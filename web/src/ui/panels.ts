// The simulation's control panels beside the ring: Node (crash, isolate, pause and the protocol's
// node actions), Network (partitions, link loss and delay), Clients (operations, background
// clients, cluster actions) and the Legend. Each turns clicks into Actions and keeps its node
// lists in step with the view drawn.
import type { ProtocolAdapter } from '../adapters/types.js';
import type { Action } from '../engine/actions.js';
import type { ClusterView } from '../source/types.js';
import { button, clear, h, panel, termColor } from './dom.js';

/** What the panels ask of the page. */
export interface PanelActions {
  dispatch(action: Action): void;
  selectNode(id: string): void;
  /** Whether the node is up in the view on screen. */
  isUp(id: string): boolean;
  /** The state now (not a preview), for actions that depend on it. */
  current(): ClusterView;
  showBanner(message: string): void;
  hideBanner(): void;
}

function idsOf(view: ClusterView): string[] {
  return view.nodes.map((n) => n.id);
}

/** Refills a node list, keeping its choice when that node still exists; `first` is an extra option on top. */
function fillNodeSelect(el: HTMLSelectElement, ids: readonly string[], first: readonly [string, string] | null): void {
  const value = el.value;
  clear(el);
  if (first !== null) el.append(h('option', { value: first[0] }, first[1]));
  for (const id of ids) el.append(h('option', { value: id }, `node ${id}`));
  el.value = value !== '' && (ids.includes(value) || value === first?.[0]) ? value : (first?.[0] ?? ids[0] ?? '');
}

export class NodePanel {
  readonly el: HTMLElement;
  private readonly nodeSelect = h('select', { 'data-testid': 'node-select' });
  private readonly crashButton = h('button', { type: 'button', 'data-testid': 'node-crash' }, 'Crash');
  private selected: string | null = null;
  private knownIds = '';

  constructor(adapter: ProtocolAdapter, actions: PanelActions) {
    const pauseMs = h('input', { type: 'number', min: 10, step: 100, value: 1000, size: 5, 'data-testid': 'pause-ms' });
    const slowMs = h('input', { type: 'number', min: 0, step: 5, value: 20, size: 4, 'data-testid': 'slow-ms' });
    const clockOffset = h('input', { type: 'number', step: 100, value: 500, size: 5, 'data-testid': 'clock-offset' });
    const clockDrift = h('input', { type: 'number', step: 10_000, value: 0, size: 6, 'data-testid': 'clock-drift' });
    const numberIn = (el: HTMLInputElement, min: number, max: number): number => Math.min(max, Math.max(min, Math.round(Number(el.value) || 0)));
    this.nodeSelect.addEventListener('change', () => actions.selectNode(this.nodeSelect.value));
    const node = (): string => this.nodeSelect.value;
    this.crashButton.onclick = () => {
      const id = node();
      if (id === '') return;
      actions.dispatch(actions.isUp(id) ? { kind: 'crash', node: id } : { kind: 'restart', node: id });
    };
    const protocolActions = adapter.nodeActions.map((a) => button(a.label, `node-action-${a.id}`, a.title, () => node() !== '' && actions.dispatch({ kind: 'protocol', name: a.id, node: node() })));
    this.el = panel(
      'Node',
      'node-panel',
      h('div', { class: 'row' }, this.nodeSelect, this.crashButton, button('Isolate', 'node-isolate', 'Cut this node off from all others', () => node() !== '' && actions.dispatch({ kind: 'isolate', node: node() }))),
      h('div', { class: 'row' }, button('Pause', 'node-pause', 'Stop-the-world pause: the node handles nothing for a while', () => node() !== '' && actions.dispatch({ kind: 'pause', node: node(), ms: Math.max(1, Number(pauseMs.value) || 1000) })), 'for ', pauseMs, ' ms'),
      h('div', { class: 'row' }, button('Slow', 'node-slow', 'Each message, tick or request the node handles costs it this much time (0: back to normal)', () => node() !== '' && actions.dispatch({ kind: 'slow', node: node(), ms: numberIn(slowMs, 0, 10_000) })), slowMs, ' ms per input'),
      h(
        'div',
        { class: 'row' },
        button('Clock', 'node-clock', "Set the node's local clock: ahead (or behind) of true time by the offset, running fast (or slow) by the drift; its timers tick at its own rate", () =>
          node() !== '' && actions.dispatch({ kind: 'clock', node: node(), offsetMs: numberIn(clockOffset, -3_600_000, 3_600_000), driftPpm: numberIn(clockDrift, -900_000, 1_000_000) }),
        ),
        clockOffset,
        ' ms, drift ',
        clockDrift,
        ' ppm',
      ),
      protocolActions.length > 0 ? h('div', { class: 'row' }, ...protocolActions) : null,
      h('p', { class: 'hint' }, 'Click a node to crash or restart it; right-click to select it here. Click a message in flight to drop it.'),
    );
  }

  select(id: string | null): void {
    this.selected = id;
    if (id !== null) this.nodeSelect.value = id;
  }

  render(view: ClusterView): void {
    const ids = idsOf(view);
    const key = ids.join(',');
    if (key !== this.knownIds) {
      this.knownIds = key;
      fillNodeSelect(this.nodeSelect, ids, null);
      if (this.selected !== null && ids.includes(this.selected)) this.nodeSelect.value = this.selected;
    }
    const shown = view.nodes.find((n) => n.id === this.nodeSelect.value);
    this.crashButton.textContent = shown !== undefined && !shown.up ? 'Restart' : 'Crash';
  }
}

export class NetworkPanel {
  readonly el: HTMLElement;
  private readonly linkFrom = h('select', { 'data-testid': 'link-from' });
  private readonly linkTo = h('select', { 'data-testid': 'link-to' });
  private readonly chips = h('div', { class: 'chips' });
  private readonly partitionInput = h('input', { type: 'text', 'data-testid': 'partition-input', placeholder: '1,2 | 3,4,5', size: 14 });
  /** The group (0, 1, 2) of each node chip. */
  private readonly groups = new Map<string, number>();
  private knownIds = '';

  constructor(
    private readonly actions: PanelActions,
    hasLeader: boolean,
  ) {
    const apply = (): void => {
      const text = this.partitionInput.value;
      const oneWay = text.includes('>');
      const groups = text
        .split(oneWay ? '>' : '|')
        .map((g) => g.split(/[\s,]+/).filter((x) => x !== ''))
        .filter((g) => g.length > 0);
      if (oneWay ? groups.length !== 2 : groups.length < 2) {
        actions.showBanner('A partition needs two or more groups, e.g. "1,2 | 3,4,5"; a one-way cut two, e.g. "1,2 > 3" (1 and 2 can no longer reach 3).');
        return;
      }
      actions.hideBanner();
      actions.dispatch(oneWay ? { kind: 'cut', from: groups[0] as string[], to: groups[1] as string[] } : { kind: 'partition', groups });
    };
    this.partitionInput.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') apply();
    });
    const loss = h('input', { type: 'number', min: 0, max: 100, step: 5, value: 30, size: 3, 'data-testid': 'link-loss' });
    const delay = h('input', { type: 'number', min: 0, step: 10, value: 0, size: 4, 'data-testid': 'link-delay' });
    const both = h('input', { type: 'checkbox', checked: true, 'data-testid': 'link-both' });
    const leaderFaults = hasLeader
      ? [
          button('Isolate leader', 'isolate-leader', 'Cut the current leader off from everyone', () => actions.dispatch({ kind: 'isolate', node: 'leader' })),
          button('Leader in minority', 'split-leader', 'Split the cluster so the leader is on the minority side', () => this.splitLeader()),
        ]
      : [];
    this.el = panel(
      'Network',
      'network-panel',
      h('div', { class: 'row' }, 'Partition: ', this.chips),
      h('div', { class: 'row' }, this.partitionInput, button('Apply', 'partition-apply', 'Cut the links between the groups ("1,2 | 3"), or one way only ("1,2 > 3": messages from 1 and 2 to 3 are lost)', apply)),
      h('div', { class: 'row' }, ...leaderFaults, button('Heal', 'heal', 'Restore every link', () => actions.dispatch({ kind: 'heal' }), 'good')),
      h('div', { class: 'row' }, 'Link ', this.linkFrom, '→', this.linkTo, h('label', {}, both, 'both ways')),
      h(
        'div',
        { class: 'row' },
        h('label', {}, 'loss ', loss, '%'),
        h('label', {}, ' delay +', delay, ' ms'),
        button('Set', 'link-apply', 'Set loss and added delay on this link', () =>
          actions.dispatch({ kind: 'link', from: this.linkFrom.value, to: this.linkTo.value, loss: Math.min(1, Math.max(0, Number(loss.value) / 100)), delayMs: Math.max(0, Math.round(Number(delay.value) || 0)), both: both.checked }),
        ),
        button('Reset', 'link-reset', 'Every link back to no loss and no added delay', () => actions.dispatch({ kind: 'link', from: '*', to: '*', loss: 0, delayMs: 0, both: false })),
      ),
    );
  }

  render(view: ClusterView): void {
    const ids = idsOf(view);
    const key = ids.join(',');
    if (key !== this.knownIds) {
      this.knownIds = key;
      fillNodeSelect(this.linkFrom, ids, ['*', 'all']);
      fillNodeSelect(this.linkTo, ids, ['*', 'all']);
      if (this.linkFrom.value === '*' && ids[0] !== undefined) this.linkFrom.value = ids[0];
    }
    this.renderChips(ids);
  }

  /** Partitions the cluster so the leader and as few others as possible are in the minority. */
  private splitLeader(): void {
    const view = this.actions.current();
    const ids = idsOf(view);
    const leader = view.leader ?? ids[0];
    if (leader === undefined) return;
    const minority = Math.max(1, Math.floor((ids.length - 1) / 2));
    const start = ids.indexOf(leader);
    const small = Array.from({ length: minority }, (_, k) => ids[(start + k) % ids.length] as string);
    const rest = ids.filter((id) => !small.includes(id));
    this.actions.dispatch({ kind: 'partition', groups: [small, rest] });
  }

  private renderChips(ids: readonly string[]): void {
    if (this.chips.childElementCount === ids.length) return;
    clear(this.chips);
    const half = Math.ceil(ids.length / 2);
    ids.forEach((id, i) => {
      if (!this.groups.has(id)) this.groups.set(id, i < half ? 0 : 1);
      const chip = h('button', { type: 'button', class: `chip g${this.groups.get(id) ?? 0}`, 'data-testid': `chip-${id}`, title: 'click to move this node to the next group' }, id);
      chip.addEventListener('click', () => {
        const g = ((this.groups.get(id) ?? 0) + 1) % 3;
        this.groups.set(id, g);
        chip.className = `chip g${g}`;
        this.syncPartitionText(ids);
      });
      this.chips.append(chip);
    });
    this.syncPartitionText(ids);
  }

  private syncPartitionText(ids: readonly string[]): void {
    const groups = [0, 1, 2].map((g) => ids.filter((id) => (this.groups.get(id) ?? 0) === g)).filter((g) => g.length > 0);
    this.partitionInput.value = groups.map((g) => g.join(',')).join(' | ');
  }
}

export class ClientPanel {
  readonly el: HTMLElement;
  private readonly targetSelect = h('select', { 'data-testid': 'client-target' });
  private readonly workload = h('input', { type: 'checkbox', 'data-testid': 'workload' });
  private knownIds = '';

  constructor(adapter: ProtocolAdapter, actions: PanelActions) {
    this.workload.addEventListener('change', () => actions.dispatch({ kind: 'workload', on: this.workload.checked }));
    const ops = adapter.clientOps.map((op) => button(op.label, `client-${op.id}`, op.title, () => actions.dispatch({ kind: 'client', op: op.id, node: this.targetSelect.value === '' ? null : this.targetSelect.value })));
    const cluster = adapter.clusterActions.map((a) => button(a.label, `cluster-action-${a.id}`, a.title, () => actions.dispatch({ kind: 'protocol', name: a.id, node: null })));
    this.el = panel(
      'Clients',
      'client-panel',
      h('div', { class: 'row' }, 'via ', this.targetSelect, ...ops),
      h('div', { class: 'row' }, h('label', { title: 'three clients issuing random operations' }, this.workload, ' background clients')),
      cluster.length > 0 ? h('div', { class: 'row' }, 'Cluster: ', ...cluster) : null,
    );
  }

  render(view: ClusterView): void {
    const ids = idsOf(view);
    const key = ids.join(',');
    if (key !== this.knownIds) {
      this.knownIds = key;
      fillNodeSelect(this.targetSelect, ids, ['', 'any node']);
    }
    this.workload.checked = view.workload;
  }
}

/** Roles, message types, links, and the marks this protocol uses (timer arc, leader star, log colours). */
export function legendPanel(adapter: ProtocolAdapter): HTMLElement {
  const roles = adapter.roles.map((r) => h('li', {}, h('span', { class: 'swatch', style: `background:${r.color}` }), r.label));
  roles.push(h('li', {}, h('span', { class: 'swatch down' }), 'down (crashed)'));
  const msgs = adapter.messageTypes.map((m) => h('li', {}, h('span', { class: m.response ? 'msg-swatch response' : 'msg-swatch', style: m.response ? `border-color:${m.color}` : `background:${m.color};border-color:${m.color}` }), `${m.type}: ${m.label}`));
  msgs.push(h('li', {}, h('span', { class: 'cross-swatch' }, '✕'), 'dropped message'));
  const marks = [
    ...(adapter.marks ?? []).map((m) => h('li', {}, h('span', { class: 'mark-swatch', style: `border-color:${m.color}` }), m.label)),
    h('li', {}, h('span', { class: 'line-swatch cut' }), 'cut link'),
    h('li', {}, h('span', { class: 'line-swatch lossy' }), 'lossy or slow link'),
    adapter.timerLabel === undefined ? null : h('li', {}, h('span', { class: 'arc-swatch' }), `${adapter.timerLabel} (time left)`),
    adapter.hasLeader ? h('li', {}, '★ leader') : null,
    h('li', {}, h('span', { class: 'pause-swatch' }), 'paused'),
  ];
  const terms = [1, 2, 3, 4, 5, 6].map((t) => h('span', { class: 'term-swatch', style: `background:${termColor(t)}` }, String(t)));
  return panel(
    'Legend',
    'legend',
    h('ul', { class: 'legend' }, ...roles),
    h('ul', { class: 'legend' }, ...msgs, h('li', {}, 'filled: request · hollow: response')),
    h('ul', { class: 'legend' }, ...marks),
    adapter.logLegend === undefined ? null : h('div', { class: 'legend-terms' }, 'Log colours: ', ...terms, ' …'),
  );
}
