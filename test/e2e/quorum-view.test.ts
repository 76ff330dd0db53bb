// The quorum store view. Without a browser: the adapter reaches the outcomes the store's scenario
// tests assert, its buttons send requests, time travel gives the same panels. In Chromium: the
// sloppy-quorum hint appears on the stand-in, then goes; the siblings show two values, then one.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { QUORUM_SCENARIOS, quorumScenarioByName, quorumScenarioStage, runQuorumScenario, STAGE_BUCKET, type QuorumScenario } from '../../src/quorum/scenarios/index.js';
import { storeKeyOf } from '../../src/quorum/requests.js';
import { adapterById } from '../../web/src/adapters/index.js';
import { outcomeLine } from '../../web/src/adapters/quorum-view.js';
import type { PanelButton, PanelContent, ProtocolAdapter, TableContent, TableRow } from '../../web/src/adapters/types.js';
import { SimulationSource } from '../../web/src/source/simulation.js';
import { CHROMIUM, goTo, hasChromium, screenshot, useServedApp } from './harness.js';

const X = storeKeyOf(STAGE_BUCKET, 'x');
const adapter = adapterById('quorum') as ProtocolAdapter;

function table(content: PanelContent | undefined): TableContent {
  if (content === undefined || content.kind !== 'table') throw new Error('expected a table');
  return content;
}

const texts = (row: TableRow | undefined): string[] => (row?.cells ?? []).map((c) => (typeof c === 'string' ? c : c.text));
const rowOf = (content: PanelContent | undefined, key: string): string[] => texts(table(content).rows.find((r) => r.key === key));

function source(scenario: string): SimulationSource {
  const sc = adapter.scenarios.find((s) => s.id === scenario);
  expect(sc, scenario).toBeDefined();
  return new SimulationSource(adapter, { protocol: 'quorum', nodes: sc?.nodes ?? 5, seed: sc?.seed ?? 1, actions: [], scenario });
}

/** The nodes a scenario's names stand for: x's home replicas H1..H3 and stand-ins S1, S2 (placement depends on the members only). */
function placement(name: string): { H1: string; H2: string; H3: string; S1: string; S2: string } {
  const [H1, H2, H3, S1, S2] = quorumScenarioStage(quorumScenarioByName(name) as QuorumScenario).preferenceList(X) as [string, string, string, string, string];
  return { H1, H2, H3, S1, S2 };
}

