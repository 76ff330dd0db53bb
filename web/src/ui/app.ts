// The page: header (protocol, size, seed, scenario, share), time bar, the cluster ring with its
// control panels, logs, history and recent events. It draws whatever a ClusterSource gives it
// and only when something changed: the animation loop runs while playing and the tab is visible.
import { ADAPTERS, DEFAULT_ADAPTER, adapterById } from '../adapters/index.js';
import type { ProtocolAdapter } from '../adapters/types.js';
import { decodeRun, RunFormatError, type Action, type RunSpec } from '../engine/actions.js';
import { SimulationSource } from '../source/simulation.js';
import type { ClusterView } from '../source/types.js';
import { clear, formatMs, h, panel, termColor } from './dom.js';
import { HistoryPanel } from './history.js';
import { LOG_WINDOW, LogPanel } from './logs.js';
import { MonitorPanel } from './monitors.js';
import { ClusterRing } from './ring.js';

const SPEED_MIN = 5;
const SPEED_MAX = 20_000;
/** While playing, the history chart and event list redraw at most this often (wall ms). */
const SLOW_PANEL_MS = 150;

function speedToSlider(speed: number): number {
  return Math.round((1000 * Math.log(speed / SPEED_MIN)) / Math.log(SPEED_MAX / SPEED_MIN));
}

function sliderToSpeed(v: number): number {
  const raw = SPEED_MIN * Math.pow(SPEED_MAX / SPEED_MIN, v / 1000);
  const digits = Math.pow(10, Math.floor(Math.log10(raw)) - 1);
  return Math.max(SPEED_MIN, Math.round(raw / digits) * digits);
}

function button(label: string, testid: string, title: string, onClick: () => void, cls = ''): HTMLButtonElement {
  const b = h('button', { type: 'button', 'data-testid': testid, title, class: cls }, label);
  b.addEventListener('click', onClick);
  return b;
}

function select(testid: string, options: readonly (readonly [string, string])[], value: string): HTMLSelectElement {
  const el = h('select', { 'data-testid': testid });
  for (const [v, label] of options) el.append(h('option', { value: v }, label));
  el.value = value;
  return el;
}

/** While scrubbing back, a drawn frame this close (virtual ms) stands in until the replay. */
const PREVIEW_SLACK_MS = 150;
const SCRUB_SETTLE_MS = 250;
const FRAME_SPACING_MS = 25;
const MAX_FRAMES = 1500;

/** Views drawn earlier, by time, for instant previews while scrubbing back. */
class FrameCache {
  private frames: ClusterView[] = [];

  add(view: ClusterView): void {
    if (view.failure !== null) return;
    const i = this.indexAfter(view.timeMs);
    const before = this.frames[i - 1];
    const after = this.frames[i];
    if ((before !== undefined && view.timeMs - before.timeMs < FRAME_SPACING_MS) || (after !== undefined && after.timeMs - view.timeMs < FRAME_SPACING_MS)) return;
    // monitors are live objects of the session: keep a copy as they are now
    this.frames.splice(i, 0, { ...view, monitors: view.monitors.map((m) => ({ ...m })) });
    if (this.frames.length > MAX_FRAMES) this.frames = this.frames.filter((_, k) => k % 2 === 0);
  }

  /** The latest frame at or before `ms`, if it is within PREVIEW_SLACK_MS. */
  near(ms: number): ClusterView | undefined {
    const f = this.frames[this.indexAfter(ms) - 1];
    return f !== undefined && ms - f.timeMs <= PREVIEW_SLACK_MS ? f : undefined;
  }

  dropAfter(ms: number): void {
    this.frames.length = this.indexAfter(ms);
  }

  /** Index of the first frame later than `ms`. */
  private indexAfter(ms: number): number {
    let lo = 0;
    let hi = this.frames.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.frames[mid] as ClusterView).timeMs <= ms) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

