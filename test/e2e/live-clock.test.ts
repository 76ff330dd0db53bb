// Live mode for the clock-sync service: the page asks the supervisor which service it runs
// (GET /api/cluster) and draws that service's nodes with its live adapter. Without a browser:
// how LiveSource draws clock-sync statuses (the neutral node view, the "Clock offsets" panel, the
// activity), and which adapter each answer of /api/cluster picks. In Chromium: a stand-in
// supervisor (the same API, fixed statuses) serves a build of the app, and the page shows the
// clock-sync nodes, their offsets table, no key-value form, and a killed node drawn stopped.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveDashboard } from '../../src/supervisor/index.js';
import { liveAdapterFor } from '../../web/src/adapters/index.js';
import { clockLiveAdapter, type ClockStatus } from '../../web/src/adapters/live-clock.js';
import { kvLiveAdapter } from '../../web/src/adapters/live-kv.js';
import type { TableContent } from '../../web/src/adapters/types.js';
import { LiveSource, type LiveNodeInfo } from '../../web/src/source/live.js';
import { buildApp, CHROMIUM, hasChromium, launch, screenshot, type Browser } from './harness.js';

if (!hasChromium) console.warn(`e2e: skipping the clock-sync live-mode browser test: ${CHROMIUM} is missing (apt-get install -y chromium)`);

function clock(id: string, role: 'server' | 'client', injectedOffsetMs: number, estimate: number | null, delayMs: number | null): ClockStatus {
  return {
    id,
    service: 'clock-sync',
    role,
    offsetEstimateMs: estimate,
    delayMs,
    errorBoundMs: delayMs === null ? null : delayMs / 2,
    injectedOffsetMs,
    localNowMs: 1_700_000_000_000 + injectedOffsetMs,
    correctedNowMs: 1_700_000_000_000 + injectedOffsetMs + (estimate ?? 0),
  };
}

const info = (id: string, process: LiveNodeInfo['process'], s?: unknown): LiveNodeInfo => ({ id, process, pid: process === 'stopped' ? null : 100 + Number(id), restarts: 0, endpoint: `http://127.0.0.1:${7000 + Number(id)}`, ...(s === undefined ? {} : { status: s }) });

