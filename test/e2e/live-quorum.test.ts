// Live mode for the quorum service (the leaderless store as real processes). Without a browser:
// the adapter colours each node by its place for the chosen key, fills the ring and copies
// panels from what the nodes answer, and its buttons send requests through the named node with
// the context of the last answer. On a 3-node cluster of real processes, the control server's
// per-node quorum routes (a named node only, the Origin guard first). In Chromium: the nodes and
// the ring, a key written, blind-written, read and written again from the page with its copy on
// every home replica, then a node killed from the page and shown down, a write that leaves a hint
// for it, and a repair. Screenshots go to artifacts/screenshots/.
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { encodeContext } from '../../src/quorum/codec.js';
import { callApi, type ClusterHandle } from '../../src/supervisor/index.js';
import { liveAdapterFor } from '../../web/src/adapters/index.js';
import { QuorumProbe, quorumLiveAdapter, quorumLiveAdapterWith, type QuorumCall, type QuorumStatus } from '../../web/src/adapters/live-quorum.js';
import type { PanelButton, TableContent } from '../../web/src/adapters/types.js';
import { LiveSource, type LiveNodeInfo } from '../../web/src/source/live.js';
import { CHROMIUM, hasChromium, screenshot, type Browser, startLiveCluster, stopLiveCluster } from './harness.js';


if (!hasChromium) console.warn(`e2e: skipping the live quorum browser test: ${CHROMIUM} is missing (apt-get install -y chromium)`);

const status = (id: string, keys: number, hints: number, peersUp: string[]): QuorumStatus & { service: 'quorum' } => ({ id, service: 'quorum', role: 'replica', keys, hints, peersUp, replicas: 3, readQuorum: 2, writeQuorum: 2, sloppyQuorum: false });
const info = (id: string, process: LiveNodeInfo['process'], s?: unknown): LiveNodeInfo => ({ id, process, pid: process === 'stopped' ? null : 100 + Number(id), restarts: 0, endpoint: `https://127.0.0.1:${7000 + Number(id)}`, ...(s === undefined ? {} : { status: s }) });
const dvv = (siblings: [string, string, number][]): unknown => ({ kind: 'dvv', vv: siblings.map(([, actor, counter]) => [actor, counter]).sort(), siblings: siblings.map(([value, actor, counter]) => ({ dot: { actor, counter }, value })) });
const READ_CONTEXT = encodeContext([['2', 1], ['3', 1]]);
const cells = (t: TableContent, key: string): unknown[] | undefined => t.rows.find((r) => r.key === key)?.cells.map((c) => (typeof c === 'string' ? c : c.text));

