// The saga view of the order saga. Without a browser: the adapter plays the tours the saga tests
// play (src/saga/scenarios/tours.ts) and reaches the outcomes runSagaTour reaches; the services
// are coloured by their step's state; the saga log shows the compensations in reverse order; the
// orchestrator is drawn down mid-saga and the saga resumes; time travel gives the same panels; an
// order started from the page ends. In Chromium: a failure with compensations running backwards
// and the orchestrator crash, as the page shows them, and no page errors.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { runSagaTour, SAGA_TOURS, sagaTourByName, type SagaTour } from '../../src/saga/scenarios/tours.js';
import { adapterById } from '../../web/src/adapters/index.js';
import { sagaOutcomeLine } from '../../web/src/adapters/saga.js';
import type { PanelContent, ProtocolAdapter, TableContent, TableRow } from '../../web/src/adapters/types.js';
import { SimulationSource } from '../../web/src/source/simulation.js';
import { CHROMIUM, goTo, hasChromium, screenshot, useServedApp } from './harness.js';

const adapter = adapterById('saga') as ProtocolAdapter;

function table(content: PanelContent | undefined): TableContent {
  if (content === undefined || content.kind !== 'table') throw new Error('expected a table');
  return content;
}

const texts = (row: TableRow | undefined): string[] => (row?.cells ?? []).map((c) => (typeof c === 'string' ? c : c.text));

function tour(name: string): SagaTour {
  const t = sagaTourByName(name);
  if (t === undefined) throw new Error(`no tour ${name}`);
  return t;
}

function source(name: string): SimulationSource {
  const sc = adapter.scenarios.find((s) => s.id === name);
  expect(sc, name).toBeDefined();
  return new SimulationSource(adapter, { protocol: 'saga', nodes: 5, seed: sc?.seed ?? 1, actions: [], scenario: name });
}

/** Services by node: order 2, payment 3, inventory 4, shipping 5. */
const SERVICES = ['2', '3', '4', '5'];

/** The log's records as the panel shows them, oldest first. */
const logRecords = (view: ReturnType<SimulationSource['view']>): string[] => table(view.panels['saga-log']).rows.map((r) => texts(r)[3] ?? '');

describe('saga view, engine', () => {
  it('lists every saga tour once', () => {
    expect(adapter.scenarios.map((s) => s.id)).toEqual(SAGA_TOURS.map((t) => t.name));
  });

  it.each(SAGA_TOURS.map((t) => [t.name, t] as const))('%s: the visualizer reaches the outcome the tests reach', (name, t) => {
    const expected = runSagaTour(t, { driver: 'drive' });
    expect(expected.failure).toBeUndefined();
    expect(expected.outcome).toEqual(t.expected);
    const src = source(name);
    src.seek(t.endMs);
    const view = src.view(1);
    expect(view.caption?.split('\n')[0]).toBe(t.caption);
    expect(view.caption).toContain(`Tour complete. ${sagaOutcomeLine(expected.outcome)}`);
    expect(view.monitors.every((m) => m.violation === null)).toBe(true);
    expect(view.failure).toBeNull();
  });

  it('a happy order: every service drawn done, the saga committed', () => {
    const src = source('saga-happy');
    src.seek(tour('saga-happy').endMs);
    const view = src.view(1);
    expect(SERVICES.map((id) => view.nodes.find((n) => n.id === id)?.role)).toEqual(['done', 'done', 'done', 'done']);
    expect(table(view.panels['saga-steps']).caption?.text).toBe('order-1 (order): committed');
    expect(logRecords(view).slice(-1)).toEqual(['finished: committed']);
  });

  it('a declined payment: the order is cancelled; out of stock: refund, then cancel — backwards in the log', () => {
    const declined = source('saga-payment-declined');
    declined.seek(tour('saga-payment-declined').endMs);
    const d = declined.view(1);
    expect(SERVICES.map((id) => d.nodes.find((n) => n.id === id)?.role)).toEqual(['compensated', 'failed', 'skipped', 'skipped']);
    expect(table(d.panels['saga-steps']).caption?.text).toBe('order-1 (order): compensated — payment declined');

    const stock = source('saga-out-of-stock');
    stock.seek(tour('saga-out-of-stock').endMs);
    const s = stock.view(1);
    expect(SERVICES.map((id) => s.nodes.find((n) => n.id === id)?.role)).toEqual(['compensated', 'compensated', 'failed', 'skipped']);
    const records = logRecords(s);
    const compensations = records.filter((r) => r.startsWith('compensate '));
    expect(compensations).toEqual(['compensate charge-payment (attempt 1)', 'compensate create-order (attempt 1)']);
    expect(records.indexOf('reserve-inventory failed: out of stock: compensate backwards')).toBeLessThan(records.indexOf('compensate charge-payment (attempt 1)'));
    const steps = table(s.panels['saga-steps']);
    expect(steps.rows.map((r) => texts(r)[5])).toEqual(['applied, then undone', 'applied, then undone', 'no effect', 'no effect']);
  });

  it('shipping refused without a pivot: all three compensated in reverse order', () => {
    const src = source('saga-shipping-refused');
    src.seek(tour('saga-shipping-refused').endMs);
    const view = src.view(1);
    expect(logRecords(view).filter((r) => r.startsWith('compensate '))).toEqual(['compensate reserve-inventory (attempt 1)', 'compensate charge-payment (attempt 1)', 'compensate create-order (attempt 1)']);
    expect(SERVICES.map((id) => view.nodes.find((n) => n.id === id)?.role)).toEqual(['compensated', 'compensated', 'compensated', 'failed']);
  });

  it('the orchestrator crash: drawn down mid-saga with payment applied, then resumed to commit', () => {
    const t = tour('saga-orchestrator-crash');
    const src = source(t.name);
    src.seek(300);
    const down = src.view(1);
    expect(down.nodes.find((n) => n.id === '1')?.up).toBe(false);
    expect(down.nodes.find((n) => n.id === '3')?.role).toBe('running');
    expect(texts(table(down.panels['saga-steps']).rows[1])[5]).toBe('applied');
    src.seek(t.endMs);
    const end = src.view(1);
    expect(end.nodes.find((n) => n.id === '1')?.role).toBe('orchestrator');
    expect(SERVICES.map((id) => end.nodes.find((n) => n.id === id)?.role)).toEqual(['done', 'done', 'done', 'done']);
    const story = table(end.panels['saga-story']).rows.map((r) => texts(r).slice(1).join(' '));
    expect(story).toContain('orchestrator crashes');
    expect(story).toContain('orchestrator restarts, replays its saga log and resumes every unfinished saga');
    // charged once, though asked twice
    expect(story.filter((l) => l === 'payment applies charge-payment')).toHaveLength(1);
  });

  it('time travel gives the same panels', () => {
    const src = source('saga-out-of-stock');
    src.seek(1_000);
    const late = src.view(1).panels;
    src.seek(120);
    const early = src.view(1).panels;
    src.seek(1_000);
    expect(src.view(1).panels).toEqual(late);
    const fresh = source('saga-out-of-stock');
    fresh.seek(120);
    expect(fresh.view(1).panels).toEqual(early);
  });

  it('free play: orders started from the page each end committed or compensated, and the checker holds', () => {
    const src = new SimulationSource(adapter, { protocol: 'saga', nodes: 5, seed: 3, actions: [] });
    src.seek(50);
    src.dispatch({ kind: 'client', op: 'start', node: null });
    src.dispatch({ kind: 'client', op: 'start-no-pivot', node: null });
    src.seek(3_000);
    const view = src.view(1);
    const sagas = table(view.panels['saga-sagas']);
    expect(sagas.rows).toHaveLength(2);
    for (const r of sagas.rows) expect(['committed', 'compensated']).toContain(texts(r)[2]);
    expect(texts(table(view.panels['saga-verdicts']).rows.find((r) => r.key === 'checker'))[1]).toBe('ok');
  });
});