/** Starts an HTTP server on 127.0.0.1 at an ephemeral port. */
async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; base: string }> {
  const server = createServer(handler);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const close = (server: Server): Promise<void> => new Promise((ok) => server.close(() => ok()));

describe('LiveSource for clock sync', () => {
  it('draws the server and the clients with their offsets, and compares each estimate with the actual offset', () => {
    const source = new LiveSource(clockLiveAdapter);
    // 2 runs 500 ms ahead and estimates -498 ± 2 (actual -500: within the bound); 3 runs 200 ms behind, no sample yet
    source.ingest({ time: 1, nodes: [info('1', 'running', clock('1', 'server', 0, null, null)), info('2', 'running', clock('2', 'client', 500, -498, 4)), info('3', 'running', clock('3', 'client', -200, null, null))] });
    const view = source.view(0);
    expect(view.leader).toBeNull();
    expect(view.nodes.map((n) => [n.id, n.role, n.up, n.term, n.log])).toEqual([
      ['1', 'server', true, undefined, undefined],
      ['2', 'client', true, undefined, undefined],
      ['3', 'client', true, undefined, undefined],
    ]);
    expect(view.nodes[0]?.details).toEqual(['injected 0 ms', 'reference clock']);
    expect(view.nodes[1]?.details).toEqual(['injected +500 ms', 'estimate −498 ms ± 2 ms']);
    expect(view.nodes[2]?.details).toEqual(['injected −200 ms', 'no sample yet']);
    let table = view.panels['clock-offsets'] as TableContent;
    expect(table.columns).toEqual(['node', 'role', 'injected', 'estimate', 'actual', 'error', 'bound', 'delay']);
    expect(table.rows.find((r) => r.key === '2')?.cells).toEqual(['node 2', 'client', '+500 ms', '−498 ms', '−500 ms', { text: '+2 ms', tone: 'good', title: 'within ± 2 ms' }, '± 2 ms', '4 ms']);
    expect(table.rows.find((r) => r.key === '3')?.cells[3]).toEqual({ text: 'no sample yet', tone: 'dim' });

    // 3 gets a sample that is off by more than its bound; 2 is paused (keeps its last status, faded)
    source.ingest({ time: 2, nodes: [info('1', 'running', clock('1', 'server', 0, null, null)), info('2', 'paused'), info('3', 'running', clock('3', 'client', -200, 230, 10))] });
    const later = source.view(0);
    table = later.panels['clock-offsets'] as TableContent;
    expect(table.rows.find((r) => r.key === '3')?.cells[5]).toEqual({ text: '+30 ms', tone: 'bad', title: 'outside ± 5 ms' });
    expect(table.rows.find((r) => r.key === '2')?.tone).toBe('dim');
    expect(later.nodes[1]).toMatchObject({ paused: true, process: 'paused', role: 'client' });
    expect(later.nodes[1]?.details[0]).toBe('paused · injected +500 ms');
    const activity = source.activity().join('\n');
    expect(activity).toContain('node 3: first sample: offset +230 ms ± 5 ms');
    expect(activity).toContain('node 2: process running → paused');
    expect(activity).not.toContain('leader');
  });

  it('a status of another service is not taken for a clock-sync one (and the other way round)', () => {
    expect(clockLiveAdapter.parseStatus({ id: '1', role: 'leader', term: 2, commit: 3 })).toBeNull();
    expect(kvLiveAdapter.parseStatus(clock('1', 'server', 0, null, null))).toBeNull();
  });

  it('picks the adapter from GET /api/cluster, and kv when the supervisor does not say', async () => {
    expect(liveAdapterFor('clock-sync')).toBe(clockLiveAdapter);
    expect(liveAdapterFor('kv')).toBe(kvLiveAdapter);
    expect(liveAdapterFor('lock').service).toBe('lock');
    let answer: { status: number; body: string; type: string } = { status: 200, body: '{"service":"clock-sync","nodes":3}', type: 'application/json' };
    const { server, base } = await listen((_req, res) => {
      res.writeHead(answer.status, { 'content-type': answer.type });
      res.end(answer.body);
    });
    try {
      expect(await LiveSource.cluster(base)).toEqual({ service: 'clock-sync', nodes: 3 });
      answer = { status: 404, body: '{"error":{"code":"NOT_FOUND"}}', type: 'application/json' };
      expect(await LiveSource.cluster(base)).toEqual({ service: 'kv', nodes: null });
      answer = { status: 200, body: '<html></html>', type: 'text/html' };
      expect(await LiveSource.cluster(base)).toEqual({ service: 'kv', nodes: null });
    } finally {
      await close(server);
    }
  });
});

/** A stand-in supervisor for a 3-node clock-sync cluster: the supervisor's API with fixed statuses. */
function fakeClockSupervisor(webDir: string): (req: IncomingMessage, res: ServerResponse) => void {
  const processes = new Map<string, LiveNodeInfo['process']>([
    ['1', 'running'],
    ['2', 'running'],
    ['3', 'running'],
  ]);
  const statuses: Record<string, ClockStatus> = { '1': clock('1', 'server', 0, null, null), '2': clock('2', 'client', 500, -497.5, 5), '3': clock('3', 'client', -300, 310, 8) };
  const nodes = (): LiveNodeInfo[] => [...processes].map(([id, p]) => info(id, p, p === 'running' ? statuses[id] : undefined));
  const json = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/api/cluster') return json(res, 200, { service: 'clock-sync', nodes: 3 });
    if (path === '/api/nodes') return json(res, 200, nodes());
    if (path === '/api/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      const send = (): void => void res.write(`data: ${JSON.stringify({ time: Date.now(), nodes: nodes() })}\n\n`);
      send();
      const timer = setInterval(send, 200);
      req.on('close', () => clearInterval(timer));
      return;
    }
    const command = /^\/api\/nodes\/([^/]+)\/(kill|pause|resume|restart)$/.exec(path);
    if (command !== null && req.method === 'POST') {
      const [, id, what] = command as unknown as [string, string, string];
      processes.set(id, what === 'kill' ? 'stopped' : what === 'pause' ? 'paused' : 'running');
      return json(res, 200, { ok: true });
    }
    if (path.startsWith('/api/')) return json(res, 404, { error: { code: 'NOT_FOUND', message: path } });
    void serveDashboard(webDir, path, req, res);
  };
}

