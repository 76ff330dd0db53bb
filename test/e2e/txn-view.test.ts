// The commit views (2PC, 3PC, Paxos Commit). Without a browser: each adapter plays the tours the
// txn tests play (src/txn/scenarios/tours.ts) and reaches the outcome runCommitTour reaches; with
// the coordinator down, 2PC's participants are drawn prepared and ringed for their locks while
// 3PC's and Paxos Commit's have decided; time travel gives the same panels; a transfer from the
// page commits. In Chromium: the blocking tour under each protocol, as the page shows it (phases,
// locks, the in-doubt caption, the outcome line, the comparison), and no page errors.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { COMMIT_TOURS, commitTourByName, runCommitTour, type CommitTour } from '../../src/txn/scenarios/tours.js';
import { adapterById } from '../../web/src/adapters/index.js';
import { tourOutcomeLine } from '../../web/src/adapters/txn.js';
import type { PanelContent, ProtocolAdapter, TableContent, TableRow } from '../../web/src/adapters/types.js';
import { SimulationSource } from '../../web/src/source/simulation.js';
import { CHROMIUM, goTo, hasChromium, screenshot, useServedApp } from './harness.js';

const adapterOf = (protocol: string): ProtocolAdapter => adapterById(`txn-${protocol}`) as ProtocolAdapter;

function table(content: PanelContent | undefined): TableContent {
  if (content === undefined || content.kind !== 'table') throw new Error('expected a table');
  return content;
}

const texts = (row: TableRow | undefined): string[] => (row?.cells ?? []).map((c) => (typeof c === 'string' ? c : c.text));

function tour(name: string): CommitTour {
  const t = commitTourByName(name);
  if (t === undefined) throw new Error(`no tour ${name}`);
  return t;
}

function source(t: CommitTour): SimulationSource {
  const adapter = adapterOf(t.protocol);
  const sc = adapter.scenarios.find((s) => s.id === t.name);
  expect(sc, t.name).toBeDefined();
  return new SimulationSource(adapter, { protocol: adapter.id, nodes: sc?.nodes ?? 3, seed: sc?.seed ?? 1, actions: [], scenario: t.name });
}

/** When the tour's coordinator is down (after the votes, before it restarts). */
const WHILE_DOWN_MS = 2_000;

