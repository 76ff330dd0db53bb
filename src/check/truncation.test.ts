// Empty and cut-off inputs: a history file that is empty, blank, or cut off part-way must never
// read as a (shorter) valid history. Real etcd logs and a Synod document are cut at every offset.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckError } from './errors.js';
import { parseJepsenLog } from './formats/jepsen.js';
import { parseSynodHistory } from './formats/synod.js';
import { HistoryRecorder } from '../core/index.js';
import { etcdHistoriesDir } from '../../test/shared-histories.js';

function errorOf(parse: () => unknown): CheckError | 'parsed' {
  try {
    parse();
  } catch (err) {
    if (err instanceof CheckError) return err;
    throw err;
  }
  return 'parsed';
}

const etcd = (name: string): string => readFileSync(join(etcdHistoriesDir, name), 'utf8');

describe('empty input', () => {
  it.each(['', ' ', '\n', '\r\n\r\n', ' \t \n  '])('is EMPTY_HISTORY for the Jepsen log %j', (text) => {
    expect(errorOf(() => parseJepsenLog(text))).toMatchObject({ code: 'EMPTY_HISTORY' });
  });

  it.each(['', '   ', '\n\n', '\uFEFF'])('is EMPTY_HISTORY for the Synod document %j', (text) => {
    expect(errorOf(() => parseSynodHistory(text))).toMatchObject({ code: 'EMPTY_HISTORY' });
  });
});

describe('a Jepsen log cut off', () => {
  // the two smallest logs of each verdict keep this fast; every offset of each is tried
  it.each(['etcd_000.log', 'etcd_002.log', 'etcd_040.log'])('at any offset of %s is an error, or the honest prefix at a line boundary', (name) => {
    const full = etcd(name);
    for (let cut = 0; cut < full.length; cut++) {
      const text = full.slice(0, cut);
      const outcome = errorOf(() => parseJepsenLog(text));
      if (text.trim() === '') {
        expect(outcome, `cut at ${cut}`).toMatchObject({ code: 'EMPTY_HISTORY' });
      } else if (text.endsWith('\n')) {
        // a cut right after a newline looks exactly like a shorter, complete log
        expect(outcome, `cut at ${cut}`).toBe('parsed');
      } else {
        const lines = text.split('\n').length;
        expect(outcome, `cut at ${cut}`).toMatchObject({ code: 'TRUNCATED_HISTORY', line: lines });
      }
    }
  });

  it('at a line boundary reads as the prefix, with the open operations unknown', () => {
    const full = etcd('etcd_000.log');
    const lines = full.split('\n');
    const prefix = `${lines.slice(0, 10).join('\n')}\n`;
    const history = parseJepsenLog(prefix);
    const whole = parseJepsenLog(full);
    for (const op of history.ops) {
      const same = whole.ops[op.index]!;
      if (op.outcome === 'unknown') expect(same.invokeMs).toBe(op.invokeMs);
      else expect(op).toEqual(same);
    }
  });

  it('names the cut-off line in its message', () => {
    const text = 'INFO  jepsen.util - 4\t:invoke\t:read\tnil\nINFO  jepsen.util - 4\t:ok\t:read';
    const err = errorOf(() => parseJepsenLog(text)) as CheckError;
    expect(err.code).toBe('TRUNCATED_HISTORY');
    expect(err.message).toMatch(/^line 2: .*cut off/);
  });

  it('accepts the last line without a newline only when it is blank', () => {
    expect(parseJepsenLog('INFO  jepsen.util - 4\t:invoke\t:read\tnil\n   ').ops).toHaveLength(1);
  });
});

describe('a Synod document cut off', () => {
  it('at any offset is an error', () => {
    const recorder = new HistoryRecorder();
    for (let i = 0; i < 6; i++) {
      const op = recorder.invoke(`p${i % 3}`, i % 2 === 0 ? 'write' : 'read', i % 2 === 0 ? i : null, 10 * i);
      recorder.complete(op, 'ok', i % 2 === 0 ? null : i - 1, 10 * i + 5);
    }
    const full = JSON.stringify(recorder.snapshot(100), null, 1);
    expect(parseSynodHistory(full).ops).toHaveLength(6);
    for (let cut = 0; cut < full.length; cut++) {
      const outcome = errorOf(() => parseSynodHistory(full.slice(0, cut)));
      expect(outcome, `cut at ${cut}`).toMatchObject({ code: cut === 0 ? 'EMPTY_HISTORY' : 'HISTORY_FORMAT' });
    }
  });
});
