// Live mode in a real browser: a 3-node cluster of real processes started from source by the
// local-cluster supervisor (`synod cluster up`), whose control server serves the dashboard. The
// page shows the three nodes and the leader, writes and reads a key, kills the leader (a new one
// is elected, the killed node is drawn stopped), pauses and resumes a follower, restarts the
// killed node, and still offers the simulation. Screenshots go to artifacts/screenshots/.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultWebDir, serveDashboard, type ClusterHandle } from '../../src/supervisor/index.js';
import { kvLiveAdapter } from '../../web/src/adapters/live-kv.js';
import { LiveSource, type LiveNodeInfo } from '../../web/src/source/live.js';
import { parseValue } from '../../web/src/ui/live.js';
import { CHROMIUM, hasChromium, screenshot, type Browser, startLiveCluster, stopLiveCluster } from './harness.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

if (!hasChromium) console.warn(`e2e: skipping the live-mode tests: ${CHROMIUM} is missing (apt-get install -y chromium)`);


async function get(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url);
  return { status: res.status, text: await res.text() };
}

describe('the dashboard route', () => {
  it('is web/dist of the package by default, and says how to build it when it is missing', async () => {
    expect(defaultWebDir()).toBe(join(ROOT, 'web', 'dist'));
    const empty = mkdtempSync(join(tmpdir(), 'synod-noweb-'));
    const server = createHttpServer((req, res) => void serveDashboard(empty, new URL(req.url ?? '/', 'http://x').pathname, req, res));
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const page = await get(`${base}/`);
      expect(page.status).toBe(503);
      expect(page.text).toContain('npm run web:build');
    } finally {
      await new Promise<void>((ok) => server.close(() => ok()));
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('LiveSource', () => {
  const status = (id: string, role: string, term: number, leader: string | null, commit: number) => ({ id, role, term, vote: leader, leader, commit, applied: commit, lastIndex: commit, snapshotIndex: 0, configIndex: 0, voters: ['1', '2', '3'], learners: [] });
  const info = (id: string, process: LiveNodeInfo['process'], s?: unknown): LiveNodeInfo => ({ id, process, pid: process === 'stopped' ? null : 100 + Number(id), restarts: 0, endpoint: `http://127.0.0.1:${7000 + Number(id)}`, ...(s === undefined ? {} : { status: s }) });

  it('draws running, paused, stopped and silent nodes, and finds the leader', () => {
    const source = new LiveSource(kvLiveAdapter);
    source.ingest({ time: 1, nodes: [info('1', 'running', status('1', 'leader', 2, '1', 5)), info('2', 'running', status('2', 'follower', 2, '1', 5)), info('3', 'running', status('3', 'follower', 2, '1', 4))] });
    expect(source.leader()).toBe('1');
    let view = source.view(0);
    expect(view.nodes.map((n) => [n.id, n.role, n.term, n.log.commit, n.process, n.reachable])).toEqual([
      ['1', 'leader', 2, 5, 'running', true],
      ['2', 'follower', 2, 5, 'running', true],
      ['3', 'follower', 2, 4, 'running', true],
    ]);
    // 1 is paused (no status: it cannot answer), 2 runs but does not answer, 3 was killed
    source.ingest({ time: 2, nodes: [info('1', 'paused'), info('2', 'running', null), info('3', 'stopped')] });
    view = source.view(0);
    const [one, two, three] = view.nodes;
    expect(one).toMatchObject({ up: true, paused: true, process: 'paused', role: 'leader', term: 2 });
    expect(one?.details[0]).toBe('paused · commit 5 · applied 5');
    expect(two).toMatchObject({ up: true, paused: false, process: 'running', reachable: false, role: 'unknown', term: null });
    expect(two?.details[0]).toBe('no answer');
    expect(three).toMatchObject({ up: false, process: 'stopped', role: 'down' });
    // a paused leader is not the leader: it cannot answer
    expect(view.leader).toBeNull();
    expect(source.nodes.find((n) => n.id === '2')).toMatchObject({ fresh: false, status: { role: 'follower', commit: 5 } });
    const activity = source.activity().join('\n');
    expect(activity).toContain('node 1 leads (term 2)');
    expect(activity).toContain('node 1: process running → paused');
    expect(activity).toContain('node 2 does not answer');
    expect(activity).toContain('node 3: process running → stopped');
    expect(activity).toContain('no leader');
    // a status from a stale term does not win over the newer leader
    source.ingest({ time: 3, nodes: [info('1', 'running', status('1', 'leader', 2, '1', 5)), info('2', 'running', status('2', 'leader', 3, '2', 6)), info('3', 'stopped')] });
    expect(source.leader()).toBe('2');
  });

  it('reads typed values as JSON when they are JSON', () => {
    expect(parseValue('hello')).toBe('hello');
    expect(parseValue('42')).toBe(42);
    expect(parseValue('{"a":[1,true]}')).toEqual({ a: [1, true] });
    expect(parseValue('"quoted"')).toBe('quoted');
  });
});

describe.skipIf(!hasChromium)('live mode in Chromium', () => {
  let cluster: ClusterHandle | undefined;
  let browser: Browser | undefined;
  let dataDir = '';
  let webDir = '';

  beforeAll(async () => {
    ({ cluster, browser, dataDir, webDir } = await startLiveCluster('live'));
  }, 90_000);

  afterAll(() => stopLiveCluster({ browser, cluster, dataDir, webDir }), 30_000);

  const live = (page: Page): Locator => page.getByTestId('live');
  const node = (page: Page, id: string): Locator => live(page).getByTestId(`node-${id}`);
  const row = (page: Page, id: string): Locator => live(page).getByTestId(`live-row-${id}`);
  const liveLeader = (page: Page): Promise<string> => live(page).getByTestId('live-status').getAttribute('data-leader').then((v) => v ?? '');

  it('shows the real nodes and the leader, writes and reads a key, kills, pauses and restarts nodes', async () => {
    const c = cluster as ClusterHandle;
    const page = await (browser as Browser).newPage();
    const errors = (page as Page & { errors?: string[] }).errors ?? [];
    expect(c.dashboardUrl).toBe(`${c.controlUrl}/`);
    await page.goto(c.dashboardUrl);

    // three nodes, one of them leader, with role, term, commit and applied index
    await expect.poll(() => live(page).locator('[data-testid^=node-][data-process=running][data-reachable=true]').count(), { timeout: 15_000 }).toBe(3);
    await expect.poll(() => liveLeader(page), { timeout: 15_000 }).not.toBe('');
    const leader = await liveLeader(page);
    expect(await node(page, leader).getAttribute('data-role')).toBe('leader');
    expect(Number(await node(page, leader).getAttribute('data-term'))).toBeGreaterThan(0);
    expect(await row(page, leader).getAttribute('data-role')).toBe('leader');
    expect(await live(page).getByTestId('live-connection').getAttribute('data-state')).toBe('open');
    expect(await page.getByTestId('mode-live').getAttribute('aria-selected')).toBe('true');
    expect(await page.getByTestId('simulation').isHidden()).toBe(true);
    await screenshot(page, 'live-cluster');

    // put a key and read it back through the page
    const result = live(page).getByTestId('kv-result');
    await live(page).getByTestId('kv-key').fill('greeting');
    await live(page).getByTestId('kv-value').fill('hello, live cluster');
    await live(page).getByTestId('kv-put').click();
    await expect.poll(() => result.getAttribute('data-ok')).toBe('true');
    expect(await result.textContent()).toMatch(/^put greeting = "hello, live cluster": committed at index \d+/);
    await live(page).getByTestId('kv-value').fill('');
    await live(page).getByTestId('kv-get').click();
    await expect.poll(() => result.textContent()).toMatch(/^greeting = "hello, live cluster" \(version 1, read at index \d+/);
    expect(await result.getAttribute('data-value')).toBe('"hello, live cluster"');
    // the commit index moved on every node
    await expect.poll(() => live(page).locator('[data-testid^=live-row-]').evaluateAll((rows) => rows.map((r) => Number(r.children[5]?.textContent)).every((n) => n >= 2))).toBe(true);
    await screenshot(page, 'live-kv');

    // kill the leader from the page: drawn stopped, and the others elect a new leader
    await live(page).getByTestId(`live-kill-${leader}`).click();
    await expect.poll(() => node(page, leader).getAttribute('data-process'), { timeout: 10_000 }).toBe('stopped');
    expect(await node(page, leader).getAttribute('data-up')).toBe('false');
    expect(await row(page, leader).getAttribute('data-process')).toBe('stopped');
    await expect.poll(() => liveLeader(page), { timeout: 15_000 }).toMatch(/^[0-9]+$/);
    const next = await liveLeader(page);
    expect(next).not.toBe(leader);
    expect(await node(page, next).getAttribute('data-role')).toBe('leader');
    expect(await live(page).getByTestId('live-activity').textContent()).toContain(`node ${leader}: process running → stopped`);
    await screenshot(page, 'live-leader-killed');

    // the key is still there, read through the new leader
    await live(page).getByTestId('kv-get').click();
    await expect.poll(() => result.textContent(), { timeout: 10_000 }).toMatch(/^greeting = "hello, live cluster"/);

    // pause the remaining follower: a paused process keeps its place, drawn with the badge
    const follower = ['1', '2', '3'].find((id) => id !== leader && id !== next) as string;
    await live(page).getByTestId(`live-pause-${follower}`).click();
    await expect.poll(() => node(page, follower).getAttribute('data-paused')).toBe('true');
    expect(await live(page).getByTestId(`live-pause-${follower}`).textContent()).toBe('Resume');
    await screenshot(page, 'live-paused');
    await live(page).getByTestId(`live-pause-${follower}`).click();
    await expect.poll(() => node(page, follower).getAttribute('data-process')).toBe('running');

    // restart the killed node from the page: running and answering again, following the new leader
    await live(page).getByTestId(`live-restart-${leader}`).click();
    await expect.poll(() => row(page, leader).getAttribute('data-process'), { timeout: 10_000 }).toBe('running');
    await expect.poll(() => node(page, leader).getAttribute('data-reachable'), { timeout: 20_000 }).toBe('true');
    await expect.poll(() => node(page, leader).getAttribute('data-role'), { timeout: 10_000 }).toBe('follower');
    expect(await node(page, leader).getAttribute('data-up')).toBe('true');
    expect(await row(page, leader).textContent()).toContain('1 restart');
    await expect.poll(() => live(page).locator('[data-testid^=node-][data-process=running][data-reachable=true]').count(), { timeout: 10_000 }).toBe(3);
    await screenshot(page, 'live-restarted');

    // the simulation is one tab away, and back
    await page.getByTestId('mode-simulation').first().click();
    await page.getByTestId('status').and(page.locator('[data-time]')).waitFor();
    expect(await live(page).isHidden()).toBe(true);
    expect(page.url()).toContain('#p=raft');
    await screenshot(page, 'live-simulation-tab');
    await page.getByTestId('simulation').getByTestId('mode-live').click();
    await expect.poll(() => live(page).isVisible()).toBe(true);
    expect(page.url()).toMatch(/#live$/);

    // the supervisor goes away: the page says so and keeps the last state, faded
    await c.stop();
    cluster = undefined;
    await expect.poll(() => live(page).getByTestId('live-connection').getAttribute('data-state'), { timeout: 10_000 }).toBe('lost');
    expect(await live(page).getByTestId('live-banner').textContent()).toContain('Lost the connection to the cluster supervisor');
    expect(await live(page).locator('[data-testid^=node-]').count()).toBe(3);
    await screenshot(page, 'live-disconnected');
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);
});
