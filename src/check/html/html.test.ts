// The HTML report renderer: hostile histories come out escaped and cut to length, the violation is
// marked, huge histories are drawn in part with a note saying what was left out, and the same
// input always gives the same page.
import { describe, expect, it } from 'vitest';
import type { History, Operation } from '../../core/index.js';
import { checkHistory } from '../checker.js';
import { kvModel, registerModel } from '../models/index.js';
import { historyOf } from '../test/histories.js';
import { historyChart, operationKeys, renderHtmlReport, selectDrawn, showText, toMarkup, type ReportSection } from './index.js';

const staleRead = historyOf([
  { p: 1, f: 'write', input: 1, at: [0, 10] },
  { p: 2, f: 'write', input: 2, at: [20, 30] },
  { p: 3, f: 'read', output: 1, at: [40, 50] },
  { p: 1, f: 'write', input: 3, at: [45, 200], outcome: 'unknown' },
  { p: 2, f: 'write', input: 4, at: [55, 60], outcome: 'fail' },
]);

function section(history: History, model: typeof registerModel | typeof kvModel = registerModel): ReportSection {
  const result = model === registerModel ? checkHistory(history, registerModel) : checkHistory(history, kvModel);
  return { title: 'stale.json', history, result, keys: model === registerModel ? operationKeys(history, registerModel) : operationKeys(history, kvModel) };
}

/** The `<g>` of the bar of operation `index`. */
function bar(page: string, index: number): string {
  const match = new RegExp(`<g class="([^"]*)" data-testid="op" data-index="${index}"[^>]*>.*?</g>`, 's').exec(page);
  if (match === null) throw new Error(`no bar for #${index}`);
  return match[0];
}

