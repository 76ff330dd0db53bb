// The "Live cluster" page: the real node processes of `synod cluster up`, drawn on the same ring
// as a simulation with the neutral node view the service's live adapter gives (colour = role,
// for Raft term inside and star = leader; cross = stopped, orange badge = paused), a table of
// every node with its process state, the adapter's columns (Raft: role, term, leader, commit,
// applied and last index; clock sync: role, injected offset, estimate, bound) and buttons to
// kill, pause, resume and restart its process, the adapter's own panels, a put/get form when the
// service is the key-value store (with the Watch panel's prefix field and button: their client
// action goes to LiveSource), and a list of what changed. It draws whatever LiveSource last
// received.
import type { LiveAdapter } from '../adapters/live.js';
import { exitText, STALE_AFTER_MS, type LiveNodeRow, type LiveSource, type NodeCommand } from '../source/live.js';
import type { ClusterView } from '../source/types.js';
import { attr, clear, h, panel, text } from './dom.js';
import { AdapterPanels } from './panel-views.js';
import { ClusterRing } from './ring.js';

interface RowEls {
  readonly tr: HTMLTableRowElement;
  readonly process: HTMLTableCellElement;
  /** One per adapter column. */
  readonly cells: readonly HTMLTableCellElement[];
  readonly kill: HTMLButtonElement;
  readonly pause: HTMLButtonElement;
  readonly restart: HTMLButtonElement;
}

/** Parses a typed value as JSON when it is JSON (42, true, {"a":1}, "quoted"), else keeps the text. */
export function parseValue(typed: string): unknown {
  try {
    return JSON.parse(typed) as unknown;
  } catch {
    return typed;
  }
}

export class LiveApp {
  readonly el = h('div', { class: 'live', 'data-testid': 'live' });
  private readonly header = h('header', { class: 'top' });
  private readonly banner = h('div', { class: 'banner', 'data-testid': 'live-banner', hidden: true });
  private readonly connection = h('span', { class: 'conn', 'data-testid': 'live-connection' });
  private readonly status = h('div', { class: 'status', 'data-testid': 'live-status' });
  private readonly ring: ClusterRing;
  private readonly table = h('tbody');
  private readonly rows = new Map<string, RowEls>();
  private readonly activity = h('ol', { class: 'events wrap', 'data-testid': 'live-activity' });
  private readonly key = h('input', { type: 'text', value: 'greeting', size: 12, 'data-testid': 'kv-key', 'aria-label': 'key' });
  private readonly value = h('input', { type: 'text', value: 'hello', size: 14, 'data-testid': 'kv-value', 'aria-label': 'value' });
  private readonly kvResult = h('div', { class: 'kv-result', 'data-testid': 'kv-result' }, 'Write or read a key: the supervisor sends the request to a running node (the leader if it knows one).');
  private readonly signIn = h('div', { class: 'sign-in', 'data-testid': 'live-sign-in', hidden: true });
  private readonly busy = new Set<string>();
  private selected: string | null = null;
  private active = true;
  private raf = 0;
  private rowKey = '';
  private readonly adapter: LiveAdapter;
  private readonly extra: AdapterPanels;

  constructor(
    private readonly source: LiveSource,
    tabs: () => HTMLElement,
  ) {
    const adapter = source.adapter;
    this.adapter = adapter;
    // a panel's buttons (the Watch panel's) send their client actions to the live source
    this.extra = new AdapterPanels(adapter.panels, { dispatch: (action) => source.dispatch(action) });
    this.ring = new ClusterRing(adapter.style, {
      nodeClick: (id) => this.select(id),
      nodeContext: (id) => this.select(id),
      messageClick: () => undefined,
      clickHint: 'click: select its row in the Nodes table (kill, pause, restart there)',
    });
    this.header.append(
      h('h1', {}, 'Synod'),
      tabs(),
      h('span', { class: 'dim' }, `local cluster at ${location.host} · `, h('span', { 'data-testid': 'live-service', 'data-service': adapter.service }, adapter.title)),
      this.connection,
    );
    const stage = h(
      'section',
      { class: 'stage' },
      h('p', { class: 'blurb' }, 'Real node processes started by ', h('code', {}, 'synod cluster up'), `, as their HTTP APIs report them (polled every 200 ms). ${adapter.blurb}`),
      this.ring.svg,
      this.status,
    );
    const lower = this.extra.at('lower');
    this.el.append(
      this.header,
      this.banner,
      h(
        'div',
        { class: 'body' },
        h(
          'div',
          { class: 'main' },
          h('div', { class: 'left' }, stage, this.nodesPanel(), ...this.extra.at('main')),
          h('aside', { class: 'side' }, this.signInPanel(), adapter.keyValue ? this.kvPanel() : null, ...this.extra.at('side'), panel('Activity', 'live-activity-panel', this.activity), this.legendPanel()),
        ),
        lower.length > 0 ? h('div', { class: 'lower' }, ...lower) : null,
      ),
    );
    source.onChange(() => this.schedule());
    // "updated N s ago" and staleness move on even when nothing arrives
    setInterval(() => this.schedule(), 500);
  }

