// The 102 etcd histories recorded by Jepsen, with their known verdicts: the checker must agree
// on every one, within a generous time budget.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkHistory } from './checker.js';
import { parseJepsenLog } from './formats/jepsen.js';
import { registerModel } from './models/register.js';
import { etcdHistoriesDir } from '../../test/shared-histories.js';

const dir = etcdHistoriesDir;

describe('etcd Jepsen histories', () => {
  it('are where the test expects them', () => {
    expect(existsSync(`${dir}/expected.json`)).toBe(true);
  });

  // with failed cas dropped (the library default) and observed (what synod check does for Jepsen logs)
  for (const failedCas of ['dropped', 'observed'] as const) {
    it(`all get their known verdict, failed cas ${failedCas}`, () => {
      const expected = (JSON.parse(readFileSync(`${dir}/expected.json`, 'utf8')) as { linearizable: Record<string, boolean> }).linearizable;
      const files = readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
      expect(files).toHaveLength(102);
      expect(Object.keys(expected).sort()).toEqual(files);
      const verdicts = Object.fromEntries(
        files.map((file) => {
          const result = checkHistory(parseJepsenLog(readFileSync(`${dir}/${file}`, 'utf8')), registerModel, {
            now: () => performance.now(),
            budgetMs: 20_000,
            failedCas,
          });
          return [file, result.verdict];
        }),
      );
      const wanted = Object.fromEntries(files.map((f) => [f, expected[f] ? 'linearizable' : 'not-linearizable']));
      expect(verdicts).toEqual(wanted);
    });
  }
});