describe('quorum view, engine', () => {
  it.each(QUORUM_SCENARIOS.map((s) => [s.name, s] as const))('%s: the visualizer reaches the outcome the tests assert', (name, scenario) => {
    const expected = runQuorumScenario(scenario);
    expect(expected.failure).toBeUndefined();
    const src = source(name);
    src.seek(scenario.endMs);
    const view = src.view(1);
    expect(view.caption?.split('\n')[0]).toBe(scenario.caption);
    expect(view.caption).toContain(`Scenario complete. ${outcomeLine(expected.outcome)}`);
    // each read marked as the staleness judge marks it in the tests
    const marks = table(view.panels['quorum-history']).rows.filter((r) => texts(r)[2]?.startsWith('get')).map((r) => texts(r)[5]?.split(':')[0]);
    expect(marks).toEqual(expected.stage.readVerdicts().map((v) => v.verdict));
    const verdicts = table(view.panels['quorum-verdicts']);
    for (const check of ['durability', 'convergence', 'unique-dots', 'underreplicated']) expect(rowOf(verdicts, check)[1], check).toBe('ok');
    expect(view.monitors.every((m) => m.violation === null)).toBe(true);
    expect(view.failure).toBeNull();
  });

  it('sloppy quorum: the stand-in holds the hint while the home replica is down, then hands it over', () => {
    const n = placement('quorum-sloppy-hint');
    const src = source('quorum-sloppy-hint');
    src.seek(900);
    let view = src.view(1);
    expect(rowOf(view.panels['quorum-hints'], `${n.S1}-${n.H3}-${X}`).slice(0, 3)).toEqual([n.S1, n.H3, 'x']);
    expect(view.nodes.find((d) => d.id === n.S1)?.role).toBe('hint');
    expect(view.nodes.find((d) => d.id === n.H3)?.role).toBe('down');
    const request = table(view.panels['quorum-request']);
    expect(rowOf(request, n.S1).slice(1, 2)).toEqual([`stand-in for ${n.H3} (hint)`]);
    expect(rowOf(request, n.S1)[4]).toBe('yes (W)');
    expect(request.caption?.text).toMatch(/W = 3: 3 counted · ok, 3 acks/);
    expect(rowOf(view.panels['quorum-copies'], n.H3)[2]).toBe('down');
    src.seek(2000);
    view = src.view(1);
    expect(table(view.panels['quorum-hints']).rows).toEqual([]);
    expect(view.nodes.find((d) => d.id === n.S1)?.role).toBe('standin');
    expect(rowOf(view.panels['quorum-copies'], n.H3)[3]).toMatch(/^v1@/);
    expect(table(view.panels['quorum-story']).rows.map((r) => texts(r).slice(1).join(' '))).toContain(`${n.S1} drops its hint for ${n.H3} (${X}): ${n.H3} acknowledged it`);
  });

  it('read repair: the fan-out shows R counted, the late answer, and the repaired replica', () => {
    const n = placement('quorum-read-repair');
    const src = source('quorum-read-repair');
    src.seek(1600);
    const request = table(src.view(1).panels['quorum-request']);
    expect(request.caption?.text).toMatch(/c2 reads x \(via .*\) · R = 2: 2 counted · ok: v1/);
    const h3 = rowOf(request, n.H3);
    expect(h3[5]).toBe('nothing');
    expect(h3[6]).toMatch(/^\d+ ms$/);
    expect(request.rows.filter((r) => texts(r)[4] === 'late')).toHaveLength(1);
    expect(request.rows.filter((r) => texts(r)[6] !== '—').map((r) => r.key)).toEqual([n.H3]);
  });

  it('time travel gives the same panels', () => {
    const src = source('quorum-stale-reads');
    src.seek(3000);
    const panels = src.view(1).panels;
    src.seek(700);
    const early = src.view(1).panels;
    src.seek(3000);
    expect(src.view(1).panels).toEqual(panels);
    const fresh = source('quorum-stale-reads');
    fresh.seek(700);
    expect(fresh.view(1).panels).toEqual(early);
  });

  it('the request panel’s buttons: select a key, write with W = all, read; bad fields are refused', () => {
    const def = adapter.panels?.find((p) => p.id === 'quorum-request');
    const buttons = new Map((def?.controls ?? []).flat().filter((c): c is PanelButton => c.kind === 'button').map((b) => [b.id, b]));
    const press = (id: string, fields: Record<string, string>) => (buttons.get(id) as PanelButton).build(new Map(Object.entries(fields)));
    expect(press('put', { key: 'no spaces', level: '', via: '' })).toHaveProperty('problem');
    expect(press('put', { key: 'y', level: 'most', via: '' })).toHaveProperty('problem');
    expect(press('get', { key: 'y', level: 'any', via: '' })).toHaveProperty('problem');
    const src = new SimulationSource(adapter, { protocol: 'quorum', nodes: 5, seed: 3, actions: [] });
    src.seek(300);
    const act = (built: ReturnType<typeof press>): void => {
      if ('problem' in built) throw new Error(built.problem);
      src.dispatch({ kind: 'client', op: built.op, node: built.node, ...(built.arg === undefined ? {} : { arg: built.arg }) });
    };
    act(press('select', { key: 'y' }));
    act(press('put', { key: 'y', level: 'all', via: '2' }));
    src.seek(700);
    act(press('get', { key: 'y', level: '1', via: '' }));
    src.seek(1200);
    const view = src.view(1);
    expect(table(view.panels['quorum-ring']).caption?.text).toMatch(/ y at 0x[0-9a-f]{8}, partition \d+: home replicas/);
    const history = table(view.panels['quorum-history']).rows.map((r) => texts(r).slice(2, 6));
    const value = /^put y = (v\d+)$/.exec(history[0]?.[0] ?? '')?.[1] ?? 'no put';
    expect(history).toEqual([
      [`put y = ${value}`, expect.any(String), expect.stringMatching(/^ok, dot /), '—'],
      ['get y', expect.any(String), value, 'fresh'],
    ]);
    expect(table(view.panels['quorum-copies']).rows.filter((r) => texts(r)[3]?.startsWith(`${value}@`))).toHaveLength(3);
  });
});

