// The Paxos views (Multi-Paxos + KV, and single decree). Without a browser: each adapter lists
// its tours (src/paxos/scenarios/tours.ts); every tour reaches in the visualizer the outcome the
// tour tests reach, on the very same run (same events processed); what the panels show at the
// key steps (no-op slots and the adopted slot after a leader change, the adopted value chosen in
// single decree, ballots pre-empted in the livelock); the same panels after scrubbing; free play
// (a crashed leader replaced, writes from the page answered and checked; two proposers, one value).
// In Chromium: the tours played on the page (one with the Play button), what the page shows at
// their key steps, a node crashed by clicking it, screenshots, and no page errors.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { neverAdopt, unwrapBroken, type SynodCore } from '../../src/paxos/index.js';
import { MULTI_TOURS, paxosTourByName, runPaxosTour, SYNOD_TOURS, synodTourCluster, synodTourProgram, type MultiTourOutcome, type PaxosTour, type SynodTour, type SynodTourOutcome } from '../../src/paxos/scenarios/tours.js';
import { runScenarioProgram } from '../../src/sim/scenario.js';
import { adapterById } from '../../web/src/adapters/index.js';
import { multiOutcomeLine, synodOutcomeLine } from '../../web/src/adapters/paxos.js';
import { describeMultiMessage, paxosMonitors, valueLabel } from '../../web/src/adapters/paxos-view.js';
import { unwatch, watchSpec } from '../../web/src/adapters/paxos-watch.js';
import { ballotsTable, describeSynodMessage, SynodTracker } from '../../web/src/adapters/synod-view.js';
import type { PanelContent, ProtocolAdapter, TableContent, TableRow } from '../../web/src/adapters/types.js';
import { SimulationSource } from '../../web/src/source/simulation.js';
import { CHROMIUM, goTo, hasChromium, screenshot, status, useServedApp } from './harness.js';

const multi = adapterById('paxos') as ProtocolAdapter;
const single = adapterById('paxos-single') as ProtocolAdapter;

function table(content: PanelContent | undefined): TableContent {
  if (content === undefined || content.kind !== 'table') throw new Error('expected a table');
  return content;
}

const texts = (row: TableRow | undefined): string[] => (row?.cells ?? []).map((c) => (typeof c === 'string' ? c : c.text));
const tones = (row: TableRow | undefined): (string | undefined)[] => (row?.cells ?? []).map((c) => (typeof c === 'string' ? undefined : c.tone));
const rowOf = (t: TableContent, key: string): TableRow | undefined => t.rows.find((r) => r.key === key);

function tour(name: string): PaxosTour {
  const t = paxosTourByName(name);
  if (t === undefined) throw new Error(`no tour ${name}`);
  return t;
}

function adapterOf(t: PaxosTour): ProtocolAdapter {
  return t.core === 'multi' ? multi : single;
}

function source(name: string): SimulationSource {
  const t = tour(name);
  const adapter = adapterOf(t);
  const sc = adapter.scenarios.find((s) => s.id === name);
  expect(sc, name).toBeDefined();
  return new SimulationSource(adapter, { protocol: adapter.id, nodes: sc?.nodes ?? 3, seed: sc?.seed ?? 1, actions: [], scenario: name });
}

