// Live mode's Watch and Leases panels (the kv service). Without a browser: the watch feed reads a
// stream of JSON lines as it arrives and, when it breaks off, opens it again from the revision
// after the last one it received (no gap, no duplicate); a refusal stops it; the lease feed reads
// the list and each lease's time left and keys, and stops polling when live mode hides. In
// Chromium, on a 3-node cluster of real processes: a key put from the page's form shows in the
// Watch panel; a narrower prefix shows only its keys; the node serving the stream is killed from
// the page and the stream resumes on another node with the next change and nothing twice; a lease
// granted on a node, with a key, shows in the Leases panel with its key and a time left that
// counts down. Screenshots go to artifacts/screenshots/.
import type { Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { callApi, type ClusterHandle } from '../../src/supervisor/index.js';
import { LeaseFeed, WatchFeed, type FeedHttp } from '../../web/src/source/live-feeds.js';
import { CHROMIUM, hasChromium, screenshot, type Browser, startLiveCluster, stopLiveCluster } from './harness.js';


if (!hasChromium) console.warn(`e2e: skipping the live Watch and Leases browser test: ${CHROMIUM} is missing (apt-get install -y chromium)`);

/** A 200 answer whose body gives `lines` one read at a time, then ends, breaks off, or stays open. */
function streamAnswer(node: string, lines: readonly unknown[], then: 'end' | 'break' | 'open'): Response {
  const encoder = new TextEncoder();
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      const line = lines[i++];
      if (line !== undefined) return c.enqueue(encoder.encode(`${JSON.stringify(line)}\n`));
      if (then === 'end') return c.close();
      if (then === 'break') return c.error(new TypeError('network error'));
      return new Promise<void>(() => undefined);
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'application/x-ndjson', 'x-synod-node': node } });
}

const json = (status: number, body: unknown): Response => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const put = (revision: number, key: string, value: unknown): unknown => ({ type: 'put', kv: { key, value, version: 1, createRevision: revision, modRevision: revision }, revision });