describe.skipIf(!hasChromium)('clock-sync live mode in Chromium', () => {
  let browser: Browser | undefined;
  let server: Server | undefined;
  let base = '';
  let webDir = '';

  beforeAll(async () => {
    // a build of our own: the other browser tests build at the same time
    webDir = mkdtempSync(join(tmpdir(), 'synod-web-clock-'));
    [, browser] = await Promise.all([buildApp(webDir), launch()]);
    ({ server, base } = await listen(fakeClockSupervisor(webDir)));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (server !== undefined) {
      server.closeAllConnections();
      await close(server);
    }
    rmSync(webDir, { recursive: true, force: true });
  });

  const live = (page: Page): Locator => page.getByTestId('live');

  it('shows the clock-sync nodes with their offsets, no key-value form, and a killed node stopped', async () => {
    const page = await (browser as Browser).newPage();
    const errors = (page as Page & { errors?: string[] }).errors ?? [];
    await page.goto(`${base}/`);
    await expect.poll(() => live(page).locator('[data-testid^=node-][data-process=running][data-reachable=true]').count(), { timeout: 15_000 }).toBe(3);
    expect(await live(page).getByTestId('live-service').getAttribute('data-service')).toBe('clock-sync');
    expect(await live(page).getByTestId('node-1').getAttribute('data-role')).toBe('server');
    expect(await live(page).getByTestId('node-2').getAttribute('data-role')).toBe('client');
    // no term, no leader: the neutral node view shows the first detail inside, the rest under it
    expect(await live(page).getByTestId('node-2').getAttribute('data-term')).toBe('');
    expect(await live(page).getByTestId('node-2').textContent()).toContain('estimate −497.5 ms ± 2.5 ms');
    expect(await live(page).getByTestId('live-status').getAttribute('data-leader')).toBe('');
    expect(await live(page).getByTestId('live-kv').count()).toBe(0);
    // the offsets panel: 2 is within its bound, 3 (estimate +310, actual +300, bound 4) is not
    const panel = live(page).getByTestId('panel-clock-offsets');
    await expect.poll(() => panel.getByTestId('clock-offsets-row-3').textContent()).toContain('+10 ms');
    expect(await panel.getByTestId('clock-offsets-row-2').locator('td.tone-good').textContent()).toBe('+2.5 ms');
    expect(await panel.getByTestId('clock-offsets-row-3').locator('td.tone-bad').textContent()).toBe('+10 ms');
    expect(await live(page).getByTestId('live-row-2').textContent()).toContain('+500 ms');
    await screenshot(page, 'live-clock-sync');

    await live(page).getByTestId('live-kill-3').click();
    await expect.poll(() => live(page).getByTestId('node-3').getAttribute('data-process'), { timeout: 10_000 }).toBe('stopped');
    expect(await live(page).getByTestId('node-3').getAttribute('data-up')).toBe('false');
    // its last offsets stay in the panel, faded
    expect(await panel.getByTestId('clock-offsets-row-3').getAttribute('class')).toContain('tone-dim');
    expect(await live(page).getByTestId('live-activity').textContent()).toContain('node 3: process running → stopped');
    await screenshot(page, 'live-clock-sync-killed');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