describe('the live quorum adapter', () => {
  it('draws each node by its place for the key, the ring and the copies, and sends requests through a node', async () => {
    const asked: { method: string; path: string; body: unknown }[] = [];
    const call: QuorumCall = (method, path, body) => {
      asked.push({ method, path, body });
      if (path.startsWith('/api/nodes/1/ring?')) return Promise.resolve({ status: 200, body: { members: ['1', '2', '3', '4'], replicas: 3, standIns: 1, partitionCount: 8, ownership: { '1': 2, '2': 2, '3': 2, '4': 2 }, partitions: [], key: { bucket: 'default', key: 'greeting', position: 0xabc, partition: 5, homeReplicas: ['2', '3', '1'], standIns: ['4'] } } });
      const local = /^\/api\/nodes\/(\d)\/dkv-local\/default\/greeting$/.exec(path)?.[1];
      if (local === '1') return Promise.resolve({ status: 200, body: { node: '1', state: null, hints: 0 } });
      if (local === '4') return Promise.resolve({ status: 200, body: { node: '4', state: null, hints: 1 } });
      if (local !== undefined) return Promise.resolve({ status: 200, body: { node: local, state: dvv([['a', '2', 1], ['b', '3', 1]]), hints: 0 } });
      if (method === 'GET' && path === '/api/nodes/1/dkv/default/greeting?r=all') return Promise.resolve({ status: 200, body: { ok: true, op: 'get', found: true, values: ['a', 'b'], context: READ_CONTEXT, siblings: 2, replies: 3 } });
      if (method === 'PUT') return Promise.resolve({ status: 200, body: { ok: true, op: 'write', context: 'c1.after', dot: { actor: '3', counter: 2 }, acks: 2, values: ['c'], siblings: 1 } });
      return Promise.resolve({ status: 404, body: { error: { code: 'NOT_FOUND', message: path } } });
    };
    const adapter = quorumLiveAdapterWith(new QuorumProbe(call));
    const source = new LiveSource(adapter);
    source.ingest({ time: 1, nodes: [info('1', 'running', status('1', 0, 0, ['2', '3'])), info('2', 'running', status('2', 1, 0, ['1', '3'])), info('3', 'running', status('3', 1, 0, ['1', '2'])), info('4', 'running', status('4', 0, 1, ['1', '2', '3']))] });
    // the first draw starts the reads; the next shows them
    source.view(0);
    await vi.waitFor(() => expect(source.view(0).nodes.map((n) => n.role)).toEqual(['home', 'home', 'home', 'hint']));
    const view = source.view(0);
    expect(view.nodes[1]?.details).toEqual(['H1', 'greeting: a@2:1 | b@3:1', '1 key · 0 hints']);
    expect(view.nodes[0]?.details).toEqual(['H3', 'greeting: no copy', '0 keys · 0 hints']);
    const ring = view.panels['dkv-ring'] as TableContent;
    expect(ring.caption?.text).toBe('Q = 8 partitions over 4 nodes, N = 3 (+1 stand-in) · R = 2, W = 2, sloppy quorum off · greeting at 0x00000abc, partition 5: home replicas 2, 3, 1; stand-ins 4 (as node 1 says)');
    expect(cells(ring, '4')).toEqual(['4', 'up', '2', 'stand-in 1', '0', '1', '1, 2, 3']);
    const copies = view.panels['dkv-copies'] as TableContent;
    expect(copies.rows.map((r) => r.key)).toEqual(['2', '3', '1', '4']);
    expect(cells(copies, '3')).toEqual(['3', 'home 2', 'up', 'a@2:1 | b@3:1', '[2:1, 3:1]', '—']);
    expect(cells(copies, '4')).toEqual(['4', 'stand-in 1', 'up', '—', '—', '1 hint']);
    expect(copies.caption?.text).toBe('default/greeting: the home replicas differ: read repair, hints or anti-entropy will bring them together');

    // the buttons: a read with R = all through node 1, then a write that sends back its context through node 3
    const buttons = new Map((adapter.panels[0]?.controls?.[1] ?? []).map((c) => [(c as PanelButton).id, c as PanelButton]));
    const press = (id: string, fields: Record<string, string>): ReturnType<PanelButton['build']> => (buttons.get(id) as PanelButton).build(new Map(Object.entries({ bucket: 'default', key: 'greeting', value: 'c', level: '', via: '', ...fields })));
    expect(press('read', { level: 'any' })).toEqual({ problem: 'R is a number, one, quorum or all' });
    expect(press('write', { via: '9' })).toEqual({ problem: 'no node 9' });
    expect(press('read', { level: 'all' })).toEqual({ problem: '' });
    await vi.waitFor(() => expect(cells(source.view(0).panels['dkv'] as TableContent, '1')).toEqual(['1', 'read greeting · R = all', '1', '"a" | "b" (2 siblings) · 3 answers', '[2:1, 3:1]']));
    expect(press('write', { via: '3', level: '2' })).toEqual({ problem: '' });
    expect(asked.find((a) => a.method === 'PUT')).toEqual({ method: 'PUT', path: '/api/nodes/3/dkv/default/greeting', body: { value: 'c', context: READ_CONTEXT, w: 2 } });
    await vi.waitFor(() => expect(cells(source.view(0).panels['dkv'] as TableContent, '2')?.[3]).toBe('2 acks · dot 3:2 · now "c"'));
    expect(liveAdapterFor('quorum')).toBe(quorumLiveAdapter);
    expect(quorumLiveAdapter.parseStatus({ id: '1', service: 'kv', role: 'leader', term: 2, commit: 3 })).toBeNull();
  });
});

