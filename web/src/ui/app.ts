// The simulation page: composes the header, the time bar, the ring, the control panels, the logs,
// the client history and the recent events around one SimulationSource per run, and runs the
// drawing loop: it draws only when something changed, and animates only while playing and visible.
import { DEFAULT_ADAPTER, adapterById } from '../adapters/index.js';
import type { ProtocolAdapter } from '../adapters/types.js';
import { decodeRun, RunFormatError, type Action, type RunSpec } from '../engine/actions.js';
import { SimulationSource } from '../source/simulation.js';
import type { ClusterView } from '../source/types.js';
import { clear, h, panel } from './dom.js';
import { FrameCache } from './frames.js';
import { Header } from './header.js';
import { HistoryPanel } from './history.js';
import { LOG_WINDOW, LogPanel } from './logs.js';
import { MonitorPanel } from './monitors.js';
import { AdapterPanels } from './panel-views.js';
import { ClientPanel, legendPanel, NetworkPanel, NodePanel, type PanelActions } from './panels.js';
import { CrowdRing } from './crowd.js';
import { ClusterRing } from './ring.js';
import { TimeBar } from './timebar.js';

/** While playing, the history chart and event list redraw at most this often (wall ms). */
const SLOW_PANEL_MS = 150;
/** How long the scrubber must rest before a preview is replaced by the replayed state. */
const SCRUB_SETTLE_MS = 250;
/** Clusters larger than this are drawn as a crowd of dots (ui/crowd.ts) instead of the ring. */
const RING_MAX_NODES = 12;

export interface AppOptions {
  /** Live mode is available too: the header shows these mode tabs in place of the full title. */
  readonly tabs?: () => HTMLElement;
}

/** What is built for each run (a new run rebuilds them). */
interface RunParts {
  readonly ring: ClusterRing | CrowdRing;
  /** Absent when the protocol's nodes have no log. */
  readonly logs: LogPanel | undefined;
  readonly extra: AdapterPanels;
  readonly history: HistoryPanel;
  readonly monitors: MonitorPanel;
  readonly node: NodePanel;
  readonly network: NetworkPanel;
  readonly client: ClientPanel;
}

