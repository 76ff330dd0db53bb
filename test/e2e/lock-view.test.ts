// The visualizer's lock view. Without a browser: the lock adapters play the scenario scripts the
// lock tests play (src/lockcore/sim/scenarios.ts) and reach the same verdicts as runLockScenario;
// the pause scenario is told step by step; time travel gives the same panels. In Chromium: the
// pause scenario on the fenced Synod lock (the refused write, the resource verdict ok, the mutex
// as believed violated), on the unfenced one (the resource verdict violated), and the inventory
// race's five variants picked from the scenario list, each with its verdict. Live: on a 3-node
// cluster of real processes, a lock taken with the library (KvLock over SynodLeaseKv) shows in the
// Locks panel with its holder, token and lease time left; a second contender waits behind it and
// takes over when it is released; then the line is empty.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synodCommand } from '../../src/server/test/synod-command.js';
import { SynodClient } from '../../src/client/index.js';
import { KvLock, SynodLeaseKv } from '../../src/lock/index.js';
import { startLocalCluster, type ClusterHandle } from '../../src/supervisor/index.js';
import { liveLocksTable } from '../../web/src/adapters/live-locks.js';
import { INVENTORY_SCENARIOS, lockScenarioByName, runLockScenario, type LockScenario } from '../../src/lockcore/sim/index.js';
import { adapterById } from '../../web/src/adapters/index.js';
import type { PanelContent, ProtocolAdapter, TableContent, TableRow } from '../../web/src/adapters/types.js';
import { SimulationSource } from '../../web/src/source/simulation.js';
import { buildApp, CHROMIUM, freeBasePort, goTo, hasChromium, launch, screenshot, useServedApp, type Browser } from './harness.js';

const SYNOD = synodCommand;

function table(content: PanelContent | undefined): TableContent {
  if (content === undefined || content.kind !== 'table') throw new Error('expected a table');
  return content;
}

const texts = (row: TableRow | undefined): string[] => (row?.cells ?? []).map((c) => (typeof c === 'string' ? c : c.text));

function source(protocol: string, scenario: string): SimulationSource {
  const adapter = adapterById(protocol) as ProtocolAdapter;
  expect(adapter, protocol).toBeDefined();
  const sc = adapter.scenarios.find((s) => s.id === scenario);
  expect(sc, scenario).toBeDefined();
  return new SimulationSource(adapter, { protocol, nodes: sc?.nodes ?? 2, seed: sc?.seed ?? 1, actions: [], scenario });
}

/** The verdict rows of the panel by key: [verdict, detail]. */
function verdicts(src: SimulationSource): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of table(src.view(1).panels['lock-verdicts']).rows) out[r.key] = texts(r)[1] ?? '';
  return out;
}