describe.skipIf(!hasChromium)('live quorum view on real processes', () => {
  let cluster: ClusterHandle | undefined;
  let browser: Browser | undefined;
  let dataDir = '';
  let webDir = '';

  beforeAll(async () => {
    ({ cluster, browser, dataDir, webDir } = await startLiveCluster('live-quorum', 'quorum'));
    // the start waits for a majority: wait for every node to answer
    const nodes = async (): Promise<unknown> => (await control('GET', '/api/nodes')).body;
    await vi.waitFor(async () => expect(((await nodes()) as LiveNodeInfo[]).filter((n) => typeof n.status === 'object' && n.status !== null)).toHaveLength(3), { timeout: 30_000, interval: 250 });
  }, 90_000);

  afterAll(() => stopLiveCluster({ browser, cluster, dataDir, webDir }), 30_000);

  const control = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> => callApi([(cluster as ClusterHandle).controlUrl], method, path, body, 10_000, { headers });
  const code = (a: { body: unknown }): unknown => (a.body as { error?: { code?: string } }).error?.code;

  it('the control server passes a named node its quorum routes, and nothing else', async () => {
    const ring = await control('GET', '/api/nodes/2/ring?bucket=default&key=k');
    expect(ring.status).toBe(200);
    expect((ring.body as { members: string[]; key: { homeReplicas: string[] } }).key.homeReplicas.sort()).toEqual(['1', '2', '3']);
    expect(code(await control('GET', '/api/nodes/9/ring'))).toBe('NO_SUCH_NODE');
    expect(code(await control('GET', '/api/nodes/1/ring?keys=k'))).toBe('UNKNOWN_PARAMETER');
    expect(code(await control('PUT', '/api/nodes/1/dkv/default/k', { val: 'x' }))).toBe('BAD_REQUEST');
    // a page on another origin may not write through the supervisor
    const foreign = await control('PUT', '/api/nodes/1/dkv/default/k', { value: 'x' }, { origin: 'http://evil.example' });
    expect([foreign.status, code(foreign)]).toEqual([403, 'ORIGIN_NOT_ALLOWED']);
    const local = await control('GET', '/api/nodes/1/dkv-local/default/k');
    expect(local.body).toEqual({ node: '1', state: null, hints: 0 });
  });

  const live = (page: Page): Locator => page.getByTestId('live');
  const cellsOf = (row: Locator): Promise<string[]> => row.locator('td').allInnerTexts();

  /** Fills the request panel and presses a button; resolves with request `n`'s answer once it came. */
  async function request(page: Page, n: number, button: string, fields: { key?: string; value?: string; level?: string; via?: string }): Promise<string> {
    for (const [name, value] of Object.entries(fields)) await live(page).getByTestId(`dkv-${name}`).fill(value);
    await live(page).getByTestId(`dkv-${button}`).click();
    const row = live(page).getByTestId(`dkv-row-${n}`);
    await expect.poll(() => row.getAttribute('class'), { timeout: 15_000 }).not.toBe('tone-dim');
    return ((await cellsOf(row))[3] ?? '').trim();
  }

  it('shows the nodes, the ring and a key’s copies; writes, reads and repairs from the page; a killed node is shown down', async () => {
    const page = await (browser as Browser).newPage();
    const errors = (page as Page & { errors?: string[] }).errors ?? [];
    await page.goto((cluster as ClusterHandle).dashboardUrl);
    await expect.poll(() => live(page).locator('[data-testid^=node-][data-process=running][data-reachable=true]').count(), { timeout: 20_000 }).toBe(3);
    expect(await live(page).getByTestId('live-service').getAttribute('data-service')).toBe('quorum');

    // the ring: 64 partitions dealt over the three nodes, each a home replica of every key
    const ringCaption = live(page).getByTestId('dkv-ring-caption');
    await expect.poll(() => ringCaption.innerText(), { timeout: 10_000 }).toMatch(/^Q = 64 partitions over 3 nodes, N = 3 \(\+2 stand-ins\) · R = 2, W = 2, sloppy quorum off · greeting at 0x[0-9a-f]{8}, partition \d+: home replicas \d, \d, \d; stand-ins none \(as node \d says\)$/);
    const owned = await Promise.all(['1', '2', '3'].map(async (id) => Number((await cellsOf(live(page).getByTestId(`dkv-ring-row-${id}`)))[2])));
    expect(owned.reduce((a, b) => a + b, 0)).toBe(64);
    for (const id of ['1', '2', '3']) expect(await live(page).getByTestId(`node-${id}`).getAttribute('data-role')).toBe('home');

    // a write through the page: its copy on every home replica
    expect(await request(page, 1, 'write', { key: 'live-q', value: 'v1', via: '1' })).toMatch(/^[23] acks · dot 1:\d+ · now "v1"$/);
    const copy = (id: string): Promise<string> => cellsOf(live(page).getByTestId(`dkv-copies-row-${id}`)).then((c) => c[3] ?? '', () => '');
    for (const id of ['1', '2', '3']) await expect.poll(() => copy(id), { timeout: 10_000 }).toMatch(/^v1@1:\d+$/);
    expect(await live(page).getByTestId('dkv-copies-caption').innerText()).toBe('default/live-q: the home replicas agree');
    expect(await live(page).getByTestId('node-2').textContent()).toContain('live-q: v1@1:');

    // a blind write through another node is a sibling; a read returns both and a context; a write with it leaves one value
    expect(await request(page, 2, 'blind', { value: 'v2', via: '2' })).toMatch(/ · now .*\(2 siblings\)$/);
    expect(await request(page, 3, 'read', { level: 'all', via: '3' })).toMatch(/^"v[12]" \| "v[12]" \(2 siblings\) · 3 answers$/);
    expect((await cellsOf(live(page).getByTestId('dkv-row-3')))[4]).toMatch(/^\[1:\d+, 2:\d+\]$/);
    for (const id of ['1', '2', '3']) await expect.poll(() => copy(id), { timeout: 10_000 }).toMatch(/^v1@1:\d+ \| v2@2:\d+$/);
    expect(await request(page, 4, 'write', { value: 'v3', level: 'all', via: '3' })).toMatch(/^3 acks · dot 3:\d+ · now "v3"$/);
    for (const id of ['1', '2', '3']) await expect.poll(() => copy(id), { timeout: 10_000 }).toMatch(/^v3@3:\d+$/);
    await screenshot(page, 'live-quorum');

    // kill node 3 from the page: drawn down, its copy unknown; a write through node 1 still gets W = 2 and keeps a hint for it
    await live(page).getByTestId('live-kill-3').click();
    await expect.poll(() => live(page).getByTestId('node-3').getAttribute('data-process'), { timeout: 10_000 }).toBe('stopped');
    expect(await live(page).getByTestId('node-3').getAttribute('data-up')).toBe('false');
    await expect.poll(() => cellsOf(live(page).getByTestId('dkv-copies-row-3')).then((c) => c.slice(2, 4))).toEqual(['down', 'unknown while down']);
    expect((await cellsOf(live(page).getByTestId('dkv-ring-row-3')))[1]).toBe('stopped');
    expect(code(await control('GET', '/api/nodes/3/dkv-local/default/live-q'))).toBe('NOT_RUNNING');
    expect(await request(page, 5, 'write', { value: 'v4', level: '2', via: '1' })).toMatch(/^2 acks · dot 1:\d+ · now "v4"$/);
    await expect.poll(() => cellsOf(live(page).getByTestId('dkv-copies-row-1')).then((c) => c[5]), { timeout: 10_000 }).toBe('1 hint');
    await expect.poll(() => live(page).getByTestId('dkv-copies-caption').innerText()).toBe('default/live-q: 2 of 3 home replicas answered and agree; 1 cannot be read now');
    expect(await request(page, 6, 'repair', { via: '2' })).toMatch(/^\d+ exchanges started$/);
    // the nodes' own view: their peers up, through their status
    await expect.poll(() => live(page).getByTestId('live-activity').textContent(), { timeout: 10_000 }).toContain('node 1: believes 3 down');
    expect(await live(page).getByTestId('live-activity').textContent()).toContain('node 3: process running → stopped');
    await screenshot(page, 'live-quorum-killed');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