if (!hasChromium) console.warn(`e2e: skipping the saga view browser tests: ${CHROMIUM} is missing (apt-get install -y chromium)`);

describe.skipIf(!hasChromium)('saga view in Chromium', () => {
  const app = useServedApp('synod-web-saga-');

  async function open(name: string): Promise<Page> {
    const page = await app.browser().newPage();
    await page.goto(`${app.url()}#p=saga&n=5&s=1`);
    await page.getByTestId('status').and(page.locator('[data-time]')).waitFor();
    await page.getByTestId('scenario').selectOption(name);
    await expect.poll(() => page.getByTestId('caption').textContent()).toContain(tour(name).caption.slice(0, 40));
    return page;
  }

  const errors = (page: Page): string[] => (page as Page & { errors?: string[] }).errors ?? [];
  const roles = (page: Page, ids: readonly string[]): Promise<(string | null)[]> => Promise.all(ids.map((id) => page.getByTestId(`node-${id}`).getAttribute('data-role')));

  it('out of stock: the step fails, the compensations run backwards, the saga ends compensated', async () => {
    const t = tour('saga-out-of-stock');
    const page = await open(t.name);
    await goTo(page, 120);
    expect(await roles(page, SERVICES)).toEqual(['done', 'done', 'running', 'pending']);
    await goTo(page, t.endMs);
    await expect.poll(() => page.getByTestId('caption').textContent(), { timeout: 30_000 }).toContain('Tour complete');
    expect(await page.getByTestId('caption').textContent()).toContain('Saga compensated; applied: create-order, charge-payment; compensated backwards: charge-payment ← create-order; checker ok.');
    expect(await roles(page, SERVICES)).toEqual(['compensated', 'compensated', 'failed', 'skipped']);
    expect(await page.getByTestId('saga-steps-caption').innerText()).toBe('order-1 (order): compensated — out of stock');
    const log = await page.locator('[data-testid^="saga-log-row-"]').allInnerTexts();
    const order = ['failed: out of stock', 'compensate charge-payment', 'charge-payment compensated', 'compensate create-order', 'create-order compensated', 'finished: compensated'].map((needle) => log.findIndex((row) => row.includes(needle)));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    await screenshot(page, 'saga-out-of-stock');
    expect(errors(page)).toEqual([]);
    await page.close();
  });

  it('orchestrator crash mid-saga: drawn down, then resumed from its log to commit', async () => {
    const t = tour('saga-orchestrator-crash');
    const page = await open(t.name);
    await goTo(page, 300);
    expect(await page.getByTestId('node-1').getAttribute('data-role')).toBe('down');
    expect(await page.getByTestId('saga-steps-row-1').innerText()).toContain('applied');
    await screenshot(page, 'saga-orchestrator-down');
    await goTo(page, t.endMs);
    await expect.poll(() => page.getByTestId('caption').textContent(), { timeout: 30_000 }).toContain('Tour complete');
    expect(await page.getByTestId('caption').textContent()).toContain('Saga committed; applied: create-order, charge-payment, reserve-inventory, ship; nothing compensated; checker ok.');
    expect(await roles(page, ['1', ...SERVICES])).toEqual(['orchestrator', 'done', 'done', 'done', 'done']);
    expect(await page.getByTestId('saga-verdicts-row-checker').innerText()).toContain('ok');
    expect(await page.getByTestId('panel-saga-story').innerText()).toContain('replays its saga log and resumes');
    await screenshot(page, 'saga-orchestrator-resumed');
    expect(errors(page)).toEqual([]);
    await page.close();
  });
});