describe('Paxos views, engine', () => {
  it('each adapter lists its own tours, once, with the scenario’s caption', () => {
    expect(multi.scenarios.map((s) => s.id)).toEqual(MULTI_TOURS.map((t) => t.name));
    expect(single.scenarios.map((s) => s.id)).toEqual(SYNOD_TOURS.map((t) => t.name));
    expect(multi.scenarios.every((s) => s.driven === true && s.summary.length > 40)).toBe(true);
  });

  it('values and messages in a few words', () => {
    expect(valueLabel({ kind: 'noop' })).toBe('no-op');
    expect(valueLabel({ kind: 'command', clientId: 'c1', seq: 3, op: { op: 'put', key: 'w3', value: 3 } })).toBe('put w3=3');
    expect(valueLabel({ kind: 'command', clientId: null, seq: 0, op: { op: 'get', key: 'x' } })).toBe('get x');
    expect(valueLabel('A')).toBe('"A"');
    const b = (round: number, node: string) => ({ round, node });
    expect(describeMultiMessage({ type: 'promise', ballot: b(2, '1'), snapshotSlot: 0, known: 3, accepted: [{ slot: 6, ballot: b(1, '4'), value: { kind: 'command', clientId: 'a', seq: 1, op: { op: 'put', key: 'w6', value: 6 } } }] })).toBe(
      'promise 2.1 (phase 1b); knows chosen ≤ 3; reports slot 6 = put w6=6 @1.4',
    );
    expect(describeMultiMessage({ type: 'accept', ballot: b(2, '1'), entries: [{ slot: 4, value: { kind: 'noop' } }], decided: [{ from: 1, to: 3, ballot: b(1, '4') }] })).toBe('accept in 2.1 (phase 2a): slot 4 = no-op · chosen: 1–3@1.4');
    expect(describeMultiMessage({ type: 'reject', ballot: b(1, '2'), promised: b(1, '3') })).toBe('reject 1.2: promised 1.3');
    expect(describeSynodMessage({ type: 'promise', ballot: b(1, '3'), accepted: { ballot: b(1, '1'), value: 'A' } })).toBe('promise 1.3 (phase 1b); accepted before: "A" in 1.1');
  });

  it.each([...SYNOD_TOURS, ...MULTI_TOURS].map((t) => [t.name, t] as const))('%s: the visualizer plays the run the tour tests play, to the same outcome', (name, t) => {
    const expected = runPaxosTour(t, { driver: 'drive' });
    expect(expected.failure).toBeUndefined();
    const src = source(name);
    src.seek(t.endMs);
    const view = src.view(1);
    const sc = adapterOf(t).scenarios.find((s) => s.id === name);
    expect(view.caption?.split('\n')[0]).toBe(sc?.summary);
    const line = t.core === 'multi' ? multiOutcomeLine(expected.outcome as MultiTourOutcome) : synodOutcomeLine(expected.outcome as SynodTourOutcome);
    expect(view.caption).toContain(`Tour complete. ${line}`);
    // the watched, wrapped run is the same run: as many events, as many messages
    expect(view.events).toBe(expected.cluster.sim.stats.eventsProcessed);
    expect(view.monitors.every((m) => m.violation === null)).toBe(true);
    expect(view.failure).toBeNull();
  });

  it('a leader change: holes 4 and 5 shown as no-ops, slot 6’s value adopted, the old leader’s stale acceptances in red', () => {
    const t = tour('paxos-leader-change-noops');
    const src = source(t.name);
    src.seek(300);
    const mid = src.view(24);
    // the old leader (L1) and A are down; slot 6 accepted by L1 and B only, not chosen
    const down = mid.nodes.filter((n) => !n.up).map((n) => n.id);
    expect(down).toHaveLength(2);
    const slots = table(mid.panels['paxos-slots']);
    expect(texts(rowOf(slots, '6'))[1]).toBe('not yet');
    expect(texts(rowOf(slots, '4'))[1]).toBe('not yet');
    src.seek(t.endMs);
    const end = src.view(24);
    const s = table(end.panels['paxos-slots']);
    expect(texts(rowOf(s, '4'))[1]).toMatch(/^no-op \(\d+\.\d+\)$/);
    expect(tones(rowOf(s, '4'))[1]).toBe('warn');
    expect(texts(rowOf(s, '5'))[1]).toMatch(/^no-op /);
    expect(texts(rowOf(s, '6'))[1]).toMatch(/^put w6=6 /);
    expect(s.caption?.text).toMatch(/^9 slots chosen, 2 no-ops \(slots 4, 5\) · leader \d in ballot \d+\.\d$/);
    // somebody still holds an acceptance of w4 at slot 4 that was never chosen: drawn red
    expect(rowOf(s, '4')?.cells.some((c) => typeof c !== 'string' && c.text.startsWith('put w4=4') && c.tone === 'bad')).toBe(true);
    const phase1 = table(end.panels['paxos-phase1']);
    expect(phase1.caption?.text).toMatch(/adopted .*slot 6 \(accepted in \d+\.\d, reported by \d\).*; no-ops in slots 4, 5$/);
    expect(phase1.rows).toHaveLength(2);
    // the leader's own log: hatched no-op cells at 4 and 5, its ballot's colour from slot 3 on
    const leader = end.nodes.find((n) => n.role === 'leader');
    const cells = leader?.log?.cells ?? [];
    expect(cells.filter((c) => c.special).map((c) => c.index)).toEqual([4, 5]);
    expect(cells.find((c) => c.index === 6)?.label).toBe('w6');
    expect(end.caption).toContain('no-ops in slots 4 and 5, the adopted write in slot 6');
  });

  it('Multi-Paxos adoption: the new leader proposes slot 3’s accepted write again, and it stays chosen', () => {
    const t = tour('paxos-adopt-accepted');
    const src = source(t.name);
    src.seek(t.endMs);
    const view = src.view(24);
    const s = table(view.panels['paxos-slots']);
    expect(texts(rowOf(s, '3'))[1]).toMatch(/^put w3=3 /);
    const phase1 = table(view.panels['paxos-phase1']);
    const newest = phase1.rows[0];
    expect(texts(newest)[4]).toContain('3: put w3=3');
    expect(phase1.caption?.text).toMatch(/adopted .*slot 3 \(accepted in 1\.\d, reported by \d\)/);
    // every node knows it chosen, and every replica applied it
    expect(texts(rowOf(s, '3'))[view.nodes.length + 2]).toBe(`${view.nodes.length}/${view.nodes.length}`);
  });

  it('single decree: the later proposer adopts "A", which stays chosen and is learned everywhere', () => {
    const t = tour('synod-adopt-accepted');
    const src = source(t.name);
    src.seek(t.endMs);
    const view = src.view(1);
    const ballots = table(view.panels['synod-ballots']);
    expect(ballots.caption?.text).toBe('2 ballots tried; "A" chosen in 1.1');
    expect(texts(rowOf(ballots, '1.3'))).toEqual(['1.3', 'node 3', '17 ms', '2, 3', '"A" (adopted)', '2, 3', '—', 'chose "A"']);
    const proposers = table(view.panels['synod-proposers']);
    expect(texts(rowOf(proposers, '3')).slice(1)).toEqual(['done', '1.3', '1', '"B"', '"A" (adopted)']);
    const nodes = table(view.panels['synod-nodes']);
    expect(nodes.rows.map((r) => texts(r)[5])).toEqual(['"A"', '"A"', '"A"']);
    expect(view.nodes.map((n) => n.role)).toEqual(['chosen', 'chosen', 'chosen']);
    expect(view.nodes.map((n) => n.mark)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(view.caption).toContain('"A" chosen after 1 ballot(s)');
  });

  it('dueling proposers: without backoff every ballot is pre-empted; with it one value is chosen and adopted by the other', () => {
    const livelock = source('synod-dueling-livelock');
    livelock.seek(1_000);
    const v = livelock.view(1);
    const b = table(v.panels['synod-ballots']);
    expect(b.caption?.text).toMatch(/^\d+ ballots tried, nothing chosen$/);
    expect(b.rows.slice(2).every((r) => texts(r)[7] === 'pre-empted in phase 2')).toBe(true);
    expect(['preparing', 'accepting']).toContain(v.nodes.find((n) => n.id === '4')?.role);
    expect(v.nodes.filter((n) => n.role === 'chosen')).toEqual([]);
    const backoff = source('synod-dueling-backoff');
    backoff.seek(tour('synod-dueling-backoff').endMs);
    const w = backoff.view(1);
    expect(table(w.panels['synod-ballots']).caption?.text).toMatch(/chosen in \d+\.[45]$/);
    expect(w.nodes.every((n) => n.role === 'chosen')).toBe(true);
  });

  it('negative control: proposers that never adopt are caught by the page’s monitors, and the ballots show "B" chosen over "A"', () => {
    const t = tour('synod-adopt-accepted') as SynodTour;
    const tracker = new SynodTracker();
    const cluster = synodTourCluster(t, t.seed, {
      wrapSpec: (spec) => watchSpec(neverAdopt(spec), tracker.watcher),
      unwrapCore: (core) => unwrapBroken<SynodCore>(unwatch(core)),
    });
    tracker.attach(cluster);
    const monitors = paxosMonitors(cluster.monitor, false);
    const failure = runScenarioProgram(cluster.sim, synodTourProgram(cluster, t).program);
    expect(failure).toContain('proposal B was answered "B"');
    const found = monitors.map((m) => [m.id, m.afterStep('3')] as const).filter(([, v]) => v !== null);
    expect(found.map(([id]) => id)).toContain('paxos-one-value');
    expect(found.find(([id]) => id === 'paxos-one-value')?.[1]).toMatch(/"B" chosen in ballot 1\.3 .* but "A" was chosen in ballot 1\.1/);
    const ballots = ballotsTable(tracker, cluster);
    expect(texts(rowOf(ballots, '1.3')).slice(4)).toEqual(['"B"', '2, 3', '—', 'chose "B"']);
  });

  it('dueling candidates: one leader emerges and stays', () => {
    const t = tour('paxos-dueling-candidates');
    const src = source(t.name);
    src.seek(t.endMs);
    const view = src.view(1);
    expect(view.nodes.filter((n) => n.role === 'leader')).toHaveLength(1);
    expect(view.leader).toBe(view.nodes.find((n) => n.role === 'leader')?.id);
  });

  it('time travel gives the same panels and nodes', () => {
    const src = source('paxos-leader-change-noops');
    src.seek(1_200);
    const late = src.view(24);
    src.seek(250);
    const early = src.view(24);
    src.seek(1_200);
    const again = src.view(24);
    expect(again.panels).toEqual(late.panels);
    expect(again.nodes).toEqual(late.nodes);
    const fresh = source('paxos-leader-change-noops');
    fresh.seek(250);
    expect(fresh.view(24).panels).toEqual(early.panels);
  });

  it('free play, Multi-Paxos: the crashed leader is replaced through phase 1, and writes from the page are answered and checked', () => {
    const src = new SimulationSource(multi, { protocol: 'paxos', nodes: 5, seed: 3, actions: [] });
    src.seek(1_000);
    const first = src.view(1).leader;
    expect(first).not.toBeNull();
    src.dispatch({ kind: 'client', op: 'write', node: null });
    src.seek(1_300);
    src.dispatch({ kind: 'crash', node: first as string });
    src.dispatch({ kind: 'client', op: 'write', node: null });
    src.seek(2_500);
    src.dispatch({ kind: 'client', op: 'read', node: null });
    src.seek(3_500);
    const view = src.view(24);
    expect(view.leader).not.toBeNull();
    expect(view.leader).not.toBe(first);
    expect(view.nodes.find((n) => n.id === first)?.up).toBe(false);
    expect(view.history.map((op) => [op.f, op.outcome])).toEqual([
      ['put', 'ok'],
      ['put', 'ok'],
      ['get', 'ok'],
    ]);
    expect(view.check.verdict).toBe('linearizable');
    const phase1 = table(view.panels['paxos-phase1']);
    expect(phase1.rows.length).toBeGreaterThanOrEqual(2);
    expect(texts(phase1.rows[0])[1]).toBe(`node ${view.leader}`);
    // the down node's row comes from its disk
    expect(texts(rowOf(table(view.panels['paxos-acceptors']), first as string))[2]).toMatch(/\(disk\)$/);
    expect(view.monitors.every((m) => m.violation === null)).toBe(true);
    // the node action: a follower runs phase 1 with a higher ballot and takes over
    const follower = view.nodes.find((n) => n.up && n.role === 'follower')?.id as string;
    src.dispatch({ kind: 'protocol', name: 'campaign', node: follower });
    src.seek(4_500);
    const after = src.view(1);
    expect(after.leader).toBe(follower);
    expect(texts(table(after.panels['paxos-phase1']).rows[0]).slice(1, 2)).toEqual([`node ${follower}`]);
    expect(after.monitors.every((m) => m.violation === null)).toBe(true);
  });

  it('free play, single decree: two proposers, one value chosen, both clients told the same', () => {
    const src = new SimulationSource(single, { protocol: 'paxos-single', nodes: 3, seed: 2, actions: [] });
    src.seek(10);
    src.dispatch({ kind: 'client', op: 'propose', node: '1' });
    src.dispatch({ kind: 'client', op: 'propose', node: '3' });
    src.seek(1_500);
    const view = src.view(1);
    const nodes = table(view.panels['synod-nodes']);
    const learned = new Set(nodes.rows.map((r) => texts(r)[5]));
    expect(learned.size).toBe(1);
    expect([...learned][0]).toMatch(/^"v[12]"$/);
    const story = table(view.panels['synod-story']).rows.map((r) => texts(r).slice(1).join(' '));
    expect(story.filter((l) => l.includes('answers its client'))).toHaveLength(2);
    expect(view.monitors.every((m) => m.violation === null)).toBe(true);
  });
});

if (!hasChromium) console.warn(`e2e: skipping the Paxos view browser tests: ${CHROMIUM} is missing (apt-get install -y chromium)`);

describe.skipIf(!hasChromium)('Paxos views in Chromium', () => {
  const app = useServedApp('synod-web-paxos-');

  async function open(fragment: string): Promise<Page> {
    const page = await app.browser().newPage();
    await page.goto(`${app.url()}#${fragment}`);
    await page.getByTestId('status').and(page.locator('[data-time]')).waitFor();
    return page;
  }

  async function openTour(name: string): Promise<Page> {
    const t = tour(name);
    const page = await open(`p=${adapterOf(t).id}&n=${t.core === 'multi' ? 5 : 3}&s=1`);
    await page.getByTestId('scenario').selectOption(name);
    const summary = adapterOf(t).scenarios.find((s) => s.id === name)?.summary ?? '';
    await expect.poll(() => page.getByTestId('caption').textContent()).toContain(summary.slice(0, 40));
    return page;
  }

  const errors = (page: Page): string[] => (page as Page & { errors?: string[] }).errors ?? [];
  const role = (page: Page, id: string): Promise<string | null> => page.getByTestId(`node-${id}`).getAttribute('data-role');
  const finished = async (page: Page): Promise<string> => {
    await expect.poll(() => page.getByTestId('caption').textContent(), { timeout: 30_000 }).toContain('Tour complete');
    return (await page.getByTestId('caption').textContent()) ?? '';
  };

  it('single decree: the normal round plays to its end with the Play button', async () => {
    const page = await openTour('synod-normal-round');
    // a tour starts playing by itself; pause it at the start, then press Play
    if ((await page.getByTestId('play').textContent()) === 'Pause') await page.getByTestId('play').click();
    await goTo(page, 0);
    expect(await page.getByTestId('caption').textContent()).not.toContain('Tour complete');
    expect(await page.getByTestId('play').textContent()).toBe('▶ Play');
    await page.getByTestId('play').click();
    expect(await finished(page)).toContain('"A" chosen after 1 ballot(s); learned by 3 of 3 learner(s) up; monitors: ok.');
    await expect.poll(() => Promise.all(['1', '2', '3'].map((id) => role(page, id)))).toEqual(['chosen', 'chosen', 'chosen']);
    await screenshot(page, 'paxos-single-normal-round');
    expect(errors(page)).toEqual([]);
    await page.close();
  });

  it('single decree: adoption of the accepted value, and the livelock then its cure', async () => {
    const adopt = await openTour('synod-adopt-accepted');
    await goTo(adopt, 20);
    expect(await role(adopt, '1')).toBe('down');
    expect(await adopt.getByTestId('caption').textContent()).toContain('Proposer 3 must send accept with "A", not "B"');
    await goTo(adopt, tour('synod-adopt-accepted').endMs);
    expect(await finished(adopt)).toContain('"A" chosen after 1 ballot(s)');
    expect(await adopt.getByTestId('synod-ballots-row-1.3').innerText()).toContain('"A" (adopted)');
    expect(await adopt.getByTestId('synod-ballots-row-1.3').innerText()).toContain('chose "A"');
    expect(await adopt.getByTestId('synod-proposers-row-3').innerText()).toMatch(/"B"\s+"A" \(adopted\)/);
    await screenshot(adopt, 'paxos-single-adopt');
    expect(errors(adopt)).toEqual([]);
    await adopt.close();

    const livelock = await openTour('synod-dueling-livelock');
    await goTo(livelock, 1_000);
    expect(await livelock.getByTestId('synod-ballots-caption').innerText()).toMatch(/ballots tried, nothing chosen$/);
    expect(await livelock.locator('[data-testid^="synod-ballots-row-"]').filter({ hasText: 'pre-empted in phase 2' }).count()).toBeGreaterThanOrEqual(5);
    await screenshot(livelock, 'paxos-single-livelock');
    await goTo(livelock, tour('synod-dueling-livelock').endMs);
    expect(await finished(livelock)).toContain('Nothing chosen after');
    expect(errors(livelock)).toEqual([]);
    await livelock.close();

    const backoff = await openTour('synod-dueling-backoff');
    await goTo(backoff, tour('synod-dueling-backoff').endMs);
    expect(await finished(backoff)).toMatch(/"[AB]" chosen after \d+ ballot\(s\); learned by 5 of 5/);
    expect(errors(backoff)).toEqual([]);
    await backoff.close();
  });

  it('Multi-Paxos: a leader change fills holes with no-ops and adopts slot 6; adoption of slot 3 under a new leader', async () => {
    const t = tour('paxos-leader-change-noops');
    const page = await openTour(t.name);
    await goTo(page, 300);
    const down = [];
    for (const id of ['1', '2', '3', '4', '5']) if ((await role(page, id)) === 'down') down.push(id);
    expect(down).toHaveLength(2);
    expect(await page.getByTestId('paxos-slots-row-6').innerText()).toContain('not yet');
    await screenshot(page, 'paxos-leader-change-crashed');
    await goTo(page, t.endMs);
    expect(await finished(page)).toContain('9 slot(s) chosen, 2 of them no-ops');
    expect(await page.getByTestId('paxos-slots-row-4').innerText()).toMatch(/^4\s+no-op \(/);
    expect(await page.getByTestId('paxos-slots-row-5').innerText()).toMatch(/^5\s+no-op \(/);
    expect(await page.getByTestId('paxos-slots-row-6').innerText()).toMatch(/^6\s+put w6=6 \(/);
    expect(await page.getByTestId('paxos-phase1-caption').innerText()).toMatch(/no-ops in slots 4, 5$/);
    const { leader } = await status(page);
    expect(await role(page, leader)).toBe('leader');
    // the leader's log row: two hatched no-op cells
    expect(await page.getByTestId(`log-${leader}`).locator('.log-cell.special').count()).toBe(2);
    await screenshot(page, 'paxos-leader-change-noops');
    expect(errors(page)).toEqual([]);
    await page.close();

    const a = tour('paxos-adopt-accepted');
    const adopt = await openTour(a.name);
    await goTo(adopt, a.endMs);
    expect(await finished(adopt)).toMatch(/its phase 1 adopted [1-9]\d* value\(s\)/);
    expect(await adopt.getByTestId('paxos-slots-row-3').innerText()).toMatch(/^3\s+put w3=3 \(/);
    expect(await adopt.getByTestId('paxos-phase1-caption').innerText()).toMatch(/adopted .*slot 3 \(accepted in 1\.\d, reported by \d\)/);
    await screenshot(adopt, 'paxos-adopt-accepted');
    expect(errors(adopt)).toEqual([]);
    await adopt.close();
  });

  it('Multi-Paxos: every other tour plays to its end on the page with the monitors green', async () => {
    for (const name of ['paxos-normal', 'paxos-dueling-candidates', 'paxos-acceptor-crash', 'paxos-out-of-order', 'paxos-flexible-quorums', 'synod-acceptor-restart']) {
      const t = tour(name);
      const page = await openTour(name);
      await goTo(page, t.endMs);
      expect(await finished(page), name).toContain('monitors: ok.');
      expect(await page.locator('[data-testid^=monitor-][data-ok=false]').count(), name).toBe(0);
      if (name === 'paxos-dueling-candidates') {
        const { leader } = await status(page);
        expect(await role(page, leader)).toBe('leader');
        await screenshot(page, 'paxos-dueling-candidates');
      }
      expect(errors(page), name).toEqual([]);
      await page.close();
    }
  });

  it('Multi-Paxos free play: clicking the leader crashes it; a new leader runs phase 1 and takes over', async () => {
    const page = await open('p=paxos&n=5&s=3&t=1000');
    const before = await status(page);
    expect(before.leader).not.toBe('');
    await expect.poll(() => role(page, before.leader)).toBe('leader');
    await page.getByTestId('client-write').click();
    await page.getByTestId(`node-${before.leader}`).click();
    expect(await page.getByTestId(`node-${before.leader}`).getAttribute('data-up')).toBe('false');
    expect(await role(page, before.leader)).toBe('down');
    await goTo(page, 2_500);
    const after = await status(page);
    expect(after.leader).not.toBe('');
    expect(after.leader).not.toBe(before.leader);
    expect(await role(page, after.leader)).toBe('leader');
    expect(await page.getByTestId('paxos-phase1-row-' + (await page.locator('[data-testid^="paxos-phase1-row-"]').first().getAttribute('data-key'))).innerText()).toContain(`node ${after.leader}`);
    expect(await page.getByTestId(`paxos-acceptors-row-${before.leader}`).innerText()).toContain('(disk)');
    await screenshot(page, 'paxos-leader-crashed');
    expect(errors(page)).toEqual([]);
    await page.close();
  });
});