describe('the live kv feeds', () => {
  let changes = 0;
  const http: FeedHttp = { base: '', headers: (accept) => ({ accept }), unauthorized: () => undefined, changed: () => void changes++ };
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('the watch stream resumes from the revision after the last one received, and a refusal stops it', async () => {
    const asked: string[] = [];
    const answers = [
      streamAnswer('1', [{ type: 'created', node: '1', revision: 4, startRevision: 5 }, { type: 'events', revision: 5, events: [put(5, 'x/a', 1)] }, { type: 'events', revision: 6, events: [put(6, 'x/b', 2), put(6, 'x/c', 3)] }, { type: 'progress', revision: 6 }], 'break'),
      streamAnswer('2', [{ type: 'created', node: '2', revision: 7, startRevision: 7 }, { type: 'events', revision: 7, events: [put(7, 'x/d', 4)] }], 'open'),
    ];
    vi.stubGlobal('fetch', (url: string) => {
      asked.push(url);
      const next = answers.shift();
      return Promise.resolve(next ?? json(503, { error: { code: 'NO_NODE_ANSWERED', message: 'none' } }));
    });
    const feed = new WatchFeed(http);
    feed.watch('x/', null);
    feed.setActive(true);
    await vi.waitFor(() => expect(feed.state().events).toBe(4), { timeout: 5000 });
    const s = feed.state();
    expect(s.phase).toBe('open');
    expect(s.status).toBe('streaming from node 2');
    expect(s.nextRevision).toBe(8);
    expect(asked.map((u) => new URL(u, 'http://x').searchParams.get('startRevision'))).toEqual([null, '7']);
    expect(new URL(asked[0] as string, 'http://x').searchParams.get('prefix')).toBe('x/');
    expect(s.entries.map((e) => (e.kind === 'event' ? `${e.revision} ${e.key} ${String(e.value)} ${e.node ?? ''}` : `opened ${e.node ?? ''} ${e.fromRevision} ${e.resumedAfter === null ? '' : 'resumed'}`))).toEqual([
      'opened 1 5 ',
      '5 x/a 1 1',
      '6 x/b 2 1',
      '6 x/c 3 1',
      'opened 2 7 resumed',
      '7 x/d 4 2',
    ]);
    expect(s.entries[4]).toMatchObject({ resumedAfter: 'the stream broke off' });
    expect(changes).toBeGreaterThan(0);

    // a refused prefix: said, and not tried again
    vi.stubGlobal('fetch', (url: string) => {
      asked.push(url);
      return Promise.resolve(json(400, { error: { code: 'RESERVED_KEY', message: 'keys under "_synod/" are reserved for the cluster' } }));
    });
    const before = asked.length;
    feed.watch('_synod/', null);
    await vi.waitFor(() => expect(feed.state().phase).toBe('failed'));
    expect(feed.state().status).toMatch(/^stopped: RESERVED_KEY: keys under/);
    expect(feed.state().entries).toEqual([]);
    await new Promise((r) => setTimeout(r, 1500));
    expect(asked.length).toBe(before + 1);
    feed.dispose();
  });

  it('the lease table: the list, then each lease with its keys and time left; no polls while hidden', async () => {
    const asked: string[] = [];
    vi.stubGlobal('fetch', (url: string) => {
      asked.push(url);
      if (url.startsWith('/api/leases?')) return Promise.resolve(json(200, { result: { revision: 12, leases: [{ id: 5, ttlMs: 30_000 }, { id: 6, ttlMs: 10_000 }], more: false }, via: '2' }));
      if (url === '/api/leases/5?keys=true') return Promise.resolve(json(200, { result: { revision: 12, id: 5, ttlMs: 30_000, remainingMs: 25_000, keys: ['svc/a'] } }));
      return Promise.resolve(json(200, { result: { revision: 12, error: 'lease-not-found', id: 6 } }));
    });
    const feed = new LeaseFeed(http);
    feed.setActive(true);
    await vi.waitFor(() => expect(feed.state().phase).toBe('ok'));
    const s = feed.state();
    expect(s).toMatchObject({ revision: 12, via: '2', more: false });
    expect(s.leases?.map((l) => [l.id, l.ttlMs, l.remainingMs, l.keys, l.problem])).toEqual([
      [5, 30_000, 25_000, ['svc/a'], null],
      [6, 10_000, null, null, 'lease-not-found'],
    ]);
    expect(asked.slice(0, 3)).toEqual(['/api/leases?limit=20', '/api/leases/5?keys=true', '/api/leases/6?keys=true']);
    feed.setActive(false);
    const count = asked.length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(asked.length).toBe(count);
  });
});