if (!hasChromium) console.warn(`e2e: skipping the quorum view browser tests: ${CHROMIUM} is missing (apt-get install -y chromium)`);

describe.skipIf(!hasChromium)('quorum view in Chromium', () => {
  const app = useServedApp('synod-web-quorum-');

  async function open(): Promise<Page> {
    const page = await app.browser().newPage();
    await page.goto(`${app.url()}#p=quorum&n=5&s=1`);
    await page.getByTestId('status').and(page.locator('[data-time]')).waitFor();
    return page;
  }

  const hintRows = (page: Page) => page.locator('[data-testid^="quorum-hints-row-"]');
  const copy = (page: Page, node: string): Promise<string> => page.getByTestId(`quorum-copies-row-${node}`).locator('td').nth(3).innerText();
  const errors = (page: Page): string[] => (page as Page & { errors?: string[] }).errors ?? [];

  it('sloppy quorum: the hint appears on the stand-in, then disappears once delivered', async () => {
    const n = placement('quorum-sloppy-hint');
    const page = await open();
    await page.getByTestId('scenario').selectOption('quorum-sloppy-hint');
    await expect.poll(() => page.getByTestId('caption').textContent()).toContain('sloppy quorum on');
    await goTo(page, 900);
    await expect.poll(() => hintRows(page).count()).toBeGreaterThan(0);
    const row = page.getByTestId(`quorum-hints-row-${n.S1}-${n.H3}-${X}`);
    expect((await row.innerText()).split('\t').slice(0, 2)).toEqual([n.S1, n.H3]);
    expect(await page.getByTestId(`node-${n.S1}`).getAttribute('data-role')).toBe('hint');
    expect(await page.getByTestId(`node-${n.H3}`).getAttribute('data-up')).toBe('false');
    await screenshot(page, 'quorum-sloppy-hint-parked');
    await goTo(page, 2000);
    await expect.poll(() => page.getByTestId('caption').textContent()).toContain('Scenario complete');
    expect(await hintRows(page).count()).toBe(0);
    expect(await page.getByTestId(`node-${n.S1}`).getAttribute('data-role')).toBe('standin');
    expect(await copy(page, n.H3)).toMatch(/^v1@/);
    await screenshot(page, 'quorum-sloppy-hint-delivered');
    expect(errors(page)).toEqual([]);
    await page.close();
  });

  it('siblings: two values on every home replica, then one', async () => {
    const n = placement('quorum-siblings');
    const page = await open();
    await page.getByTestId('scenario').selectOption('quorum-siblings');
    await goTo(page, 250);
    for (const h of [n.H1, n.H2, n.H3]) expect((await copy(page, h)).split(' | ').map((v) => v.split('@')[0])).toEqual(['a', 'b']);
    await screenshot(page, 'quorum-siblings-two');
    await goTo(page, 1200);
    await expect.poll(() => page.getByTestId('caption').textContent()).toContain('Scenario complete');
    for (const h of [n.H1, n.H2, n.H3]) expect((await copy(page, h)).split(' | ').map((v) => v.split('@')[0])).toEqual(['ab']);
    await screenshot(page, 'quorum-siblings-one');
    expect(errors(page)).toEqual([]);
    await page.close();
  });
});
