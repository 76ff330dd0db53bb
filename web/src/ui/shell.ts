// The page when the local-cluster supervisor serves it: two modes behind tabs, "Live cluster"
// (the real processes, ui/live.ts) and "Simulation" (the full visualizer, ui/app.ts). The
// fragment says which: `#live`, or a simulated run (`#p=raft&...`, the link format). Only one mode
// is shown and drawn at a time; the hidden simulation is paused.
import type { LiveSource } from '../source/live.js';
import { App } from './app.js';
import { h } from './dom.js';
import { LiveApp } from './live.js';

export type Mode = 'live' | 'simulation';

const LIVE_HASH = '#live';

export class Shell {
  private mode: Mode = 'live';
  private readonly tabSets = new Set<HTMLElement>();
  private readonly app: App;
  private readonly live: LiveApp;

  constructor(root: HTMLElement, source: LiveSource) {
    const simRoot = h('div', { class: 'sim', 'data-testid': 'simulation' });
    const tabs = (): HTMLElement => this.tabs();
    this.app = new App(simRoot, { tabs });
    this.live = new LiveApp(source, tabs);
    this.app.setActive(false);
    root.append(this.live.el, simRoot);
    source.connect();
    window.addEventListener('hashchange', () => {
      if (location.hash === LIVE_HASH) {
        if (this.mode !== 'live') this.show('live');
      } else if (this.mode === 'live') {
        this.show('simulation', true);
      }
    });
    const hash = location.hash;
    this.show(hash === '' || hash === '#' || hash === LIVE_HASH ? 'live' : 'simulation', true);
  }

  /** The mode tabs, for a header (each header gets its own copy). */
  private tabs(): HTMLElement {
    for (const el of this.tabSets) if (!el.isConnected) this.tabSets.delete(el);
    const nav = h('nav', { class: 'modes', 'data-testid': 'modes', role: 'tablist' });
    for (const [mode, label, title] of [
      ['live', 'Live cluster', 'the real node processes of this `synod cluster up`'],
      ['simulation', 'Simulation', 'the deterministic simulator: time travel, faults, scenarios'],
    ] as const) {
      const b = h('button', { type: 'button', class: 'mode', role: 'tab', 'data-testid': `mode-${mode}`, 'data-mode': mode, title }, label);
      b.addEventListener('click', () => this.show(mode));
      nav.append(b);
    }
    this.tabSets.add(nav);
    this.markTabs(nav);
    return nav;
  }

  private markTabs(nav: HTMLElement): void {
    for (const b of nav.querySelectorAll<HTMLElement>('[data-mode]')) b.setAttribute('aria-selected', String(b.dataset['mode'] === this.mode));
  }

  /** Shows a mode; `fromHash`: the simulation loads the run named in the fragment. */
  show(mode: Mode, fromHash = false): void {
    this.mode = mode;
    if (mode === 'live') {
      this.app.setActive(false);
      this.live.setActive(true);
      if (location.hash !== LIVE_HASH) history.replaceState(null, '', LIVE_HASH);
      document.title = 'Synod: live cluster';
    } else {
      this.live.setActive(false);
      if (location.hash === LIVE_HASH) history.replaceState(null, '', location.pathname + location.search);
      // load before showing: showing writes the current run into the fragment
      if (fromHash || !this.app.hasRun) this.app.loadFromHash();
      this.app.setActive(true);
      document.title = 'Synod: simulation';
    }
    for (const nav of this.tabSets) this.markTabs(nav);
  }
}