describe('renderHtmlReport', () => {
  it('draws one bar per operation, lanes per process, and marks the violation', () => {
    const page = renderHtmlReport([section(staleRead)]);
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expect(page.match(/data-testid="op"/g)).toHaveLength(5);
    expect(page).toContain('data-lanes="3"');
    expect(page).toContain('data-verdict="not-linearizable"');
    // the read of 1 after write 2 completed cannot be placed: it is the stuck one
    expect(bar(page, 2)).toMatch(/class="op unplaceable stuck"/);
    expect(bar(page, 2)).toContain('class="stuck-mark"');
    expect(bar(page, 0)).toMatch(/class="op linearized"/);
    expect(bar(page, 1)).toMatch(/class="op linearized"/);
    expect(bar(page, 3)).toMatch(/class="op open/);
    expect(bar(page, 4)).toMatch(/class="op failed"/);
    expect(page).toContain('<ol class="prefix" start="1" data-testid="prefix"><li data-index="0">#0 p1 write 1 [0, 10] ⇒ <code>1</code></li><li data-index="1">#1 p2 write 2 [20, 30] ⇒ <code>2</code></li></ol>');
    expect(page).toContain('<li class="stuck" data-index="2">#2 p3 read → 1 [40, 50] ← completed before it could take effect</li>');
  });

  it('has no external resources and forbids them', () => {
    const page = renderHtmlReport([section(staleRead)]);
    expect(page).toContain('content="default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;; script-src &#39;unsafe-inline&#39;"');
    expect(page).not.toMatch(/\b(src|href)="(?!#)/);
    expect(page).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it('escapes hostile processes, names, values, keys and titles', () => {
    const evil = '<script>alert(1)</script>"\'&\u001b[2J\u202e\u0000';
    const history = historyOf([
      { p: evil, f: 'put', input: { key: evil, value: evil }, at: [0, 10] },
      { p: 'q', f: 'get', input: { key: evil }, output: 'other', at: [20, 30] },
    ]);
    const page = renderHtmlReport([{ ...section(history, kvModel), title: `${evil}.json`, notes: [evil], error: evil }]);
    const body = page.slice(page.indexOf('<body>'), page.lastIndexOf('<script>'));
    expect(body).not.toContain('<script');
    expect(body).not.toContain('"\'');
    // no raw control character, line separator or bidi override anywhere on the page
    // eslint-disable-next-line no-control-regex -- looking for them is the point
    expect(page).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
    expect(body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(body).toContain('\\u001b[2J');
    expect(page.match(/<script>/g)).toHaveLength(1);
    // every attribute value is quoted and free of raw quotes
    for (const match of body.matchAll(/<[a-z]+((?:\s[a-z-]+="[^"]*")*)\s*>/g)) expect(match[0]).not.toMatch(/="[^"]*'/);
  });

  it('caps long labels, tooltips and states', () => {
    const huge = 'x'.repeat(1_000_000);
    const history = historyOf([{ p: 1, f: 'write', input: huge, at: [0, 10] }, { p: 2, f: 'read', output: 'y', at: [20, 30] }]);
    const page = renderHtmlReport([section(history)]);
    expect(page.length).toBeLessThan(20_000);
    expect(page).toContain('…');
  });

  it('cuts text without splitting a surrogate pair', () => {
    expect(showText('ab😀cd', 3)).toBe('ab…');
    expect(showText('a\nb', 10)).toBe('a\\nb');
  });

  it('is deterministic', () => {
    expect(renderHtmlReport([section(staleRead), section(staleRead)])).toBe(renderHtmlReport([section(staleRead), section(staleRead)]));
  });

  it('draws a huge history in part: the violating key, and says what was left out', () => {
    const specs = [];
    for (let k = 0; k < 30_000; k++) {
      const key = `k${k % 1000}`;
      specs.push({ p: k % 8, f: 'put', input: { key, value: k }, at: [k * 10, k * 10 + 5] as const });
    }
    specs.push({ p: 9, f: 'get', input: { key: 'k7' }, output: -1, at: [300_001, 300_002] as const });
    const history = historyOf(specs);
    const s = section(history, kvModel);
    expect(s.result?.verdict).toBe('not-linearizable');
    const page = renderHtmlReport([s]);
    expect(page.match(/data-testid="op"/g)?.length).toBe(31);
    expect(page).toContain('Only key &quot;k7&quot;, the violating partition, is drawn: 31 operations of 30001; the 29970 operations of 999 other keys are left out.');
    expect(page.length).toBeLessThan(200_000);
  });

  it('without a violation draws the first operations; within one huge key, a window around the stuck one', () => {
    const ops: Operation[] = [];
    for (let k = 0; k < 100; k++) ops.push({ index: k, process: String(k % 3), f: 'write', input: k, output: null, invokeMs: k * 10, completeMs: k * 10 + 5, outcome: 'ok' });
    const history: History = { format: 'synod-history/1', ops };
    expect(selectDrawn(history, null, undefined, 10).ops.map((o) => o.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const drawn = selectDrawn(history, { key: '', prefix: [], stuck: 50, unplaceable: [50, 99] }, undefined, 10);
    expect(drawn.ops.map((o) => o.index)).toEqual([46, 47, 48, 49, 50, 51, 52, 53, 54, 99]);
    expect(drawn.omitted).toContain('10 of the 100 operations of the history');
  });

  it('keeps a section for a file that could not be checked', () => {
    const page = renderHtmlReport([{ title: 'missing.log', error: 'cannot read: ENOENT' }, section(staleRead)]);
    expect(page).toContain('<p class="error" data-testid="error">cannot read: ENOENT</p>');
    expect(page).toContain('<a href="#history-2">stale.json</a>');
    expect(page).toContain('<section class="report" id="history-1" data-verdict="unknown">');
  });
});

describe('operationKeys', () => {
  it('gives failed operations and unknown reads their key too, and single-object models ""', () => {
    const history = historyOf([
      { p: 1, f: 'put', input: { key: 'a', value: 1 }, at: [0, 1], outcome: 'fail' },
      { p: 2, f: 'get', input: { key: 'b' }, at: [2, 3], outcome: 'unknown' },
      { p: 3, f: 'frobnicate', input: 7, at: [4, 5] },
    ]);
    expect([...operationKeys(history, kvModel)]).toEqual([[0, 'a'], [1, 'b']]);
    expect([...operationKeys(historyOf([{ p: 1, f: 'read', at: [0, 1], outcome: 'unknown' }]), registerModel)]).toEqual([[0, '']]);
  });

  it('gives every operation of a partition joined by a txn the partition\'s name', () => {
    const history = historyOf([
      { p: 1, f: 'put', input: { key: 'b', value: 1 }, at: [0, 1] },
      { p: 2, f: 'txn', input: { success: [{ op: 'put', key: 'a', value: 2 }, { op: 'get', key: 'b' }] }, at: [2, 3], outcome: 'unknown' },
      { p: 3, f: 'get', input: { key: 'c' }, output: null, at: [4, 5] },
    ]);
    expect([...operationKeys(history, kvModel)]).toEqual([[0, 'b'], [1, 'b'], [2, 'c']]);
  });
});

describe('historyChart', () => {
  it('extends unknown outcomes to the end of the window and stays in the time scale', () => {
    const svg = toMarkup(historyChart(staleRead.ops, { width: 640, left: 40, toMs: 300 }));
    const rect = /data-index="3"[^>]*><title>[^<]*<\/title><rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/.exec(svg);
    expect(rect).not.toBeNull();
    expect(Number(rect?.[1]) + Number(rect?.[2])).toBeCloseTo(640 - 8, 0);
  });

  it('gives failed operations their own class and colour, unknown f the default colour', () => {
    const svg = toMarkup(historyChart(historyOf([{ p: 1, f: 'constructor', at: [0, 1] }, { p: 1, f: 'write', input: 1, at: [2, 3], outcome: 'fail' }]).ops));
    expect(svg).toContain('fill="#64748b"');
    expect(svg).toContain('class="op failed"');
    expect(svg).toContain('fill="#cbd5e1"');
  });
});