describe('commit views, engine', () => {
  it('each protocol lists its own tours', () => {
    for (const p of ['2pc', '3pc', 'paxos-commit']) expect(adapterOf(p).scenarios.map((s) => s.id)).toEqual(COMMIT_TOURS.filter((t) => t.protocol === p).map((t) => t.name));
  });

  it.each(COMMIT_TOURS.map((t) => [t.name, t] as const))('%s: the visualizer reaches the outcome the tests reach', (_name, t) => {
    const expected = runCommitTour(t, { driver: 'drive' });
    expect(expected.failure).toBeUndefined();
    const src = source(t);
    src.seek(t.endMs);
    const view = src.view(1);
    expect(view.caption?.split('\n')[0]).toBe(t.caption);
    expect(view.caption).toContain(`Tour complete. ${tourOutcomeLine(expected.outcome)}`);
    expect(view.monitors.every((m) => m.violation === null)).toBe(true);
    expect(view.failure).toBeNull();
  });

  it('coordinator down: 2PC’s participants sit prepared holding locks; 3PC’s aborted and Paxos Commit’s committed', () => {
    const roles = (name: string): { roles: string[]; marks: (string | null | undefined)[]; caption: string } => {
      const src = source(tour(name));
      src.seek(WHILE_DOWN_MS);
      const view = src.view(1);
      const parts = view.nodes.filter((n) => n.id === '2' || n.id === '3');
      expect(view.nodes.find((n) => n.id === '1')?.up).toBe(false);
      return { roles: parts.map((n) => n.role), marks: parts.map((n) => n.mark), caption: table(view.panels['txn-participants']).caption?.text ?? '' };
    };
    const twoPc = roles('blocking-2pc');
    expect(twoPc.roles).toEqual(['prepared', 'prepared']);
    expect(twoPc.marks).toEqual(['locks', 'locks']);
    expect(twoPc.caption).toBe('coordinator down · 2 in doubt, holding 2 locks');
    const threePc = roles('blocking-3pc');
    expect(threePc.roles).toEqual(['aborted', 'aborted']);
    expect(threePc.marks).toEqual([null, null]);
    expect(threePc.caption).toBe('coordinator down · none in doubt · 0 locks held');
    const paxos = roles('blocking-paxos-commit');
    expect(paxos.roles).toEqual(['committed', 'committed']);
    expect(paxos.caption).toBe('coordinator down · none in doubt · 0 locks held');
  });

  it('3PC after PRE-COMMIT: a participant is drawn pre-committed before the backup commits', () => {
    const src = source(tour('blocking-3pc-precommitted'));
    let seenPrecommitted = false;
    for (let t = 0; t <= 1_500 && !seenPrecommitted; t += 5) {
      src.seek(t);
      seenPrecommitted = src.view(1).nodes.some((n) => n.role === 'precommitted');
    }
    expect(seenPrecommitted).toBe(true);
    src.seek(tour('blocking-3pc-precommitted').endMs);
    expect(src.view(1).nodes.filter((n) => n.role === 'committed').map((n) => n.id)).toEqual(['2', '3']);
  });

  it('the phases and the comparison: 2PC in doubt for the outage, the others decided with the coordinator down', () => {
    const t = tour('blocking-2pc');
    const src = source(t);
    src.seek(t.endMs);
    const panels = src.view(1).panels;
    const phases = table(panels['txn-phases']);
    const p2 = texts(phases.rows.find((r) => r.key.endsWith('-2')));
    expect(p2[2]).toBe('aborted');
    expect(p2[3]).toMatch(/^yes at \d+ ms$/);
    expect(Number.parseInt(p2[5] ?? '', 10)).toBeGreaterThanOrEqual(t.outageMs);
    const compare = table(panels['txn-compare']);
    expect(compare.rows.map((r) => texts(r)[0])).toEqual(['2PC', '3PC', 'Paxos Commit']);
    expect(compare.rows.map((r) => texts(r)[1])).toEqual(['abort', 'abort', 'commit']);
    expect(compare.rows.map((r) => texts(r)[2])).toEqual(['2 / 2', '0 / 0', '0 / 0']);
    expect(compare.rows.map((r) => texts(r)[4])).toEqual(['no: blocked', 'yes', 'yes']);
    const verdicts = table(panels['txn-verdicts']);
    expect(texts(verdicts.rows.find((r) => r.key === 'atomicity'))[1]).toBe('ok');
    expect(texts(verdicts.rows.find((r) => r.key === 'money'))[1]).toBe('ok');
  });

  it('time travel gives the same panels', () => {
    const t = tour('blocking-2pc');
    const src = source(t);
    src.seek(5_500);
    const late = src.view(1).panels;
    src.seek(1_000);
    const early = src.view(1).panels;
    src.seek(5_500);
    expect(src.view(1).panels).toEqual(late);
    const fresh = source(t);
    fresh.seek(1_000);
    expect(fresh.view(1).panels).toEqual(early);
  });

  it('free play: a transfer from the page commits on every protocol; crashing the coordinator first leaves it unanswered', () => {
    for (const p of ['2pc', '3pc', 'paxos-commit']) {
      const adapter = adapterOf(p);
      const src = new SimulationSource(adapter, { protocol: adapter.id, nodes: 3, seed: 4, actions: [] });
      src.seek(100);
      src.dispatch({ kind: 'client', op: 'transfer', node: '2' });
      src.seek(1_500);
      const view = src.view(1);
      expect(view.nodes.find((n) => n.id === '2')?.role, p).toBe('committed');
      expect(view.history.map((op) => [op.f, op.outcome])).toEqual([['transfer', 'ok']]);
      expect(texts(table(view.panels['txn-verdicts']).rows.find((r) => r.key === 'outcomes'))[2]).toBe('1 committed, 0 aborted, 0 undecided');
    }
    const adapter = adapterOf('2pc');
    const src = new SimulationSource(adapter, { protocol: adapter.id, nodes: 3, seed: 4, actions: [] });
    src.seek(100);
    src.dispatch({ kind: 'crash', node: '1' });
    src.dispatch({ kind: 'client', op: 'transfer', node: '2' });
    src.seek(4_000);
    const view = src.view(1);
    expect(view.nodes.find((n) => n.id === '1')?.up).toBe(false);
    expect(view.history.map((op) => op.outcome)).toEqual(['unknown']);
  });
});