  setActive(active: boolean): void {
    this.active = active;
    this.el.hidden = !active;
    // the watch stream and the lease polls run only while live mode shows
    this.source.setActive(active);
    if (active) this.schedule();
  }

  private schedule(): void {
    if (!this.active || this.raf !== 0) return;
    this.raf = requestAnimationFrame(() => {
      this.raf = 0;
      this.render();
    });
  }

  private select(id: string | null): void {
    this.selected = id;
    this.ring.select(id);
    for (const [rid, els] of this.rows) els.tr.classList.toggle('selected', rid === id);
  }

  // ---------------------------------------------------------------- panels

  private nodesPanel(): HTMLElement {
    const head = h('tr', {}, ...['Node', 'Process', ...this.adapter.columns.map((c) => c.title), ''].map((c) => h('th', {}, c)));
    return panel(
      'Nodes',
      'live-nodes',
      h('table', { class: 'live-table' }, h('thead', {}, head), this.table),
      h('p', { class: 'hint' }, 'Kill = SIGKILL, Pause = SIGSTOP, Resume = SIGCONT, Restart = kill if needed, then start the process again on its data directory. Values in grey are the last the node reported (it is paused or does not answer).'),
    );
  }

  private kvPanel(): HTMLElement {
    const put = h('button', { type: 'button', class: 'primary', 'data-testid': 'kv-put', title: 'PUT the value under the key (a replicated write)' }, 'Put');
    const get = h('button', { type: 'button', 'data-testid': 'kv-get', title: 'read the key (linearizable: through the leader)' }, 'Get');
    const run = async (op: 'put' | 'get'): Promise<void> => {
      const key = this.key.value.trim();
      if (key === '') {
        this.showResult(false, 'Type a key first.', undefined);
        return;
      }
      put.disabled = get.disabled = true;
      this.kvResult.dataset['pending'] = 'true';
      text(this.kvResult, `${op} ${key}…`);
      try {
        const a = op === 'put' ? await this.source.put(key, parseValue(this.value.value)) : await this.source.get(key);
        this.showResult(a.ok, a.text, a.value);
      } finally {
        put.disabled = get.disabled = false;
        delete this.kvResult.dataset['pending'];
      }
    };
    put.addEventListener('click', () => void run('put'));
    get.addEventListener('click', () => void run('get'));
    this.value.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') void run('put');
    });
    this.key.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') void run('get');
    });
    return panel(
      'Key-value',
      'live-kv',
      h('div', { class: 'row' }, h('label', {}, 'key ', this.key), h('label', {}, 'value ', this.value)),
      h('div', { class: 'row' }, put, get, h('span', { class: 'hint' }, 'the value is JSON if it parses, else text')),
      this.kvResult,
    );
  }

  /** Shown once the cluster asks for credentials (authentication on): a user name and password, exchanged for a token. */
  private signInPanel(): HTMLElement {
    const user = h('input', { type: 'text', value: 'root', size: 10, autocomplete: 'username', 'data-testid': 'sign-in-user', 'aria-label': 'user' });
    const password = h('input', { type: 'password', size: 14, autocomplete: 'current-password', 'data-testid': 'sign-in-password', 'aria-label': 'password' });
    const go = h('button', { type: 'button', class: 'primary', 'data-testid': 'sign-in-go' }, 'Sign in');
    const result = h('div', { class: 'kv-result', 'data-testid': 'sign-in-result' }, 'Authentication is on: sign in to read, write and control nodes.');
    const submit = async (): Promise<void> => {
      go.disabled = true;
      try {
        const r = await this.source.login(user.value.trim(), password.value);
        password.value = '';
        result.dataset['ok'] = String(r.ok);
        text(result, r.text);
      } finally {
        go.disabled = false;
      }
    };
    go.addEventListener('click', () => void submit());
    password.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') void submit();
    });
    this.signIn.append(h('div', { class: 'row' }, h('label', {}, 'user ', user), h('label', {}, 'password ', password)), h('div', { class: 'row' }, go), result);
    const section = panel('Sign in', 'live-sign-in-panel', this.signIn);
    section.hidden = true;
    return section;
  }

  private showResult(ok: boolean, message: string, value: unknown): void {
    this.kvResult.dataset['ok'] = String(ok);
    this.kvResult.dataset['value'] = value === undefined ? '' : JSON.stringify(value);
    text(this.kvResult, message);
  }

  private legendPanel(): HTMLElement {
    const roles = this.adapter.style.roles.map((r) => h('li', {}, h('span', { class: 'swatch', style: `background:${r.color}` }), r.label));
    return panel(
      'Legend',
      'live-legend',
      h(
        'ul',
        { class: 'legend' },
        ...roles,
        h('li', {}, h('span', { class: 'swatch down' }), 'stopped (process ended)'),
        h('li', {}, h('span', { class: 'pause-swatch' }), 'paused (SIGSTOP)'),
        h('li', {}, h('span', { class: 'swatch unreachable' }), 'running, not answering'),
        this.adapter.hasLeader ? h('li', {}, '★ leader') : null,
      ),
    );
  }

  // ---------------------------------------------------------------- drawing

  private render(): void {
    const view = this.source.view(0);
    this.signIn.hidden = !this.source.needsLogin;
    (this.signIn.parentElement as HTMLElement | null)?.toggleAttribute('hidden', !this.source.needsLogin && this.source.user === null);
    this.ring.render(view);
    this.renderRows(view);
    this.extra.render(view.panels);
    this.renderStatus(view);
    clear(this.activity);
    for (const line of [...this.source.activity()].reverse()) this.activity.append(h('li', {}, line));
  }

  private renderStatus(view: ClusterView): void {
    const conn = this.source.connection;
    const age = this.source.lastUpdateAt === 0 ? null : Date.now() - this.source.lastUpdateAt;
    const stale = conn !== 'open' || (age !== null && age > STALE_AFTER_MS);
    const connText = conn === 'lost' ? 'disconnected' : conn === 'connecting' || age === null ? 'connecting…' : stale ? 'no updates' : 'live';
    attr(this.connection, 'data-state', conn === 'open' && !stale ? 'open' : conn === 'open' ? 'stale' : conn);
    text(this.connection, `● ${connText}`);
    this.ring.svg.classList.toggle('stale', stale && age !== null);
    const st = this.status;
    st.dataset['leader'] = view.leader ?? '';
    st.dataset['connection'] = conn;
    st.dataset['updates'] = String(this.source.updateCount);
    st.dataset['stateHash'] = view.stateHash;
    const running = view.nodes.filter((n) => n.process === 'running').length;
    const paused = view.nodes.filter((n) => n.process === 'paused').length;
    const leaderTerm = view.nodes.find((n) => n.id === view.leader)?.term;
    const leader = !this.adapter.hasLeader ? '' : view.leader === null ? ' · no leader' : ` · leader ${view.leader} (term ${leaderTerm ?? '?'})`;
    text(st, `${view.nodes.length} node processes · ${running} running${paused > 0 ? ` · ${paused} paused` : ''}${leader}${age === null ? '' : ` · updated ${(age / 1000).toFixed(1)} s ago`}`);
    if (conn === 'lost') this.showBanner(`Lost the connection to the cluster supervisor at ${location.host}; retrying. If you stopped \`synod cluster up\` (Ctrl-C), start it again.`);
    else if (stale && age !== null) this.showBanner(`No update from the supervisor for ${(age / 1000).toFixed(0)} s: what you see may be out of date.`);
    else if (conn === 'open' && age === null) this.showBanner('Connected; waiting for the first update…');
    else this.hideBanner();
  }

  private showBanner(message: string): void {
    text(this.banner, message);
    this.banner.hidden = false;
  }

  private hideBanner(): void {
    this.banner.hidden = true;
  }

  private renderRows(view: ClusterView): void {
    const rows = this.source.nodes;
    const key = rows.map((r) => r.id).join(',');
    if (key !== this.rowKey) {
      this.rowKey = key;
      clear(this.table);
      this.rows.clear();
      for (const r of rows) this.rows.set(r.id, this.createRow(r.id));
    }
    for (const r of rows) this.updateRow(r, view);
  }

  private createRow(id: string): RowEls {
    const process = h('td');
    const cells = this.adapter.columns.map(() => h('td'));
    const act = (what: NodeCommand | 'pause-toggle', label: string, title: string): HTMLButtonElement => {
      const b = h('button', { type: 'button', class: 'small', 'data-testid': `live-${what === 'pause-toggle' ? 'pause' : what}-${id}`, title }, label);
      b.addEventListener('click', () => {
        const row = this.source.nodes.find((r) => r.id === id);
        const command: NodeCommand = what === 'pause-toggle' ? (row?.process === 'paused' ? 'resume' : 'pause') : what;
        this.busy.add(id);
        this.schedule();
        void this.source
          .command(id, command)
          .catch((err: unknown) => this.showBanner(`${command} node ${id}: ${err instanceof Error ? err.message : String(err)}`))
          .finally(() => {
            this.busy.delete(id);
            this.schedule();
          });
      });
      return b;
    };
    const kill = act('kill', 'Kill', 'SIGKILL the process');
    const pause = act('pause-toggle', 'Pause', 'SIGSTOP the process (Resume sends SIGCONT)');
    const restart = act('restart', 'Restart', 'start the process again (killing it first if it runs)');
    const idCell = h('th', { scope: 'row' }, id);
    idCell.addEventListener('click', () => this.select(id));
    const tr = h('tr', { 'data-testid': `live-row-${id}` }, idCell, process, ...cells, h('td', { class: 'actions' }, kill, pause, restart));
    if (this.selected === id) tr.classList.add('selected');
    this.table.append(tr);
    return { tr, process, cells, kill, pause, restart };
  }

  private updateRow(r: LiveNodeRow, view: ClusterView): void {
    const els = this.rows.get(r.id);
    if (els === undefined) return;
    const answering = r.process === 'running' && r.fresh;
    const shown = view.nodes.find((n) => n.id === r.id);
    attr(els.tr, 'data-process', r.process);
    attr(els.tr, 'data-role', answering && r.status !== null ? (shown?.role ?? 'unknown') : r.process === 'stopped' ? 'down' : 'unknown');
    els.tr.classList.toggle('last-known', !answering);
    const processText = r.process === 'running' ? (r.fresh ? 'running' : 'running · no answer') : r.process;
    // a stopped node says why it stopped (its own last line: a corrupt log, lost data, a failed disk)
    const why = r.process === 'stopped' ? exitText(r.lastExit) : '';
    text(els.process, `${processText}${r.pid !== null ? ` (pid ${r.pid})` : ''}${r.restarts > 0 ? ` · ${r.restarts} restart${r.restarts === 1 ? '' : 's'}` : ''}${why}`);
    attr(els.process, 'title', why === '' ? '' : why.slice(2));
    attr(els.process, 'class', `proc-${r.process}${r.process === 'running' && !r.fresh ? ' unreachable' : ''}`);
    this.adapter.columns.forEach((c, i) => {
      const cell = els.cells[i];
      if (cell !== undefined) text(cell, c.text(r, view.leader));
    });
    const busy = this.busy.has(r.id);
    els.kill.disabled = busy || r.process === 'stopped';
    els.pause.disabled = busy || r.process === 'stopped';
    text(els.pause, r.process === 'paused' ? 'Resume' : 'Pause');
    els.restart.disabled = busy;
  }
}
