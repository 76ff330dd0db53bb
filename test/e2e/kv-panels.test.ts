// The Raft adapter's key-value panels (Watch, Leases, KV requests): first without a browser (the
// link format of a request, the watcher following a crash, time travel giving the same panel
// content, the history left to the kv model, the guided watch scenario, live mode's panels drawn
// from their feeds), then in Chromium like a user: issue a txn from the page, see its events in the watch
// panel, scrub back and forth (previews from cached frames and replays), and grant a lease.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { kvLiveAdapter } from '../../web/src/adapters/live-kv.js';
import { raftAdapter } from '../../web/src/adapters/raft.js';
import type { PanelContent, TableContent } from '../../web/src/adapters/types.js';
import { decodeRun, encodeRun, RunFormatError, type Action, type RunSpec } from '../../web/src/engine/actions.js';
import { SimSession } from '../../web/src/engine/session.js';
import { SimulationSource } from '../../web/src/source/simulation.js';
import { CHROMIUM, goTo, hasChromium, screenshot, status, useServedApp } from './harness.js';

const TXN_CREATE = { op: 'txn', compare: [{ key: 'x/lock', target: 'version', cmp: '=', value: 0 }], success: [{ op: 'put', key: 'x/lock', value: 'mine' }], failure: [{ op: 'get', key: 'x/lock' }] };

const kv = (request: unknown, node: string | null = null): Action => ({ kind: 'client', op: 'kv', node, arg: JSON.stringify(request) });

function table(content: PanelContent | undefined): TableContent {
  if (content === undefined || content.kind !== 'table') throw new Error('expected a table');
  return content;
}

/** The watch panel's rows as "rev type key value node" lines, empty cells left out. */
function watchLines(source: SimulationSource): string[] {
  return table(source.view(1).panels['watch']).rows.map((r) => r.cells.map((c) => (typeof c === 'string' ? c : c.text)).filter((t) => t !== '').join(' '));
}