export class App {
  private source!: SimulationSource;
  private parts!: RunParts;
  private loaded = false;
  private active = true;
  private adapter: ProtocolAdapter = DEFAULT_ADAPTER;
  private readonly header: Header;
  private readonly timebar: TimeBar;
  private readonly body = h('div', { class: 'body' });
  private readonly banner = h('div', { class: 'banner', 'data-testid': 'banner', hidden: true });
  private readonly status = h('div', { class: 'status', 'data-testid': 'status' });
  private readonly caption = h('div', { class: 'caption', 'data-testid': 'caption' });
  private readonly events = h('ol', { class: 'events', 'data-testid': 'events' });
  private raf = 0;
  private lastFrame: number | null = null;
  private dirty = true;
  private lastSlowPanels = -Infinity;
  private unsubscribe: (() => void) | null = null;
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
    options: AppOptions = {},
  ) {
    this.header = new Header({ newRun: (p, n, s, sc) => this.newRun(p, n, s, sc), syncHash: () => this.syncHash() }, options.tabs);
    this.timebar = new TimeBar({
      togglePlay: () => this.togglePlay(),
      step: () => {
        this.settle();
        this.source.step();
        this.syncHash();
      },
      setSpeed: (speed) => {
        this.source.speed = speed;
      },
      scrub: (ms, final) => this.scrub(ms, final),
      goTo: (ms) => {
        this.source.pause();
        this.source.seek(ms);
        this.syncHash();
      },
    });
    root.append(this.header.el, this.timebar.el, this.banner, this.body);
    document.addEventListener('visibilitychange', () => this.onVisibility());
    window.addEventListener('hashchange', () => {
      if (this.active && location.hash !== '#live') this.loadFromHash();
    });
    document.addEventListener('keydown', (e) => this.onKey(e));
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

  private onVisibility(): void {
    if (!this.active) return;
    if (document.hidden) {
      cancelAnimationFrame(this.raf);
      this.raf = 0;
    } else {
      this.lastFrame = null;
      this.schedule();
    }
  }

  private onKey(e: KeyboardEvent): void {
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
  }

  // ---------------------------------------------------------------- loading runs

  loadFromHash(): void {
    const hash = location.hash;
    const fallback: RunSpec = { protocol: DEFAULT_ADAPTER.id, nodes: DEFAULT_ADAPTER.nodes.initial, seed: 1, actions: [] };
    if (hash.length <= 1) {
      this.load(fallback, null, true);
      return;
    }
    try {
      const { run, timeMs } = decodeRun(hash, { protocol: DEFAULT_ADAPTER.id, nodes: DEFAULT_ADAPTER.nodes.initial, seed: 1 });
      this.hideBanner();
      // a link to a moment opens paused there; a link to a run plays it from the start
      this.load(run, timeMs, timeMs === null);
    } catch (err) {
      this.showBanner(err instanceof RunFormatError ? `Cannot open this link: ${err.message}` : String(err));
      this.load(fallback, null, false);
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
    this.frames = new FrameCache();
    this.preview = undefined;
    this.pendingSeek = null;
    this.header.build(this.adapter, this.source.run);
    this.buildBody();
    this.timebar.showSpeed(this.source.speed);
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
    this.header.shareUrl.value = location.href;
  }

  // ---------------------------------------------------------------- acting on the run

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

  private isUp(id: string): boolean {
    return this.shown?.nodes.find((n) => n.id === id)?.up ?? true;
  }

  private selectNode(id: string | null): void {
    this.parts.ring.select(id);
    this.source.select(id);
    this.parts.node.select(id);
    this.dirty = true;
    this.schedule();
  }

  // ---------------------------------------------------------------- building the page

  private buildBody(): void {
    clear(this.body);
    const adapter = this.adapter;
    const actions: PanelActions = {
      dispatch: (a) => this.dispatch(a),
      selectNode: (id) => this.selectNode(id),
      isUp: (id) => this.isUp(id),
      current: () => this.source.view(1),
      showBanner: (m) => this.showBanner(m),
      hideBanner: () => this.hideBanner(),
    };
    const handlers = {
      nodeClick: (id: string) => {
        this.selectNode(id);
        this.dispatch(this.isUp(id) ? { kind: 'crash', node: id } : { kind: 'restart', node: id });
      },
      nodeContext: (id: string) => this.selectNode(id),
      messageClick: (id: number) => this.dispatch({ kind: 'drop', msg: id }),
    };
    const ring = this.source.run.nodes > RING_MAX_NODES ? new CrowdRing(adapter, handlers) : new ClusterRing(adapter, handlers);
    const monitors = new MonitorPanel((ms) => {
      this.source.pause();
      this.source.seek(ms);
      this.syncHash();
    });
    this.parts = {
      ring,
      logs: adapter.logLegend === undefined ? undefined : new LogPanel(adapter),
      extra: new AdapterPanels(adapter.panels ?? [], { dispatch: (a) => this.dispatch(a) }),
      history: new HistoryPanel(),
      monitors,
      node: new NodePanel(adapter, actions),
      network: new NetworkPanel(actions, adapter.hasLeader),
      client: new ClientPanel(adapter, actions),
    };
    const p = this.parts;
    const stage = h('section', { class: 'stage' }, h('p', { class: 'blurb' }, adapter.blurb), this.caption, ring.svg, this.status);
    const logs = p.logs === undefined ? null : panel('Logs', 'log-panel', p.logs.el);
    const side = h('aside', { class: 'side' }, p.node.el, p.network.el, p.client.el, ...p.extra.at('side'), panel('Safety monitors', 'monitor-panel', monitors.el), legendPanel(adapter));
    this.body.append(
      h('div', { class: 'main' }, h('div', { class: 'left' }, stage, logs, ...p.extra.at('main')), side),
      h('div', { class: 'lower' }, panel('Client history', 'history-panel', p.history.el), panel('Recent events', 'event-panel', this.events), ...p.extra.at('lower')),
    );
  }

  // ---------------------------------------------------------------- the loop and drawing

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
    const p = this.parts;
    p.node.render(view);
    p.network.render(view);
    p.client.render(view);
    p.ring.render(view);
    p.monitors.render(view);
    const wall = performance.now();
    if (!this.source.playing || wall - this.lastSlowPanels > SLOW_PANEL_MS) {
      this.lastSlowPanels = wall;
      p.logs?.render(view);
      p.extra.render(view.panels, view.nodes.map((n) => n.id));
      p.history.render(view);
      this.renderEvents(view);
    }
    this.timebar.render(view, this.source.endMs, this.source.playing);
    this.renderStatus(view);
    this.caption.textContent = view.caption ?? '';
    this.caption.hidden = view.caption === null;
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
