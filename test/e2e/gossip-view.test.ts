// The gossip view. Without a browser: the adapter plays the scenario scripts the gossip tests play
// (src/gossip/scenarios) and reaches the outcomes runGossipScenario reaches; the member shown
// follows the selection without changing the run; time travel gives the same panels; the page's
// buttons change metadata (followed round by round) and documents; the crowd drawing finds the
// groups of a partition. In Chromium: the epidemic among 64 members drawn as a crowd (every member
// ringed as informed, the rounds counter next to log N); documents differing across a partition
// and agreeing after it heals; a paused member suspected, then refuting; no page errors.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { GOSSIP_SCENARIOS, gossipScenarioByName, runGossipScenario, type GossipScenario } from '../../src/gossip/scenarios/index.js';
import { outcomeLine } from '../../web/src/adapters/gossip.js';
import { adapterById } from '../../web/src/adapters/index.js';
import type { PanelContent, ProtocolAdapter, TableContent, TableRow } from '../../web/src/adapters/types.js';
import { SimulationSource } from '../../web/src/source/simulation.js';
import { partitionGroups } from '../../web/src/ui/crowd.js';
import { CHROMIUM, goTo, hasChromium, screenshot, status, useServedApp } from './harness.js';

const adapter = adapterById('swim') as ProtocolAdapter;

function table(content: PanelContent | undefined): TableContent {
  if (content === undefined || content.kind !== 'table') throw new Error('expected a table');
  return content;
}

const texts = (row: TableRow | undefined): string[] => (row?.cells ?? []).map((c) => (typeof c === 'string' ? c : c.text));

function source(scenario: string): SimulationSource {
  const sc = adapter.scenarios.find((s) => s.id === scenario);
  expect(sc, scenario).toBeDefined();
  return new SimulationSource(adapter, { protocol: 'swim', nodes: sc?.nodes ?? 8, seed: sc?.seed ?? 1, actions: [], scenario });
}

/** The first time (in steps of 5 ms from `fromMs`) at which a member is drawn suspect in the view shown. */
function firstSuspectShown(fromMs: number, toMs: number): number {
  const src = source('gossip-probe-suspect');
  for (let t = fromMs; t <= toMs; t += 5) {
    src.seek(t);
    if (src.view(1).nodes.some((n) => n.role === 'suspect')) return t;
  }
  throw new Error(`no member drawn suspect between ${fromMs} and ${toMs} ms`);
}