describe('KV panels, engine', () => {
  it('a request in a link keeps every character, and a bad escape is refused', () => {
    const arg = JSON.stringify({ op: 'put', key: 'a;b&c%d~e#f,g(h)@i', value: 'x y' });
    const run: RunSpec = { protocol: 'raft', nodes: 3, seed: 1, actions: [{ at: 10, action: { kind: 'client', op: 'kv', node: null, arg } }, { at: 20, action: { kind: 'client', op: 'watchMove', node: '2' } }] };
    const text = encodeRun(run, 30);
    expect(text).toContain('client(kv,-,{"op":"put","key":"a~3Bb~26c~25d~7Ee~23f,g(h)@i","value":"x y"})@10;client(watchMove,2)@20');
    expect(decodeRun(text, { protocol: 'raft', nodes: 3, seed: 1 }).run).toEqual(run);
    expect(decodeRun(`#${encodeURIComponent(text)}`, { protocol: 'raft', nodes: 3, seed: 1 }).run).toEqual(run);
    expect(() => decodeRun('p=raft&a=client(kv,-,~zz)@5', { protocol: 'raft', nodes: 3, seed: 1 })).toThrow(RunFormatError);
  });

  it('a txn sent from the page reaches the watcher; it survives the crash of its node; time travel shows the same panels', () => {
    const source = new SimulationSource(raftAdapter, { protocol: 'raft', nodes: 3, seed: 3, actions: [] });
    source.seek(1500);
    const leader = source.view(1).leader as string;
    expect(leader).not.toBe('');
    source.dispatch({ kind: 'client', op: 'watch', node: leader, arg: JSON.stringify({ prefix: 'x/', fromRevision: 1, prevKv: true }) });
    source.dispatch(kv(TXN_CREATE));
    source.dispatch(kv({ op: 'put', key: 'y', value: 1 }));
    source.seek(1900);
    const at1900 = source.view(1).panels;
    expect(watchLines(source)).toEqual([`start watching on node ${leader} from revision 1 ${leader}`, `1 put x/lock "mine" ${leader}`]);
    expect(table(at1900['watch']).caption?.tone).toBe('good');
    const requests = table(at1900['kv-requests']).rows.map((r) => r.cells.map((c) => (typeof c === 'string' ? c : c.text)).join(' | '));
    expect(requests).toEqual(['2 | put y=1 | any | ok · revision 2', '1 | txn: 1 compare, 1 / 1 ops | any | succeeded · revision 1']);
    // the same txn again: x/lock exists, the compare fails, nothing changes
    source.seek(2000);
    source.dispatch(kv(TXN_CREATE));
    source.dispatch({ kind: 'crash', node: leader });
    source.seek(3500);
    source.dispatch(kv({ op: 'txn', compare: [], success: [{ op: 'put', key: 'x/a', value: 1 }, { op: 'delete', key: 'x/lock' }], failure: [] }));
    source.seek(4500);
    const lines = watchLines(source);
    expect(lines[2]).toMatch(new RegExp(`^moved resumed on node (\\d) from revision 3 \\(node ${leader} is down\\)`));
    expect(lines.slice(3).map((l) => l.replace(/ \d$/, ''))).toEqual(['3 put x/a 1', '3 delete x/lock "mine"']);
    const caption = table(source.view(1).panels['watch']).caption;
    expect(caption?.tone, caption?.text).toBe('good');
    expect(caption?.text).toContain('none missing, none twice');
    expect(table(source.view(1).panels['kv-requests']).rows[1]?.cells[3]).toMatchObject({ text: expect.stringMatching(/^compare failed · revision 2 · read "mine"/) });
    const at4500 = source.view(24);
    // back in time (a replay from the seed) and forward again: the same content, the same hashes
    source.seek(1900);
    expect(source.view(1).panels).toEqual(at1900);
    source.seek(4500);
    const again = source.view(24);
    expect(again.panels).toEqual(at4500.panels);
    expect(again.stateHash).toBe(at4500.stateHash);
    expect(again.traceHash).toBe(at4500.traceHash);
  });

  it('the checker leaves out operations the kv model does not know and the keys they wrote', () => {
    const source = new SimulationSource(raftAdapter, { protocol: 'raft', nodes: 3, seed: 4, actions: [] });
    source.seek(1500);
    source.dispatch({ kind: 'client', op: 'write', node: null });
    source.dispatch(kv({ op: 'txn', compare: [], success: [{ op: 'put', key: 'x', value: 99 }], failure: [] }));
    source.seek(1800);
    source.dispatch({ kind: 'client', op: 'read', node: null });
    source.dispatch(kv({ op: 'get', key: 'k', revision: 1 }));
    source.seek(2500);
    const check = source.view(1).check;
    // the read of x sees 99, which no put of the model wrote: without the selection, a violation
    expect(check.verdict).toBe('none');
    expect(check.text).toMatch(/not checked: 2 operations the model does not know; key x \(changed by txn/);
    source.dispatch({ kind: 'client', op: 'incr', node: null });
    source.seek(3000);
    expect(source.view(1).check.text).toMatch(/^linearizable \(kv model; 1 operation; not checked: /);
  });

  it('leases: grant, put with a lease, the table with its keys, and revoke deleting them at one revision', () => {
    const source = new SimulationSource(raftAdapter, { protocol: 'raft', nodes: 3, seed: 5, actions: [] });
    source.seek(1500);
    source.dispatch({ kind: 'client', op: 'watch', node: source.view(1).leader, arg: JSON.stringify({ prefix: '', fromRevision: 0, prevKv: false }) });
    source.dispatch(kv({ op: 'leaseGrant', ttlMs: 3000, id: 7 }));
    source.seek(1700);
    source.dispatch(kv({ op: 'put', key: 'x/s1', value: 1, lease: 7 }));
    source.seek(1800);
    source.dispatch(kv({ op: 'put', key: 'x/s2', value: 2, lease: 7 }));
    source.seek(2000);
    const leases = table(source.view(1).panels['leases']);
    const cells = leases.rows.map((r) => r.cells.map((c) => (typeof c === 'string' ? c : c.text)));
    expect(cells.map((row) => row.slice(0, 3))).toEqual([['7', '3000 ms', 'x/s1, x/s2']]);
    // the leader's Lessor counts down: granted about 500 ms ago with a 3000 ms TTL
    const left = Number(/^(\d+) ms$/.exec(cells[0]?.[3] ?? '')?.[1]);
    expect(left).toBeGreaterThan(2000);
    expect(left).toBeLessThanOrEqual(3000);
    expect(leases.caption?.text).toContain('from its Lessor');
    source.dispatch(kv({ op: 'leaseRevoke', id: 7 }));
    source.seek(2300);
    expect(table(source.view(1).panels['leases']).rows).toEqual([]);
    expect(watchLines(source).slice(1).map((l) => l.replace(/ \d$/, ''))).toEqual(['1 put x/s1 1', '2 put x/s2 2', '3 delete x/s1', '3 delete x/s2']);
  });

  it('leases: one nobody keeps alive runs out on the leader, which revokes it and its keys', () => {
    const source = new SimulationSource(raftAdapter, { protocol: 'raft', nodes: 3, seed: 5, actions: [] });
    source.seek(1500);
    source.dispatch(kv({ op: 'leaseGrant', ttlMs: 2000, id: 9 }));
    source.seek(1700);
    source.dispatch(kv({ op: 'put', key: 'y/a', value: 1, lease: 9 }));
    source.seek(2500);
    expect(table(source.view(1).panels['leases']).rows.map((r) => r.key)).toEqual(['9']);
    source.seek(6000);
    expect(table(source.view(1).panels['leases']).rows).toEqual([]);
  });

  it('the guided scenario: the watcher of x/ resumes after the leader crash with every revision', () => {
    const scenario = raftAdapter.scenarios.find((s) => s.id === 'raft-watch-across-leader-crash');
    expect(scenario).toBeDefined();
    const s = new SimSession(raftAdapter, { protocol: 'raft', nodes: 3, seed: 1, actions: [], scenario: 'raft-watch-across-leader-crash' });
    let caption = '';
    for (let t = 0; t <= 20_000 && !/Scenario complete|Expectation failed/.test(caption); t += 100) {
      s.advanceTo(t);
      caption = s.run.scenarioCaption?.() ?? '';
    }
    expect(caption).toContain('Scenario complete');
    const watch = table(s.run.describePanels?.(1)['watch']);
    expect(watch.caption?.tone, watch.caption?.text).toBe('good');
    expect(watch.rows.filter((r) => r.cells[1] === 'moved')).toHaveLength(1);
    expect(watch.rows.filter((r) => r.tone === undefined)).toHaveLength(10);
  });

  it('live mode: the kv panels are drawn from the watch stream and the lease table read through the supervisor', () => {
    expect(kvLiveAdapter.panels.map((p) => p.id)).toEqual(['watch', 'leases', 'locks']);
    expect(kvLiveAdapter.feeds).toEqual(['watch', 'leases', 'locks']);
    // nothing read yet
    let panels = kvLiveAdapter.describePanels([], { nowMs: 0 });
    expect(table(panels['watch']).rows).toEqual([]);
    expect(table(panels['leases']).empty).toMatch(/Reading the lease table/);
    panels = kvLiveAdapter.describePanels([], {
      nowMs: 10_500,
      watch: {
        prefix: 'x/',
        phase: 'retrying',
        status: 'the stream broke off; reconnecting in 1 s from revision 8',
        events: 2,
        nextRevision: 8,
        entries: [
          { kind: 'opened', n: 1, node: '1', fromRevision: 6, resumedAfter: null },
          { kind: 'event', revision: 6, type: 'put', key: 'x/a', value: { n: 1 }, node: '1' },
          { kind: 'event', revision: 7, type: 'delete', key: 'x/a', value: null, node: '1' },
        ],
      },
      leases: { phase: 'ok', status: 'read 2 leases', more: false, revision: 7, via: '1', polledAt: 10_000, leases: [
        { id: 5, ttlMs: 30_000, remainingMs: 20_000, readAt: 10_000, keys: ['svc/a', 'svc/b'], problem: null },
        { id: 9, ttlMs: 30_000, remainingMs: null, readAt: 10_000, keys: null, problem: 'lease-not-found' },
      ] },
    });
    const watch = table(panels['watch']);
    expect(watch.rows.map((r) => [r.key, ...r.cells.map((c) => (typeof c === 'string' ? c : c.text))])).toEqual([
      ['opened-1', '', 'start', 'watching on node 1 from revision 6', '', '1'],
      ['6-x/a', '6', 'put', 'x/a', '{"n":1}', '1'],
      ['7-x/a', '7', 'delete', 'x/a', '', '1'],
    ]);
    expect(watch.caption).toMatchObject({ tone: 'warn', text: '"x/" · 2 events · next revision 8 · the stream broke off; reconnecting in 1 s from revision 8' });
    const leases = table(panels['leases']);
    // the time left counts down from the read: 20 s read 0.5 s ago
    expect(leases.rows.map((r) => r.cells.map((c) => (typeof c === 'string' ? c : c.text)))).toEqual([
      ['5', '30000 ms', 'svc/a, svc/b', '19.5 s'],
      ['9', '30000 ms', '?', '—'],
    ]);
    expect(leases.caption?.text).toMatch(/^via node 1 at revision 7 · read 0\.5 s ago/);
  });
});

if (!hasChromium) console.warn(`e2e: skipping the KV panel browser tests: ${CHROMIUM} is missing (apt-get install -y chromium)`);

describe.skipIf(!hasChromium)('KV panels in Chromium', () => {
  const app = useServedApp('synod-web-kv-');

  const watchText = (page: Page): Promise<string> => page.getByTestId('panel-watch').locator('table').innerText();

  it('a txn sent from the page shows in the watch panel, and scrubbing shows each moment’s stream', async () => {
    const page = await app.browser().newPage();
    await page.goto(`${app.url()}#p=raft&n=3&s=3&t=1500`);
    await page.getByTestId('status').and(page.locator('[data-time="1500"]')).waitFor();
    const { leader } = await status(page);
    expect(leader).not.toBe('');
    await page.getByTestId('watch-node').selectOption(leader);
    await page.getByTestId('watch-prefix').fill('x/');
    await page.getByTestId('watch-start').click();
    await expect.poll(() => page.getByTestId('watch-row-moved-0').innerText()).toContain(`watching on node ${leader} from revision 1`);
    // a malformed request is refused on the page, with the decoder's reason
    await page.getByTestId('kv-requests-request').fill('{"op":"txn","compare":[{"key":"a"}]}');
    await page.getByTestId('kv-requests-send').click();
    await expect.poll(() => page.getByTestId('kv-requests-message').innerText()).toMatch(/compare "target" must be one of/);
    await page.getByTestId('kv-requests-request-preset').selectOption({ label: 'txn: create if absent' });
    expect(JSON.parse(await page.getByTestId('kv-requests-request').inputValue())).toEqual(TXN_CREATE);
    await page.getByTestId('kv-requests-send').click();
    await goTo(page, 1900);
    await expect.poll(() => page.getByTestId('kv-requests-row-1').innerText()).toMatch(/txn: 1 compare.*succeeded · revision 1/s);
    const row = page.getByTestId('watch-row-1-x/lock');
    expect((await row.innerText()).split('\t').map((s) => s.trim())).toEqual(['1', 'put', 'x/lock', '"mine"', '', leader]);
    const caption = page.getByTestId('watch-caption');
    expect(await caption.getAttribute('class')).toContain('tone-good');
    expect(await caption.innerText()).toContain('none missing, none twice');
    const at1900 = await watchText(page);
    // a second txn moves x/lock to x/b; a put outside the prefix is not in the stream
    await goTo(page, 2000);
    await page.getByTestId('kv-requests-request').fill(JSON.stringify({ op: 'txn', compare: [{ key: 'x/lock', target: 'value', cmp: '=', value: 'mine' }], success: [{ op: 'delete', key: 'x/lock' }, { op: 'put', key: 'x/b', value: 2 }], failure: [] }));
    await page.getByTestId('kv-requests-send').click();
    await page.getByTestId('client-write').click();
    await goTo(page, 2500);
    await expect.poll(() => page.getByTestId('watch-row-2-x/b').count()).toBe(1);
    expect(await page.getByTestId('watch-row-2-x/lock').innerText()).toMatch(/^2\s+delete\s+x\/lock/);
    expect(await page.getByTestId('panel-watch').locator('tbody tr').count()).toBe(4);
    const at2500 = await watchText(page);
    const hash2500 = (await status(page)).stateHash;
    await screenshot(page, 'kv-watch-txn');
    // scrub: while the handle moves, the frame drawn at 1900 stands in; when it rests, the replay
    // to 1950 (nothing was sent between 1900 and 2000) shows the same stream
    const scrubber = page.getByTestId('scrubber');
    await scrubber.evaluate((el) => {
      const input = el as HTMLInputElement;
      input.value = '1950';
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.getAttribute('data-preview') === 'true');
    expect(await watchText(page)).toBe(at1900);
    await page.waitForFunction(() => {
      const s = document.querySelector('[data-testid=status]');
      return s?.getAttribute('data-time') === '1950' && s.getAttribute('data-preview') === 'false';
    });
    expect(await watchText(page)).toBe(at1900);
    // before the first txn was applied: only the start of the watch
    await goTo(page, 1500);
    expect(await page.getByTestId('panel-watch').locator('tbody tr').count()).toBe(1);
    expect(await page.getByTestId('watch-row-1-x/lock').count()).toBe(0);
    await goTo(page, 2500);
    expect(await watchText(page)).toBe(at2500);
    expect((await status(page)).stateHash).toBe(hash2500);
    expect((page as Page & { errors?: string[] }).errors ?? []).toEqual([]);
    await page.close();
  });

  it('leases from the page: grant, put with the lease, revoke', async () => {
    const page = await app.browser().newPage();
    await page.goto(`${app.url()}#p=raft&n=3&s=2&t=1500`);
    await page.getByTestId('status').and(page.locator('[data-time="1500"]')).waitFor();
    await page.getByTestId('leases-ttl').fill('5000');
    await page.getByTestId('leases-grant').click();
    await goTo(page, 1800);
    const id = await page.getByTestId('panel-leases').locator('tbody tr').first().getAttribute('data-key');
    expect(Number(id)).toBeGreaterThan(0);
    await page.getByTestId('leases-lease').fill(String(id));
    await page.getByTestId('leases-put').click();
    await goTo(page, 2100);
    expect((await page.getByTestId(`leases-row-${id}`).innerText()).split('\t').map((s) => s.trim()).slice(0, 3)).toEqual([String(id), '5000 ms', 'x/session']);
    await screenshot(page, 'kv-leases');
    await page.getByTestId('leases-revoke').click();
    await goTo(page, 2400);
    expect(await page.getByTestId(`leases-row-${id}`).count()).toBe(0);
    expect(await page.getByTestId('kv-requests-row-3').innerText()).toMatch(/lease revoke.*deleted 1 · revision/s);
    expect((page as Page & { errors?: string[] }).errors ?? []).toEqual([]);
    await page.close();
  });
});