export interface AppOptions {
  /** Live mode is available too: the header shows these mode tabs in place of the full title. */
  readonly tabs?: () => HTMLElement;
}

export class App {
  private source!: SimulationSource;
  private loaded = false;
  private active = true;
  private adapter: ProtocolAdapter = DEFAULT_ADAPTER;
  private readonly header = h('header', { class: 'top' });
  private readonly timebar = h('div', { class: 'timebar', 'data-testid': 'timebar' });
  private readonly body = h('div', { class: 'body' });
  private readonly banner = h('div', { class: 'banner', 'data-testid': 'banner', hidden: true });
  private readonly status = h('div', { class: 'status', 'data-testid': 'status' });
  private ring!: ClusterRing;
  private logs!: LogPanel;
  private history!: HistoryPanel;
  private monitors!: MonitorPanel;
  private readonly caption = h('div', { class: 'caption', 'data-testid': 'caption' });
  private readonly events = h('ol', { class: 'events', 'data-testid': 'events' });
  private readonly nodeSelect = h('select', { 'data-testid': 'node-select' });
  private readonly targetSelect = h('select', { 'data-testid': 'client-target' });
  private readonly linkFrom = h('select', { 'data-testid': 'link-from' });
  private readonly linkTo = h('select', { 'data-testid': 'link-to' });
  private readonly chips = h('div', { class: 'chips' });
  private readonly partitionInput = h('input', { type: 'text', 'data-testid': 'partition-input', placeholder: '1,2 | 3,4,5', size: 14 });
  private readonly workload = h('input', { type: 'checkbox', 'data-testid': 'workload' });
  private readonly crashButton = h('button', { type: 'button', 'data-testid': 'node-crash' }, 'Crash');
  private readonly playButton = h('button', { type: 'button', 'data-testid': 'play', class: 'primary' }, '▶ Play');
  private readonly scrubber = h('input', { type: 'range', min: 0, max: 1000, step: 1, value: 0, 'data-testid': 'scrubber', class: 'scrubber' });
  private readonly speed = h('input', { type: 'range', min: 0, max: 1000, step: 1, 'data-testid': 'speed' });
  private readonly speedLabel = h('span', { class: 'speed-label', 'data-testid': 'speed-label' });
  private readonly timeLabel = h('span', { class: 'time', 'data-testid': 'time' });
  private readonly gotoInput = h('input', { type: 'number', min: 0, step: 10, 'data-testid': 'goto-input', size: 7, placeholder: 'ms' });
  private readonly shareUrl = h('input', { type: 'text', readonly: true, 'data-testid': 'share-url', class: 'share-url' });
  private groups = new Map<string, number>();
  private selected: string | null = null;
  private raf = 0;
  private lastFrame: number | null = null;
  private dirty = true;
  private lastSlowPanels = -Infinity;
  private unsubscribe: (() => void) | null = null;
  private knownIds = '';
  private frames = new FrameCache();
  private preview: ClusterView | undefined;
  private previewTarget: number | null = null;
  /** The view drawn last (what the user sees and clicks on). */
  private shown: ClusterView | undefined;
  private pendingSeek: number | null = null;
  private syncHashSoon = false;
  private scrubTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly root: HTMLElement,
    private readonly options: AppOptions = {},
  ) {
    root.append(this.header, this.timebar, this.banner, this.body);
    this.buildTimebar();
    document.addEventListener('visibilitychange', () => {
      if (!this.active) return;
      if (document.hidden) {
        cancelAnimationFrame(this.raf);
        this.raf = 0;
      } else {
        this.lastFrame = null;
        this.schedule();
      }
    });
    window.addEventListener('hashchange', () => {
      if (this.active && location.hash !== '#live') this.loadFromHash();
    });
    document.addEventListener('keydown', (e) => {
      if (!this.active || !this.loaded) return;
      const target = e.target as HTMLElement | null;
      if (target !== null && (target.tagName === 'INPUT' || target.tagName === 'SELECT' || target.tagName === 'TEXTAREA')) return;
      if (e.key === ' ') {
        // a focused button takes the space bar itself
        if (target?.tagName === 'BUTTON') return;
        e.preventDefault();
        this.togglePlay();
      } else if (e.key === 'ArrowRight' || e.key === '.') {
        this.settle();
        this.source.step();
      }
    });
  }

  /** Whether a run was loaded (the page may open in live mode first). */
  get hasRun(): boolean {
    return this.loaded;
  }

  /** Shows or hides the simulation (with live mode beside it); hidden, it pauses and stops drawing. */
  setActive(active: boolean): void {
    this.active = active;
    this.root.hidden = !active;
    if (!active) {
      if (this.loaded && this.source.playing) this.source.pause();
      cancelAnimationFrame(this.raf);
      this.raf = 0;
      return;
    }
    if (!this.loaded) return;
    this.syncHash();
    this.dirty = true;
    this.lastFrame = null;
    this.schedule();
  }

  // ---------------------------------------------------------------- loading runs

  loadFromHash(): void {
    const hash = location.hash;
    if (hash.length <= 1) {
      this.load({ protocol: DEFAULT_ADAPTER.id, nodes: DEFAULT_ADAPTER.nodes.initial, seed: 1, actions: [] }, null, true);
      return;
    }
    try {
      const { run, timeMs } = decodeRun(hash, { protocol: DEFAULT_ADAPTER.id, nodes: DEFAULT_ADAPTER.nodes.initial, seed: 1 });
      this.hideBanner();
      // a link to a moment opens paused there; a link to a run plays it from the start
      this.load(run, timeMs, timeMs === null);
    } catch (err) {
      this.showBanner(err instanceof RunFormatError ? `Cannot open this link: ${err.message}` : String(err));
      this.load({ protocol: DEFAULT_ADAPTER.id, nodes: DEFAULT_ADAPTER.nodes.initial, seed: 1, actions: [] }, null, false);
    }
  }

  load(requested: RunSpec, timeMs: number | null, play: boolean): void {
    const adapter = adapterById(requested.protocol);
    let run = requested;
    if (adapter === undefined) {
      this.showBanner(`Unknown protocol "${requested.protocol}"; showing ${DEFAULT_ADAPTER.title} instead.`);
      run = { ...requested, protocol: DEFAULT_ADAPTER.id };
    }
    this.adapter = adapter ?? DEFAULT_ADAPTER;
    const nodes = Math.min(this.adapter.nodes.max, Math.max(this.adapter.nodes.min, run.nodes));
    if (nodes !== run.nodes) run = { ...run, nodes };
    this.source?.dispose();
    this.unsubscribe?.();
    this.source = new SimulationSource(this.adapter, run);
    this.loaded = true;
    this.unsubscribe = this.source.onChange(() => {
      this.dirty = true;
      this.schedule();
    });
    this.selected = null;
    this.groups = new Map();
    this.knownIds = '';
    this.frames = new FrameCache();
    this.preview = undefined;
    this.pendingSeek = null;
    this.buildHeader();
    this.buildBody();
    this.speed.value = String(speedToSlider(this.source.speed));
    this.speedLabel.textContent = `${this.source.speed} ms/s`;
    if (timeMs !== null) this.source.seek(timeMs);
    if (play) this.source.play();
    this.syncHash();
    this.dirty = true;
    this.lastSlowPanels = -Infinity;
    this.schedule();
  }

  private newRun(protocol: string, nodes: number, seed: number, scenario: string | null): void {
    this.hideBanner();
    const adapter = adapterById(protocol) ?? DEFAULT_ADAPTER;
    const sc = scenario === null ? undefined : adapter.scenarios.find((x) => x.id === scenario);
    if (sc !== undefined) {
      const actions = sc.driven === true ? [] : sc.steps.flatMap((st) => (st.action === undefined ? [] : [{ at: st.atMs, action: st.action }]));
      this.load({ protocol: adapter.id, nodes: sc.nodes, seed: sc.seed, actions, scenario: sc.id }, null, true);
    } else {
      this.load({ protocol: adapter.id, nodes, seed, actions: [] }, null, true);
    }
  }

  private showBanner(message: string): void {
    this.banner.textContent = message;
    this.banner.hidden = false;
  }

  private hideBanner(): void {
    this.banner.hidden = true;
  }

  private syncHash(): void {
    const fragment = this.source.shareFragment();
    history.replaceState(null, '', `#${fragment}`);
    this.shareUrl.value = location.href;
  }

  // ---------------------------------------------------------------- building the page

  private buildHeader(): void {
    clear(this.header);
    const run = this.source.run;
    const protocol = select('protocol', ADAPTERS.map((a) => [a.id, a.title]), this.adapter.id);
    const sizes: [string, string][] = [];
    for (let n = this.adapter.nodes.min; n <= this.adapter.nodes.max; n++) sizes.push([String(n), `${n} nodes`]);
    const nodes = select('nodes', sizes, String(run.nodes));
    const seed = h('input', { type: 'number', min: 0, step: 1, value: run.seed, 'data-testid': 'seed', class: 'seed', title: 'seed: the same seed and actions give the same run' });
    const scenarios = select('scenario', [['', '— free play —'], ...this.adapter.scenarios.map((sc) => [sc.id, sc.title] as const)], run.scenario ?? '');
    const start = (): void => this.newRun(protocol.value, Number(nodes.value), Math.max(0, Math.floor(Number(seed.value) || 0)), null);
    protocol.addEventListener('change', () => this.newRun(protocol.value, (adapterById(protocol.value) ?? DEFAULT_ADAPTER).nodes.initial, Number(seed.value) || 1, null));
    nodes.addEventListener('change', start);
    scenarios.addEventListener('change', () => this.newRun(protocol.value, Number(nodes.value), Number(seed.value) || 1, scenarios.value === '' ? null : scenarios.value));
    const share = button('Copy link', 'share', 'Put this run (seed, actions, current time) in the address bar and copy it', () => {
      this.syncHash();
      this.shareUrl.select();
      void navigator.clipboard?.writeText(location.href).catch(() => undefined);
    });
    const tabs = this.options.tabs?.();
    this.header.append(tabs !== undefined ? h('h1', {}, 'Synod') : h('h1', {}, 'Synod ', h('span', { class: 'dim' }, 'cluster visualizer')));
    if (tabs !== undefined) this.header.append(tabs);
    this.header.append(
      h('label', {}, 'Protocol ', protocol),
      h('label', {}, nodes),
      h('label', {}, 'Seed ', seed),
      button('New run', 'new-run', 'Start a fresh run with this protocol, size and seed', start),
      button('Random seed', 'random-seed', 'New run with a random seed', () => {
        seed.value = String(Math.floor(Math.random() * 1_000_000));
        start();
      }),
      h('label', {}, 'Scenario ', scenarios),
      h('span', { class: 'spacer' }),
      share,
      this.shareUrl,
    );
  }

  private buildTimebar(): void {
    this.playButton.addEventListener('click', () => this.togglePlay());
    this.speed.addEventListener('input', () => {
      this.source.speed = sliderToSpeed(Number(this.speed.value));
      this.speedLabel.textContent = `${this.source.speed} ms/s`;
    });
    this.scrubber.addEventListener('input', () => this.scrub(Number(this.scrubber.value), false));
    this.scrubber.addEventListener('change', () => this.scrub(Number(this.scrubber.value), true));
    const go = (): void => {
      const v = Number(this.gotoInput.value);
      if (!Number.isFinite(v) || v < 0) return;
      this.source.pause();
      this.source.seek(v);
      this.syncHash();
    };
    this.gotoInput.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') go();
    });
    this.timebar.append(
      this.playButton,
      button('Step', 'step', 'Process the next event (→)', () => {
        this.settle();
        this.source.step();
        this.syncHash();
      }),
      h('label', { class: 'speed', title: 'virtual milliseconds per real second' }, 'Speed ', this.speed, this.speedLabel),
      this.scrubber,
      this.timeLabel,
      h('label', { title: 'jump to a virtual time (ms)' }, 'Go to ', this.gotoInput),
      button('Go', 'goto', 'Jump to this time', go),
    );
  }

  /**
   * Scrubbing. Going back means replaying from the seed, which takes a while for long runs, so
   * while the handle moves the page shows the nearest frame it drew before (if close enough) and
   * replays once the handle rests; going forward just runs on.
   */
  private scrub(ms: number, final: boolean): void {
    if (this.source.playing) this.source.pause();
    clearTimeout(this.scrubTimer);
    const preview = ms < this.source.nowMs ? this.frames.near(ms) : undefined;
    if (preview !== undefined && !final) {
      this.preview = preview;
      this.previewTarget = ms;
      this.dirty = true;
      this.schedule();
      this.scrubTimer = setTimeout(() => this.scrub(ms, true), SCRUB_SETTLE_MS);
      return;
    }
    this.preview = undefined;
    this.pendingSeek = ms;
    this.dirty = true;
    this.schedule();
    if (final) this.syncHashSoon = true;
  }

  /** Finishes a scrub in progress, so an action or a step happens at the time on screen. */
  private settle(): void {
    clearTimeout(this.scrubTimer);
    const target = this.preview !== undefined ? this.previewTarget : this.pendingSeek;
    this.preview = undefined;
    this.pendingSeek = null;
    if (target !== null) this.source.seek(target);
  }

  private togglePlay(): void {
    this.settle();
    if (this.source.playing) {
      this.source.pause();
      this.syncHash();
    } else {
      this.lastFrame = null;
      this.source.play();
    }
  }

  private dispatch(action: Action): void {
    this.settle();
    this.source.dispatch(action);
    // the future changed: frames drawn after this moment belong to the old branch
    this.frames.dropAfter(this.source.nowMs);
    this.syncHash();
  }

  private buildBody(): void {
    clear(this.body);
    const adapter = this.adapter;
    this.ring = new ClusterRing(adapter, {
      nodeClick: (id) => {
        this.selectNode(id);
        this.dispatch(this.isUp(id) ? { kind: 'crash', node: id } : { kind: 'restart', node: id });
      },
      nodeContext: (id) => this.selectNode(id),
      messageClick: (id) => this.dispatch({ kind: 'drop', msg: id }),
    });
    this.logs = new LogPanel(adapter);
    this.history = new HistoryPanel();
    this.monitors = new MonitorPanel((ms) => {
      this.source.pause();
      this.source.seek(ms);
      this.syncHash();
    });
    const stage = h('section', { class: 'stage' }, h('p', { class: 'blurb' }, adapter.blurb), this.caption, this.ring.svg, this.status);
    const side = h('aside', { class: 'side' }, this.nodePanel(), this.networkPanel(), this.clientPanel(), panel('Safety monitors', 'monitor-panel', this.monitors.el), this.legendPanel());
    this.body.append(
      h('div', { class: 'main' }, h('div', { class: 'left' }, stage, panel('Logs', 'log-panel', this.logs.el)), side),
      h('div', { class: 'lower' }, panel('Client history', 'history-panel', this.history.el), panel('Recent events', 'event-panel', this.events)),
    );
  }

  private isUp(id: string): boolean {
    return this.shown?.nodes.find((n) => n.id === id)?.up ?? true;
  }

  private selectNode(id: string | null): void {
    this.selected = id;
    this.ring.select(id);
    if (id !== null) this.nodeSelect.value = id;
    this.dirty = true;
    this.schedule();
  }

  private nodePanel(): HTMLElement {
    const pauseMs = h('input', { type: 'number', min: 10, step: 100, value: 1000, size: 5, 'data-testid': 'pause-ms' });
    this.nodeSelect.addEventListener('change', () => this.selectNode(this.nodeSelect.value));
    const node = (): string => this.nodeSelect.value;
    this.crashButton.onclick = () => {
      const id = node();
      if (id === '') return;
      this.dispatch(this.isUp(id) ? { kind: 'crash', node: id } : { kind: 'restart', node: id });
    };
    const actions = this.adapter.nodeActions.map((a) => button(a.label, `node-action-${a.id}`, a.title, () => node() !== '' && this.dispatch({ kind: 'protocol', name: a.id, node: node() })));
    return panel(
      'Node',
      'node-panel',
      h('div', { class: 'row' }, this.nodeSelect, this.crashButton, button('Isolate', 'node-isolate', 'Cut this node off from all others', () => node() !== '' && this.dispatch({ kind: 'isolate', node: node() }))),
      h('div', { class: 'row' }, button('Pause', 'node-pause', 'Stop-the-world pause: the node handles nothing for a while', () => node() !== '' && this.dispatch({ kind: 'pause', node: node(), ms: Math.max(1, Number(pauseMs.value) || 1000) })), 'for ', pauseMs, ' ms'),
      actions.length > 0 ? h('div', { class: 'row' }, ...actions) : null,
      h('p', { class: 'hint' }, 'Click a node to crash or restart it; right-click to select it here. Click a message in flight to drop it.'),
    );
  }

  private networkPanel(): HTMLElement {
    const apply = (): void => {
      const groups = this.partitionInput.value
        .split('|')
        .map((g) => g.split(/[\s,]+/).filter((x) => x !== ''))
        .filter((g) => g.length > 0);
      if (groups.length < 2) {
        this.showBanner('A partition needs two or more groups, e.g. "1,2 | 3,4,5".');
        return;
      }
      this.hideBanner();
      this.dispatch({ kind: 'partition', groups });
    };
    this.partitionInput.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') apply();
    });
    const loss = h('input', { type: 'number', min: 0, max: 100, step: 5, value: 30, size: 3, 'data-testid': 'link-loss' });
    const delay = h('input', { type: 'number', min: 0, step: 10, value: 0, size: 4, 'data-testid': 'link-delay' });
    const both = h('input', { type: 'checkbox', checked: true, 'data-testid': 'link-both' });
    return panel(
      'Network',
      'network-panel',
      h('div', { class: 'row' }, 'Partition: ', this.chips),
      h('div', { class: 'row' }, this.partitionInput, button('Apply', 'partition-apply', 'Cut the links between the groups', apply)),
      h(
        'div',
        { class: 'row' },
        button('Isolate leader', 'isolate-leader', 'Cut the current leader off from everyone', () => this.dispatch({ kind: 'isolate', node: 'leader' })),
        button('Leader in minority', 'split-leader', 'Split the cluster so the leader is on the minority side', () => this.splitLeader()),
        button('Heal', 'heal', 'Restore every link', () => this.dispatch({ kind: 'heal' }), 'good'),
      ),
      h('div', { class: 'row' }, 'Link ', this.linkFrom, '→', this.linkTo, h('label', {}, both, 'both ways')),
      h(
        'div',
        { class: 'row' },
        h('label', {}, 'loss ', loss, '%'),
        h('label', {}, ' delay +', delay, ' ms'),
        button('Set', 'link-apply', 'Set loss and added delay on this link', () =>
          this.dispatch({ kind: 'link', from: this.linkFrom.value, to: this.linkTo.value, loss: Math.min(1, Math.max(0, Number(loss.value) / 100)), delayMs: Math.max(0, Math.round(Number(delay.value) || 0)), both: both.checked }),
        ),
        button('Reset', 'link-reset', 'Every link back to no loss and no added delay', () => this.dispatch({ kind: 'link', from: '*', to: '*', loss: 0, delayMs: 0, both: false })),
      ),
    );
  }

  private splitLeader(): void {
    const view = this.source.view(1);
    const ids = view.nodes.map((n) => n.id);
    const leader = view.leader ?? ids[0];
    if (leader === undefined) return;
    const minority = Math.max(1, Math.floor((ids.length - 1) / 2));
    const start = ids.indexOf(leader);
    const small = Array.from({ length: minority }, (_, k) => ids[(start + k) % ids.length] as string);
    const rest = ids.filter((id) => !small.includes(id));
    this.dispatch({ kind: 'partition', groups: [small, rest] });
  }

  private clientPanel(): HTMLElement {
    this.workload.addEventListener('change', () => this.dispatch({ kind: 'workload', on: this.workload.checked }));
    const ops = this.adapter.clientOps.map((op) => button(op.label, `client-${op.id}`, op.title, () => this.dispatch({ kind: 'client', op: op.id, node: this.targetSelect.value === '' ? null : this.targetSelect.value })));
    const cluster = this.adapter.clusterActions.map((a) => button(a.label, `cluster-action-${a.id}`, a.title, () => this.dispatch({ kind: 'protocol', name: a.id, node: null })));
    return panel(
      'Clients',
      'client-panel',
      h('div', { class: 'row' }, 'via ', this.targetSelect, ...ops),
      h('div', { class: 'row' }, h('label', { title: 'three clients issuing random operations' }, this.workload, ' background clients')),
      cluster.length > 0 ? h('div', { class: 'row' }, 'Cluster: ', ...cluster) : null,
    );
  }

  private legendPanel(): HTMLElement {
    const a = this.adapter;
    const roles = a.roles.map((r) => h('li', {}, h('span', { class: 'swatch', style: `background:${r.color}` }), r.label));
    roles.push(h('li', {}, h('span', { class: 'swatch down' }), 'down (crashed)'));
    const msgs = a.messageTypes.map((m) => h('li', {}, h('span', { class: m.response ? 'msg-swatch response' : 'msg-swatch', style: m.response ? `border-color:${m.color}` : `background:${m.color};border-color:${m.color}` }), `${m.type}: ${m.label}`));
    msgs.push(h('li', {}, h('span', { class: 'cross-swatch' }, '✕'), 'dropped message'));
    const terms = [1, 2, 3, 4, 5, 6].map((t) => h('span', { class: 'term-swatch', style: `background:${termColor(t)}` }, String(t)));
    return panel(
      'Legend',
      'legend',
      h('ul', { class: 'legend' }, ...roles),
      h('ul', { class: 'legend' }, ...msgs, h('li', {}, 'filled: request · hollow: response')),
      h('ul', { class: 'legend' }, h('li', {}, h('span', { class: 'line-swatch cut' }), 'cut link'), h('li', {}, h('span', { class: 'line-swatch lossy' }), 'lossy or slow link'), h('li', {}, h('span', { class: 'arc-swatch' }), 'election timer (time left)'), h('li', {}, '★ leader'), h('li', {}, h('span', { class: 'pause-swatch' }), 'paused')),
      h('div', { class: 'legend-terms' }, 'Log colours: ', ...terms, ' …'),
    );
  }

  // ---------------------------------------------------------------- drawing

  private schedule(): void {
    if (this.raf !== 0 || document.hidden || !this.active) return;
    this.raf = requestAnimationFrame((ts) => this.frame(ts));
  }

  private frame(ts: number): void {
    this.raf = 0;
    const dt = this.lastFrame === null ? 16 : ts - this.lastFrame;
    this.lastFrame = ts;
    if (this.pendingSeek !== null) {
      const target = this.pendingSeek;
      this.pendingSeek = null;
      this.source.seek(target);
      if (this.syncHashSoon) {
        this.syncHashSoon = false;
        this.syncHash();
      }
    }
    if (this.source.tick(dt)) this.dirty = true;
    if (this.dirty) {
      this.dirty = false;
      this.render();
    }
    if (this.source.playing) this.schedule();
    else this.lastFrame = null;
  }

  private render(): void {
    const live = this.preview === undefined;
    const view = this.preview ?? this.source.view(LOG_WINDOW);
    if (live) this.frames.add(view);
    this.shown = view;
    this.status.dataset['preview'] = String(!live);
    this.refreshNodeLists(view);
    this.ring.render(view);
    this.monitors.render(view);
    const wall = performance.now();
    if (!this.source.playing || wall - this.lastSlowPanels > SLOW_PANEL_MS) {
      this.lastSlowPanels = wall;
      this.logs.render(view);
      this.history.render(view);
      this.renderEvents(view);
    }
    this.renderTime(view);
    this.renderStatus(view);
    this.caption.textContent = view.caption ?? '';
    this.caption.hidden = view.caption === null;
    const selected = this.nodeSelect.value;
    const selNode = view.nodes.find((n) => n.id === selected);
    this.crashButton.textContent = selNode !== undefined && !selNode.up ? 'Restart' : 'Crash';
    this.workload.checked = view.workload;
  }

  private refreshNodeLists(view: ClusterView): void {
    const ids = view.nodes.map((n) => n.id);
    const key = ids.join(',');
    if (key === this.knownIds) {
      this.renderChips(view);
      return;
    }
    this.knownIds = key;
    const fill = (el: HTMLSelectElement, first: [string, string] | null): void => {
      const value = el.value;
      clear(el);
      if (first !== null) el.append(h('option', { value: first[0] }, first[1]));
      for (const id of ids) el.append(h('option', { value: id }, `node ${id}`));
      el.value = value !== '' && (ids.includes(value) || value === first?.[0]) ? value : (first?.[0] ?? ids[0] ?? '');
    };
    fill(this.nodeSelect, null);
    if (this.selected !== null && ids.includes(this.selected)) this.nodeSelect.value = this.selected;
    fill(this.targetSelect, ['', 'any node']);
    fill(this.linkFrom, ['*', 'all']);
    fill(this.linkTo, ['*', 'all']);
    if (this.linkFrom.value === '*' && ids[0] !== undefined) this.linkFrom.value = ids[0];
    this.renderChips(view);
  }

  private renderChips(view: ClusterView): void {
    const ids = view.nodes.map((n) => n.id);
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

  private renderTime(view: ClusterView): void {
    const end = this.source.endMs;
    this.scrubber.max = String(Math.max(end, view.timeMs));
    if (document.activeElement !== this.scrubber) this.scrubber.value = String(view.timeMs);
    this.timeLabel.textContent = `${formatMs(view.timeMs)} / ${formatMs(end)}`;
    this.playButton.textContent = this.source.playing ? 'Pause' : '▶ Play';
    this.playButton.dataset['playing'] = String(this.source.playing);
  }

  private renderStatus(view: ClusterView): void {
    const st = this.status;
    st.dataset['time'] = String(view.timeMs);
    st.dataset['events'] = String(view.events);
    st.dataset['traceHash'] = view.traceHash;
    st.dataset['stateHash'] = view.stateHash;
    st.dataset['leader'] = view.leader ?? '';
    st.dataset['inFlight'] = String(view.messages.filter((m) => m.state === 'flight').length);
    const up = view.nodes.filter((n) => n.up).length;
    st.textContent = `t = ${view.timeMs} ms · ${view.events} events · ${up}/${view.nodes.length} up · ${st.dataset['inFlight']} messages in flight${view.leader !== null ? ` · leader ${view.leader}` : ''} · fingerprint ${view.traceHash.slice(0, 8)}`;
    if (view.failure !== null) this.showBanner(view.failure);
  }

  private renderEvents(view: ClusterView): void {
    clear(this.events);
    for (const line of [...view.recent].reverse()) this.events.append(h('li', {}, line));
  }
}