describe('lock view, engine', () => {
  it('every lock scenario is listed under one lock protocol, under its own name', () => {
    const ids = ['lock', 'lock-unfenced', 'lock-redis', 'redlock'].flatMap((p) => (adapterById(p) as ProtocolAdapter).scenarios.map((s) => s.id));
    expect(ids).toContain('kleppmann-pause-synod-fenced');
    expect(ids).toContain('kleppmann-pause-synod-unfenced');
    expect(ids).toContain('kleppmann-clock-jump-redlock');
    for (const s of INVENTORY_SCENARIOS) expect((adapterById('lock') as ProtocolAdapter).scenarios.map((x) => x.id)).toContain(s.name);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('the pause scenario, fenced: told step by step, the stale write refused, the resource verdict ok', () => {
    const src = source('lock', 'kleppmann-pause-synod-fenced');
    // c1 holds and is paused; c2 waits behind it in the line
    src.seek(400);
    const lock = table(src.view(1).panels['lock']);
    expect(lock.rows.map((r) => [r.key, ...texts(r).slice(1, 3)])).toEqual([
      ['holder', 'c1', '1'],
      ['waiter-1', 'c2', '2'],
    ]);
    expect(texts(lock.rows[0])[3]).toMatch(/^\d+ ms$/);
    expect(texts(table(src.view(1).panels['lock-clients']).rows[0])).toEqual(['c1', 'working', 'holds, paused', '1']);
    // the panel shows the newest lines: read it along the way, each line by its number
    const lines = new Map<number, string>();
    const read = (): void => {
      for (const r of table(src.view(1).panels['lock-story']).rows) lines.set(Number(r.key), texts(r).slice(1).join(' '));
    };
    for (const t of [100, 250, 400, 600, 800, 1000, 1200, 3000]) {
      src.seek(t);
      read();
    }
    const view = src.view(1);
    expect(view.caption).toContain('Scenario complete');
    expect(view.caption).toContain('as believed: VIOLATION; fenced resource: ok');
    const story = [...lines].sort((a, b) => a[0] - b[0]).map(([, text]) => text);
    const order = ['c1 learns it holds lock L (token 1)', 'c1 is paused for 900 ms', "service c1's lease on L expired", 'service grants lock L to c2 (token 2)', "db accepts c2's write of x with token 2", "db REFUSES c1's write of x with token 1"];
    const at = order.map((line) => story.findIndex((s) => s.startsWith(line)));
    expect(at.every((i) => i >= 0), story.join('\n')).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    const resource = table(view.panels['lock-resource']);
    expect(texts(resource.rows[0])).toEqual(['x', '2', '2', '1', '1']);
    expect(resource.caption?.text).toMatch(/last refused: c1's write of x with token 1/);
    expect(verdicts(src)).toMatchObject({ service: 'ok', client: 'violation', grants: 'ok', resource: 'ok' });
    expect(view.monitors.find((m) => m.id === 'lock-resource')?.violation).toBeNull();
    // back in time and forward again: the same panels
    const panels = view.panels;
    src.seek(500);
    src.seek(3000);
    expect(src.view(1).panels).toEqual(panels);
  });

  it('the pause scenario, unfenced: the stale write taken, the resource verdict violated', () => {
    const src = source('lock-unfenced', 'kleppmann-pause-synod-unfenced');
    src.seek(3000);
    expect(texts(table(src.view(1).panels['lock-resource']).rows[0])).toEqual(['x', '1', '2', '2', '0']);
    expect(verdicts(src)).toMatchObject({ service: 'ok', client: 'violation', resource: 'violation' });
    expect(src.view(1).monitors.find((m) => m.id === 'lock-resource')?.violation?.message).toMatch(/accepted c1's write .* after c2's write/);
  });

  it.each(INVENTORY_SCENARIOS.map((s) => [s.name, s] as const))('inventory race %s: the verdict runLockScenario gives', (name, scenario: LockScenario) => {
    const src = source('lock', name);
    src.seek(3000);
    const expected = runLockScenario(scenario).verdicts.inventory;
    expect(expected).toBe(scenario.expected.inventory);
    expect(verdicts(src)['inventory']).toBe(expected);
    expect(src.view(1).caption).toContain(`Inventory: ${expected === 'ok' ? 'ok' : 'VIOLATION'}`);
  });

  it('live: the Locks panel orders each name by create revision; the first holds a lock, readers ahead of a writer hold together', () => {
    const key = (k: string, rev: number, value: unknown = '') => ({ key: k, createRevision: rev, lease: rev * 10, value });
    const panel = liveLocksTable({
      nowMs: 10_500,
      locks: { phase: 'open', status: 'streaming from node 1', truncated: false, keys: [key('synod-lock/a%2Fb/80', 8), key('synod-lock/a%2Fb/50', 5), key('synod-rwlock/r/60', 6, 'read'), key('synod-rwlock/r/70', 7, 'read'), key('synod-rwlock/r/90', 9, 'write'), key('other/x', 3)] },
      leases: { phase: 'ok', status: '', more: false, revision: 9, via: '1', polledAt: 10_000, leases: [{ id: 50, ttlMs: 10_000, remainingMs: 8000, readAt: 10_000, keys: null, problem: null }] },
    });
    expect(panel.rows.map((r) => texts(r).slice(0, 6))).toEqual([
      ['lock', 'a/b', 'holder', '50', '5', '7.5 s'],
      ['lock', 'a/b', 'waiter 1', '80', '8', '—'],
      ['rwlock', 'r', 'holder', '60', '6', '—'],
      ['rwlock', 'r', 'holder', '70', '7', '—'],
      ['rwlock', 'r', 'waiter 2', '90', '9', '—'],
    ]);
    expect(panel.caption?.text).toBe('6 keys under the recipes\' prefixes · streaming from node 1');
  });

  it('a link action naming a node the system does not have is skipped, as a crash of one is', () => {
    const src = new SimulationSource(adapterById('lock') as ProtocolAdapter, { protocol: 'lock', nodes: 2, seed: 1, actions: [] });
    src.seek(100);
    src.dispatch({ kind: 'link', from: '1', to: '*', loss: 0.3, delayMs: 20, both: true });
    src.dispatch({ kind: 'link', from: 'c1', to: 'db', loss: 0, delayMs: 50, both: false });
    src.seek(200);
    expect(src.view(1).failure).toBeNull();
    expect(src.view(1).links).toEqual([{ from: 'c1', to: 'db', loss: 0, delayMs: 50 }]);
  });

  it('the same scenario object the tests use', () => {
    // the adapter lists the scripts themselves, not copies: the caption is the script's
    const src = source('redlock', 'kleppmann-clock-jump-redlock');
    src.seek(10);
    expect(src.view(1).caption?.split('\n')[0]).toBe(lockScenarioByName('kleppmann-clock-jump-redlock')?.caption);
  });
});

if (!hasChromium) console.warn(`e2e: skipping the lock view browser tests: ${CHROMIUM} is missing (apt-get install -y chromium)`);

describe.skipIf(!hasChromium)('lock view in Chromium', () => {
  const app = useServedApp('synod-web-lock-');

  async function open(fragment: string): Promise<Page> {
    const page = await app.browser().newPage();
    await page.goto(`${app.url()}#${fragment}`);
    await page.getByTestId('status').and(page.locator('[data-time]')).waitFor();
    return page;
  }

  const cell = (page: Page, panel: string, row: string, n: number): Promise<string> => page.getByTestId(`${panel}-row-${row}`).locator('td').nth(n).innerText();
  const errors = (page: Page): string[] => (page as Page & { errors?: string[] }).errors ?? [];

  it('the pause scenario: the fenced lock refuses the stale write, the unfenced one takes it', async () => {
    const page = await open('p=lock&n=2&s=1');
    await page.getByTestId('scenario').selectOption('kleppmann-pause-synod-fenced');
    await expect.poll(() => page.getByTestId('caption').textContent()).toContain('c1 takes the lock');
    await goTo(page, 400);
    expect(await cell(page, 'lock', 'holder', 1)).toBe('c1');
    expect(await cell(page, 'lock', 'waiter-1', 1)).toBe('c2');
    expect(await cell(page, 'lock-clients', 'c1', 2)).toContain('paused');
    await screenshot(page, 'lock-pause-paused');
    await goTo(page, 3000);
    await expect.poll(() => page.getByTestId('caption').textContent()).toContain('Scenario complete');
    expect(await page.getByTestId('lock-resource-caption').innerText()).toMatch(/last refused: c1's write of x with token 1/);
    expect(await cell(page, 'lock-resource', 'x', 2)).toBe('2');
    expect(await cell(page, 'lock-verdicts', 'resource', 1)).toBe('ok');
    expect(await cell(page, 'lock-verdicts', 'client', 1)).toBe('violation');
    expect(await page.getByTestId('monitor-lock-resource').getAttribute('data-ok')).toBe('true');
    expect(await page.getByTestId('panel-lock-story').innerText()).toContain("REFUSES c1's write of x with token 1");
    await screenshot(page, 'lock-pause-fenced');

    await page.getByTestId('protocol').selectOption('lock-unfenced');
    await page.getByTestId('scenario').selectOption('kleppmann-pause-synod-unfenced');
    await goTo(page, 3000);
    await expect.poll(() => page.getByTestId('caption').textContent()).toContain('fenced resource: VIOLATION');
    expect(await cell(page, 'lock-verdicts', 'resource', 1)).toBe('violation');
    expect(await page.getByTestId('monitor-lock-resource').getAttribute('data-ok')).toBe('false');
    expect(await cell(page, 'lock-resource', 'x', 1)).toBe('1');
    await screenshot(page, 'lock-pause-unfenced');
    expect(errors(page)).toEqual([]);
    await page.close();
  });

  it('the inventory race: the lost update, then four ways to prevent it', async () => {
    const page = await open('p=lock&n=2&s=1');
    const seen: Record<string, string> = {};
    for (const s of INVENTORY_SCENARIOS) {
      await page.getByTestId('scenario').selectOption(s.name);
      await goTo(page, 2500);
      await expect.poll(() => page.getByTestId('caption').textContent()).toContain('Scenario complete');
      seen[s.name] = await cell(page, 'lock-verdicts', 'inventory', 1);
      if (s.name === 'inventory-lost-update') await screenshot(page, 'lock-inventory-lost-update');
    }
    expect(seen).toEqual({
      'inventory-lost-update': 'violation',
      'inventory-row-lock': 'ok',
      'inventory-version-check': 'ok',
      'inventory-fenced-lock': 'ok',
      'inventory-conditional-decrement': 'ok',
    });
    expect(errors(page)).toEqual([]);
    await page.close();
  });
});

describe.skipIf(!hasChromium)('live Locks panel in Chromium', () => {
  let cluster: ClusterHandle | undefined;
  let browser: Browser | undefined;
  let dataDir = '';
  let webDir = '';

  beforeAll(async () => {
    webDir = mkdtempSync(join(tmpdir(), 'synod-web-locks-'));
    dataDir = mkdtempSync(join(tmpdir(), 'synod-live-locks-'));
    const [basePort] = await Promise.all([freeBasePort(), buildApp(webDir)]);
    [cluster, browser] = await Promise.all([startLocalCluster({ nodes: 3, dataDir, basePort, logLevel: 'warn', command: SYNOD, webDir }), launch()]);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
    if (dataDir !== '') rmSync(dataDir, { recursive: true, force: true });
    if (webDir !== '') rmSync(webDir, { recursive: true, force: true });
  }, 30_000);

  const live = (page: Page): Locator => page.getByTestId('live');
  const rowsOf = (page: Page, name: string): Locator => live(page).locator(`[data-testid^="locks-row-synod-lock/${name}/"]`);
  const cells = async (row: Locator): Promise<string[]> => (await row.innerText()).split('\t').map((t) => t.trim());

  it('a lock taken with the library shows its holder, token and lease; the waiter takes over on release', async () => {
    const c = cluster as ClusterHandle;
    const page = await (browser as Browser).newPage();
    const errors = (page as Page & { errors?: string[] }).errors ?? [];
    await page.goto(c.dashboardUrl);
    await expect.poll(() => live(page).getByTestId('live-status').getAttribute('data-leader'), { timeout: 20_000 }).not.toBeNull();
    await expect.poll(() => live(page).getByTestId('locks-caption').innerText(), { timeout: 20_000 }).toMatch(/streaming from node \d/);
    const client = new SynodClient({ endpoints: Object.values(c.endpoints), tls: c.clientTls });
    const lock = new KvLock(new SynodLeaseKv(client));
    try {
      const first = await lock.acquire('report', { ttlMs: 20_000 });
      const holder = live(page).getByTestId(`locks-row-synod-lock/report/${first.holder}`);
      await expect.poll(() => cells(holder).catch(() => []), { timeout: 15_000 }).toEqual(expect.arrayContaining(['lock', 'report', 'holder', first.holder, String(first.token)]));
      // the lease's time left, from the lease table
      await expect.poll(async () => (await cells(holder))[5] ?? '', { timeout: 10_000 }).toMatch(/^\d+\.\d s$/);
      const second = lock.acquire('report', { ttlMs: 20_000, waitMs: 30_000 });
      await expect.poll(() => rowsOf(page, 'report').count(), { timeout: 15_000 }).toBe(2);
      const waiter = rowsOf(page, 'report').nth(1);
      expect((await cells(waiter)).slice(0, 3)).toEqual(['lock', 'report', 'waiter 1']);
      await screenshot(page, 'live-locks-held');
      await lock.release(first);
      const next = await second;
      expect(next.token).toBeGreaterThan(first.token);
      await expect.poll(() => rowsOf(page, 'report').count(), { timeout: 15_000 }).toBe(1);
      expect((await cells(rowsOf(page, 'report').first())).slice(0, 5)).toEqual(['lock', 'report', 'holder', next.holder, String(next.token)]);
      await lock.release(next);
      await expect.poll(() => rowsOf(page, 'report').count(), { timeout: 15_000 }).toBe(0);
    } finally {
      await lock.close();
      client.close();
    }
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