if (!hasChromium) console.warn(`e2e: skipping the commit view browser tests: ${CHROMIUM} is missing (apt-get install -y chromium)`);

describe.skipIf(!hasChromium)('commit views in Chromium', () => {
  const app = useServedApp('synod-web-txn-');

  async function open(protocol: string, tourName: string): Promise<Page> {
    const page = await app.browser().newPage();
    await page.goto(`${app.url()}#p=txn-${protocol}&n=3&s=11`);
    await page.getByTestId('status').and(page.locator('[data-time]')).waitFor();
    await page.getByTestId('scenario').selectOption(tourName);
    await expect.poll(() => page.getByTestId('caption').textContent()).toContain(tour(tourName).caption.slice(0, 40));
    return page;
  }

  const errors = (page: Page): string[] => (page as Page & { errors?: string[] }).errors ?? [];
  const role = (page: Page, id: string): Promise<string | null> => page.getByTestId(`node-${id}`).getAttribute('data-role');
  const mark = (page: Page, id: string): Promise<string | null> => page.getByTestId(`node-${id}`).getAttribute('data-mark');

  it('2PC: with the coordinator down the participants sit prepared, holding their locks, until it recovers', async () => {
    const t = tour('blocking-2pc');
    const page = await open('2pc', t.name);
    await goTo(page, WHILE_DOWN_MS);
    expect(await role(page, '1')).toBe('down');
    expect([await role(page, '2'), await role(page, '3')]).toEqual(['prepared', 'prepared']);
    expect([await mark(page, '2'), await mark(page, '3')]).toEqual(['locks', 'locks']);
    expect(await page.getByTestId('txn-participants-caption').innerText()).toBe('coordinator down · 2 in doubt, holding 2 locks');
    expect(await page.getByTestId('txn-participants-row-2').innerText()).toContain('prepared (uncertain)');
    await screenshot(page, 'txn-2pc-blocked');
    await goTo(page, t.endMs);
    await expect.poll(() => page.getByTestId('caption').textContent(), { timeout: 30_000 }).toContain('Tour complete');
    expect(await page.getByTestId('caption').textContent()).toContain('Outcome: abort; 2 participant(s) still in doubt holding 2 lock(s) when the coordinator came back; blocked until the coordinator recovered');
    expect([await role(page, '1'), await role(page, '2'), await role(page, '3')]).toEqual(['coordinator', 'aborted', 'aborted']);
    expect(await mark(page, '2')).toBe('');
    expect(await page.getByTestId('txn-compare-row-2pc').innerText()).toContain('no: blocked');
    expect(await page.getByTestId('txn-compare-row-paxos-commit').innerText()).toContain('commit');
    await screenshot(page, 'txn-2pc-recovered');
    expect(errors(page)).toEqual([]);
    await page.close();
  });

  it('3PC and Paxos Commit: the same crash, decided while the coordinator is still down', async () => {
    for (const [protocol, name, outcome] of [
      ['3pc', 'blocking-3pc', 'aborted'],
      ['paxos-commit', 'blocking-paxos-commit', 'committed'],
    ] as const) {
      const t = tour(name);
      const page = await open(protocol, name);
      await goTo(page, WHILE_DOWN_MS);
      expect(await role(page, '1')).toBe('down');
      expect([await role(page, '2'), await role(page, '3')]).toEqual([outcome, outcome]);
      expect([await mark(page, '2'), await mark(page, '3')]).toEqual(['', '']);
      expect(await page.getByTestId('txn-participants-caption').innerText()).toBe('coordinator down · none in doubt · 0 locks held');
      await screenshot(page, `txn-${protocol}-decided`);
      await goTo(page, t.endMs);
      await expect.poll(() => page.getByTestId('caption').textContent(), { timeout: 30_000 }).toContain('Tour complete');
      expect(await page.getByTestId('caption').textContent()).toContain(`Outcome: ${outcome === 'aborted' ? 'abort' : 'commit'}; nobody in doubt when the coordinator came back; decided while the coordinator was down`);
      expect(await page.getByTestId('txn-verdicts-row-atomicity').innerText()).toContain('ok');
      expect(errors(page)).toEqual([]);
      await page.close();
    }
  });
});
