// Elle's shipped histories (test/fixtures/elle, converted by scripts/convert-elle-histories.ts):
// the EDN and the JSON form read to the same transactions, and the verdicts are the ones Elle states.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ELLE_EXPECTATIONS } from '../../../test/fixtures/elle/expected.js';
import { checkTxnHistory } from './check.js';
import { parseTxnHistory } from './read.js';
import type { IsolationLevel } from './types.js';

const fixture = (name: string): string => gunzipSync(readFileSync(new URL(`../../../test/fixtures/elle/${name}`, import.meta.url))).toString('utf8');

describe("Elle's shipped histories", () => {
  for (const name of ['paper-example', 'si-without-g-single']) {
    const expected = ELLE_EXPECTATIONS[name]!;
    it(`${name}: EDN and JSON read the same`, () => {
      const edn = parseTxnHistory(fixture(`${name}.edn.gz`), 'edn');
      const json = parseTxnHistory(fixture(`${name}.json.gz`), 'json');
      expect(json.txns.map((t) => [t.index, t.outcome, t.mops])).toEqual(edn.txns.map((t) => [t.index, t.outcome, t.mops]));
    });
    for (const [isolation, verdict] of Object.entries(expected.verdicts)) {
      it(`${name}: ${isolation} is ${verdict}, as Elle says (${expected.source})`, () => {
        for (const format of ['edn', 'json'] as const) {
          const h = parseTxnHistory(fixture(`${name}.${format}.gz`), format);
          const r = checkTxnHistory(h, { model: 'txn-append', isolation: isolation as IsolationLevel });
          expect(r.verdict).toBe(verdict);
          for (const t of expected.types) expect(r.anomalyTypes).toContain(t);
        }
      });
    }
  }

  it('paper-example: the explanation is the cycle of Figure 2', () => {
    const r = checkTxnHistory(parseTxnHistory(fixture('paper-example.edn.gz')), { model: 'txn-append' });
    const [cycle] = r.anomalies['G-single']!;
    expect(cycle).toMatchObject({ cycle: [7, 3, 5, 7] });
    expect(cycle && 'steps' in cycle ? cycle.steps.map((s) => s.why) : []).toEqual([
      "T7 did not observe T3's append of 8 to key 255: it read up to 5 (rw)",
      "T5 observed T3's append of 8 to key 255 (wr)",
      "T7 appended 3 to key 256 after T5's 4 (ww)",
    ]);
  });
});