describe('gossip view, engine', () => {
  it('lists every gossip scenario once', () => {
    expect(adapter.scenarios.map((s) => s.id)).toEqual(GOSSIP_SCENARIOS.map((s) => s.name));
  });

  // the 256-member epidemic takes seconds: the scenario tests play it
  it.each(GOSSIP_SCENARIOS.filter((s) => s.nodes <= 64).map((s) => [s.name, s] as const))('%s: the visualizer reaches the outcome the tests reach', (name, scenario) => {
    const expected = runGossipScenario(scenario, { driver: 'drive' });
    expect(expected.failure).toBeUndefined();
    const src = source(name);
    src.seek(scenario.endMs);
    const view = src.view(1);
    expect(view.caption?.split('\n')[0]).toBe(scenario.caption);
    expect(view.caption).toContain(`Scenario complete. ${outcomeLine(expected.outcome)}`);
    expect(view.monitors.every((m) => m.violation === null)).toBe(true);
    expect(view.failure).toBeNull();
  });

  it('the epidemic: every member ringed as informed, the rounds against log N', () => {
    const scenario = gossipScenarioByName('gossip-epidemic') as GossipScenario;
    const src = source('gossip-epidemic');
    src.seek(scenario.endMs);
    const view = src.view(1);
    expect(view.nodes).toHaveLength(64);
    expect(view.nodes.every((n) => n.mark === 'informed')).toBe(true);
    expect(view.nodes.filter((n) => n.role === 'self')).toHaveLength(1);
    const epidemic = table(view.panels['gossip-epidemic']);
    expect(epidemic.caption?.text).toMatch(/: 64\/64 informed · rounds: \d+ · log₂ N = 6 · push gossip with fan-out 3 expects ≈ 4\.4/);
    expect(texts(epidemic.rows[0])[2]).toBe('1/64');
    expect(texts(epidemic.rows[epidemic.rows.length - 1])[2]).toBe('64/64');
  });

  it('the member shown follows the selection; the run does not', () => {
    const src = source('gossip-crash-detected');
    src.seek(1_600);
    const before = src.view(1);
    const focus = before.nodes.find((n) => n.role === 'self')?.id as string;
    const dead = before.nodes.find((n) => n.role === 'dead');
    expect(dead?.up).toBe(false);
    expect(table(before.panels['gossip-view']).caption?.text.startsWith(`${focus}'s view: 16 members (15 alive, 0 suspect, 1 dead`)).toBe(true);
    const other = before.nodes.find((n) => n.up && n.id !== focus)?.id as string;
    src.select(other);
    const after = src.view(1);
    expect(after.nodes.find((n) => n.role === 'self')?.id).toBe(other);
    expect(table(after.panels['gossip-view']).caption?.text.startsWith(`${other}'s view:`)).toBe(true);
    expect(after.traceHash).toBe(before.traceHash);
    // a member that is down has no view: the scenario's is shown instead
    src.select(dead?.id ?? null);
    expect(src.view(1).nodes.find((n) => n.role === 'self')?.id).toBe(focus);
  });

  it('time travel gives the same panels', () => {
    const src = source('gossip-partition-heal-crdt');
    src.seek(4_000);
    const panels = src.view(1).panels;
    src.seek(1_500);
    const early = src.view(1).panels;
    src.seek(4_000);
    expect(src.view(1).panels).toEqual(panels);
    const fresh = source('gossip-partition-heal-crdt');
    fresh.seek(1_500);
    expect(fresh.view(1).panels).toEqual(early);
  });

  it('free play: a metadata change from the page is followed round by round; document changes reach every member', () => {
    const src = new SimulationSource(adapter, { protocol: 'swim', nodes: 12, seed: 3, actions: [] });
    src.seek(800);
    src.dispatch({ kind: 'client', op: 'meta', node: '4' });
    src.dispatch({ kind: 'client', op: 'incr', node: '7' });
    src.dispatch({ kind: 'client', op: 'add', node: '9' });
    src.seek(2_500);
    const view = src.view(1);
    expect(table(view.panels['gossip-epidemic']).caption?.text).toMatch(/^4's update "m1" \(incarnation 1\): 12\/12 informed · rounds: \d+ · log₂ N = 4/);
    expect(table(view.panels['gossip-docs']).caption?.text).toBe('documents agree: all 12 live members hold hits = 1 · tags = {e3}');
    expect(view.history.map((op) => [op.f, op.outcome])).toEqual([
      ['set-meta', 'ok'],
      ['counter-incr', 'ok'],
      ['set-add', 'ok'],
    ]);
  });

  it('a member joins through three others, another leaves: the view shows both', () => {
    const src = new SimulationSource(adapter, { protocol: 'swim', nodes: 8, seed: 2, actions: [] });
    src.seek(500);
    src.dispatch({ kind: 'protocol', name: 'join', node: null });
    src.dispatch({ kind: 'protocol', name: 'leave', node: '3' });
    src.seek(2_500);
    const view = src.view(1);
    expect(view.nodes.map((n) => n.id)).toContain('n9');
    const shown = table(view.panels['gossip-view']);
    expect(shown.caption?.text).toMatch(/^1's view: 9 members \(8 alive, 0 suspect, 0 dead, 1 left\)/);
    expect(texts(shown.rows.find((r) => r.key === 'n9'))[1]).toBe('alive');
    expect(view.nodes.find((n) => n.id === '3')?.role).toBe('left');
    expect(table(view.panels['gossip-story']).rows.map((r) => texts(r).slice(1).join(' '))).toContain('3 leaves the group gracefully');
  });

  it('the crowd drawing groups the members of a partition', () => {
    const ids = ['1', '2', '3', '4', '5'];
    const cuts: [string, string][] = [];
    for (const a of ['1', '2']) for (const b of ['3', '4', '5']) cuts.push([a, b], [b, a]);
    expect([...partitionGroups(ids, cuts)]).toEqual([['1', 0], ['2', 0], ['3', 1], ['4', 1], ['5', 1]]);
    expect([...partitionGroups(ids, [])].every(([, g]) => g === 0)).toBe(true);
  });
});

if (!hasChromium) console.warn(`e2e: skipping the gossip view browser tests: ${CHROMIUM} is missing (apt-get install -y chromium)`);

describe.skipIf(!hasChromium)('gossip view in Chromium', () => {
  const app = useServedApp('synod-web-gossip-');

  async function open(): Promise<Page> {
    const page = await app.browser().newPage();
    await page.goto(`${app.url()}#p=swim&n=8&s=1`);
    await page.getByTestId('status').and(page.locator('[data-time]')).waitFor();
    return page;
  }

  const errors = (page: Page): string[] => (page as Page & { errors?: string[] }).errors ?? [];
  const caption = (page: Page, panel: string): Promise<string> => page.getByTestId(`${panel}-caption`).innerText();
  const nodes = (page: Page, attr: string, value: string) => page.getByTestId('cluster').locator(`[data-testid^="node-"][${attr}="${value}"]`);

  it('the epidemic: 64 members drawn as a crowd, every one ringed once informed, the rounds next to log N', async () => {
    const scenario = gossipScenarioByName('gossip-epidemic') as GossipScenario;
    const page = await open();
    await page.getByTestId('scenario').selectOption('gossip-epidemic');
    await expect.poll(() => page.getByTestId('caption').textContent()).toContain('64 members.');
    await goTo(page, scenario.endMs);
    await expect.poll(() => page.getByTestId('caption').textContent(), { timeout: 30_000 }).toContain('Scenario complete');
    expect(await page.getByTestId('cluster').getAttribute('data-drawing')).toBe('crowd');
    expect(await page.getByTestId('cluster').locator('[data-testid^="node-"]').count()).toBe(64);
    await expect.poll(() => nodes(page, 'data-mark', 'informed').count()).toBe(64);
    expect(await caption(page, 'gossip-epidemic')).toMatch(/64\/64 informed · rounds: \d+ · log₂ N = 6/);
    expect(await page.getByTestId('caption').textContent()).toMatch(/64\/64 have \d+'s update · rounds: \d+ · log₂ N = 6/);
    expect(await page.locator('[data-testid^="gossip-epidemic-row-"]').count()).toBeGreaterThan(2);
    await screenshot(page, 'gossip-epidemic');
    // back to two rounds after the change: some have it, not all
    const start = Number.parseInt(await page.getByTestId('gossip-epidemic-row-0').locator('td').nth(1).innerText(), 10);
    await goTo(page, start + 80);
    const informed = await nodes(page, 'data-mark', 'informed').count();
    expect(informed).toBeGreaterThan(1);
    expect(informed).toBeLessThan(64);
    expect(await caption(page, 'gossip-epidemic')).toMatch(new RegExp(`: ${informed}/64 informed · rounds: 2 so far · log₂ N = 6`));
    await screenshot(page, 'gossip-epidemic-spreading');
    expect(errors(page)).toEqual([]);
    await page.close();
  });

  it('partition, heal, CRDT: documents differ across the partition, then agree', async () => {
    const page = await open();
    await page.getByTestId('scenario').selectOption('gossip-partition-heal-crdt');
    await expect.poll(() => page.getByTestId('caption').textContent()).toContain('10 members keep a document');
    await goTo(page, 2_000);
    await expect.poll(() => caption(page, 'gossip-docs')).toMatch(/^documents differ: 5 of 10 live members hold the majority’s, 5 differ/);
    expect(await nodes(page, 'data-mark', 'differs').count()).toBe(5);
    // ten members: the ring, with the 5 × 5 links between the sides cut
    expect(await page.locator('[data-testid^="link-"][data-cut="true"]').count()).toBe(25);
    await screenshot(page, 'gossip-partition-differ');
    await goTo(page, 4_500);
    await expect.poll(() => page.getByTestId('caption').textContent(), { timeout: 30_000 }).toContain('Scenario complete');
    expect(await caption(page, 'gossip-docs')).toBe('documents agree: all 10 live members hold hits = 7 · mode = a|b · tags = {blue, red}');
    expect(await nodes(page, 'data-mark', 'differs').count()).toBe(0);
    expect(await page.locator('[data-testid^="link-"][data-cut="true"]').count()).toBe(0);
    await screenshot(page, 'gossip-partition-healed');
    expect(errors(page)).toEqual([]);
    await page.close();
  });

  it('probe and suspect: the paused member is drawn suspect, then refutes; right-click shows another member’s view', async () => {
    const scenario = gossipScenarioByName('gossip-probe-suspect') as GossipScenario;
    const expected = runGossipScenario(scenario, { driver: 'drive' });
    const escalation = expected.stage.tracker.escalations[0];
    expect(escalation).toBeDefined();
    const paused = escalation?.target as string;
    const at = firstSuspectShown(escalation?.startedMs ?? 0, scenario.endMs);
    const page = await open();
    await page.getByTestId('scenario').selectOption('gossip-probe-suspect');
    await expect.poll(() => page.getByTestId('caption').textContent()).toContain('8 members.');
    await goTo(page, at);
    expect(await page.getByTestId('cluster').getAttribute('data-drawing')).toBeNull();
    expect(await page.getByTestId(`node-${paused}`).getAttribute('data-role')).toBe('suspect');
    expect(await page.getByTestId(`node-${paused}`).getAttribute('data-paused')).toBe('true');
    expect(await page.locator('[data-testid^="gossip-probes-row-"]').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('panel-gossip-story').innerText()).toMatch(/asks .* to probe it \(ping-req\)/);
    await screenshot(page, 'gossip-probe-suspect');
    await goTo(page, scenario.endMs);
    await expect.poll(() => page.getByTestId('caption').textContent(), { timeout: 30_000 }).toContain('Scenario complete');
    expect(await page.getByTestId(`node-${paused}`).getAttribute('data-role')).toBe('alive');
    expect(await nodes(page, 'data-role', 'suspect').count()).toBe(0);
    expect(await page.getByTestId('panel-gossip-story').innerText()).toContain('refutes: it is alive, and says so at a higher incarnation');
    await screenshot(page, 'gossip-probe-refuted');
    // right-click another member: its view is shown, the run stays the same
    const before = await status(page);
    await page.getByTestId(`node-${paused}`).click({ button: 'right' });
    await expect.poll(() => caption(page, 'gossip-view')).toMatch(new RegExp(`^${paused}'s view: 8 members \\(8 alive`));
    expect(await page.getByTestId(`node-${paused}`).getAttribute('data-role')).toBe('self');
    expect((await status(page)).traceHash).toBe(before.traceHash);
    expect(errors(page)).toEqual([]);
    await page.close();
  });
});