describe.skipIf(!hasChromium)('live Watch and Leases in Chromium', () => {
  let cluster: ClusterHandle | undefined;
  let browser: Browser | undefined;
  let dataDir = '';
  let webDir = '';

  beforeAll(async () => {
    ({ cluster, browser, dataDir, webDir } = await startLiveCluster('live-kv'));
  }, 90_000);

  afterAll(() => stopLiveCluster({ browser, cluster, dataDir, webDir }), 30_000);

  const live = (page: Page): Locator => page.getByTestId('live');
  const liveLeader = (page: Page): Promise<string> => live(page).getByTestId('live-status').getAttribute('data-leader').then((v) => v ?? '');
  const watchRows = (page: Page, key: string): Locator => live(page).locator(`[data-testid^="watch-row-"][data-key$="-${key}"]`);
  const caption = (page: Page): Promise<string> => live(page).getByTestId('watch-caption').innerText();

  /** Puts through the page's form, again while the cluster has no leader. */
  async function putFromPage(page: Page, key: string, value: string): Promise<void> {
    const result = live(page).getByTestId('kv-result');
    await live(page).getByTestId('kv-key').fill(key);
    await live(page).getByTestId('kv-value').fill(value);
    await expect
      .poll(
        async () => {
          await live(page).getByTestId('kv-put').click();
          await expect.poll(() => result.getAttribute('data-pending')).toBeNull();
          return result.getAttribute('data-ok');
        },
        { timeout: 20_000, interval: 500 },
      )
      .toBe('true');
  }

  it('shows the watch stream of a prefix, resumed after its node is killed, and the leases with their keys', async () => {
    const c = cluster as ClusterHandle;
    const page = await (browser as Browser).newPage();
    const errors = (page as Page & { errors?: string[] }).errors ?? [];
    await page.goto(c.dashboardUrl);
    await expect.poll(() => liveLeader(page), { timeout: 20_000 }).not.toBe('');

    // the watch of every key opens by itself; a put from the form shows in it
    await expect.poll(() => caption(page), { timeout: 10_000 }).toMatch(/^every key · 0 events · next revision \d+ · streaming from node \d/);
    await putFromPage(page, 'live/one', 'v1');
    await expect.poll(() => watchRows(page, 'live/one').count(), { timeout: 10_000 }).toBe(1);
    expect(await watchRows(page, 'live/one').innerText()).toMatch(/^\d+\tput\tlive\/one\t"v1"\t\d$/);

    // a lease granted on a node, with a key: listed with its key, its time left counting down
    const endpoints = Object.values(c.endpoints);
    const granted = await callApi(endpoints, 'POST', '/v1/leases', { ttlMs: 120_000 }, 5000, { tls: c.clientTls });
    const id = (granted.body as { result: { id: number } }).result.id;
    const attached = await callApi(endpoints, 'PUT', '/v1/kv/live%2Fleased', { value: 'held', lease: id }, 5000, { tls: c.clientTls });
    expect(attached.status).toBe(200);
    const lease = live(page).getByTestId(`leases-row-${id}`);
    await expect.poll(() => lease.innerText().catch(() => ''), { timeout: 10_000 }).toMatch(new RegExp(`^${id}\\t120000 ms\\tlive/leased\\t\\d+\\.\\d s$`));
    const left = async (): Promise<number> => Number((await lease.locator('td').nth(3).innerText()).replace(' s', ''));
    const first = await left();
    expect(first).toBeGreaterThan(100);
    expect(first).toBeLessThanOrEqual(120);
    await expect.poll(left, { timeout: 5000 }).toBeLessThan(first);
    expect(await live(page).getByTestId('leases-caption').innerText()).toMatch(/^via node \d at revision \d+ · read \d+\.\d s ago/);
    // the leased put reached the watch too
    await expect.poll(() => watchRows(page, 'live/leased').count()).toBe(1);
    await screenshot(page, 'live-kv-watch-leases');

    // a narrower prefix: only its keys, from the next revision on
    await live(page).getByTestId('watch-prefix').fill('live/w/');
    await live(page).getByTestId('watch-start').click();
    await expect.poll(() => caption(page)).toMatch(/^"live\/w\/" · 0 events · .* · streaming from node \d/);
    expect(await watchRows(page, 'live/one').count()).toBe(0);
    await putFromPage(page, 'live/other', 'no');
    await putFromPage(page, 'live/w/a', 'yes');
    await expect.poll(() => watchRows(page, 'live/w/a').count(), { timeout: 10_000 }).toBe(1);
    expect(await watchRows(page, 'live/other').count()).toBe(0);

    // kill the node serving the stream from the page: it resumes on another one, misses nothing, repeats nothing
    const serving = (await watchRows(page, 'live/w/a').locator('td').nth(4).innerText()).trim();
    await live(page).getByTestId(`live-kill-${serving}`).click();
    await expect.poll(() => live(page).getByTestId('panel-watch').locator('[data-testid^="watch-row-opened-"]').count(), { timeout: 20_000 }).toBe(2);
    const resumed = live(page).getByTestId('watch-row-opened-2');
    expect(await resumed.innerText()).toMatch(/resumed on node \d from revision \d+ \(the stream broke off\)/);
    expect(await resumed.innerText()).not.toContain(`on node ${serving} `);
    await putFromPage(page, 'live/w/b', 'after');
    await expect.poll(() => watchRows(page, 'live/w/b').count(), { timeout: 20_000 }).toBe(1);
    expect(await watchRows(page, 'live/w/a').count()).toBe(1);
    const revisions = await live(page).locator('[data-testid^="watch-row-"]:not([data-testid^="watch-row-opened-"])').evaluateAll((rows) => rows.map((r) => Number(r.children[0]?.textContent)));
    expect(revisions).toHaveLength(2);
    expect(revisions[1]).toBeGreaterThan(revisions[0] as number);
    expect(await caption(page)).toMatch(/^"live\/w\/" · 2 events · .* · streaming from node \d/);
    await screenshot(page, 'live-kv-watch-resumed');
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
