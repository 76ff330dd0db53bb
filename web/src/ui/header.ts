// The simulation page's header: protocol, cluster size, seed, guided scenario, new run, random
// seed and the share link. Choosing anything starts a new run through `newRun`.
import { ADAPTERS, DEFAULT_ADAPTER, adapterById } from '../adapters/index.js';
import type { ProtocolAdapter } from '../adapters/types.js';
import type { RunSpec } from '../engine/actions.js';
import { button, clear, h, select } from './dom.js';

export interface HeaderActions {
  newRun(protocol: string, nodes: number, seed: number, scenario: string | null): void;
  /** Puts the current run into the address bar (and the share box). */
  syncHash(): void;
}

export class Header {
  readonly el = h('header', { class: 'top' });
  /** The link to the run on screen (kept up to date by the page). */
  readonly shareUrl = h('input', { type: 'text', readonly: true, 'data-testid': 'share-url', class: 'share-url' });

  constructor(
    private readonly actions: HeaderActions,
    /** Live mode is available too: the mode tabs, shown in place of the full title. */
    private readonly tabs: (() => HTMLElement) | undefined,
  ) {}

  /** Rebuilds the header for a run just loaded. */
  build(adapter: ProtocolAdapter, run: RunSpec): void {
    clear(this.el);
    const protocol = select('protocol', ADAPTERS.map((a) => [a.id, a.title]), adapter.id);
    const sizes: [string, string][] = [];
    if (adapter.nodes.sizes !== undefined) for (const n of adapter.nodes.sizes) sizes.push([String(n), `${n} nodes`]);
    else for (let n = adapter.nodes.min; n <= adapter.nodes.max; n++) sizes.push([String(n), `${n} nodes`]);
    // a run of a size not offered (a scenario's, or from a link) is shown as it is
    if (!sizes.some(([v]) => v === String(run.nodes))) sizes.push([String(run.nodes), `${run.nodes} nodes`]);
    const nodes = select('nodes', sizes, String(run.nodes));
    const seed = h('input', { type: 'number', min: 0, step: 1, value: run.seed, 'data-testid': 'seed', class: 'seed', title: 'seed: the same seed and actions give the same run' });
    const scenarios = select('scenario', [['', '— free play —'], ...adapter.scenarios.map((sc) => [sc.id, sc.title] as const)], run.scenario ?? '');
    const newRun = this.actions.newRun.bind(this.actions);
    const start = (): void => newRun(protocol.value, Number(nodes.value), Math.max(0, Math.floor(Number(seed.value) || 0)), null);
    protocol.addEventListener('change', () => newRun(protocol.value, (adapterById(protocol.value) ?? DEFAULT_ADAPTER).nodes.initial, Number(seed.value) || 1, null));
    nodes.addEventListener('change', start);
    scenarios.addEventListener('change', () => newRun(protocol.value, Number(nodes.value), Number(seed.value) || 1, scenarios.value === '' ? null : scenarios.value));
    const share = button('Copy link', 'share', 'Put this run (seed, actions, current time) in the address bar and copy it', () => {
      this.actions.syncHash();
      this.shareUrl.select();
      void navigator.clipboard?.writeText(location.href).catch(() => undefined);
    });
    const tabs = this.tabs?.();
    this.el.append(tabs !== undefined ? h('h1', {}, 'Synod') : h('h1', {}, 'Synod ', h('span', { class: 'dim' }, 'cluster visualizer')));
    if (tabs !== undefined) this.el.append(tabs);
    this.el.append(
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
}
