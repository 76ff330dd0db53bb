// The Jepsen log reader: line shapes, values, pairing of invocations with completions, and errors
// that name the offending line.
import { describe, expect, it } from 'vitest';
import { CheckError } from './errors.js';
import { parseEdnValue } from './formats/edn.js';
import { MAX_VALUE_DEPTH } from './json.js';
import { parseJepsenLog } from './formats/jepsen.js';

const line = (process: number | string, type: string, f: string, value: string) => `INFO  jepsen.util - ${process}\t:${type}\t:${f}\t${value}`;
/** A log as Jepsen writes it: every line ends with a newline. */
const log = (...lines: string[]): string => `${lines.join('\n')}\n`;

function parseError(text: string): CheckError {
  try {
    parseJepsenLog(text);
  } catch (err) {
    if (err instanceof CheckError) return err;
    throw err;
  }
  throw new Error('expected a parse error');
}

describe('parseJepsenLog', () => {
  it('pairs invocations with completions, using line numbers as times', () => {
    const history = parseJepsenLog(log(line(0, 'invoke', 'read', 'nil'), line(1, 'invoke', 'write', '3'), line(1, 'ok', 'write', '3'), line(0, 'ok', 'read', '3')));
    expect(history.ops).toEqual([
      { index: 0, process: '0', f: 'read', input: null, output: 3, invokeMs: 1, completeMs: 4, outcome: 'ok' },
      { index: 1, process: '1', f: 'write', input: 3, output: 3, invokeMs: 2, completeMs: 3, outcome: 'ok' },
    ]);
  });

  it('maps :fail to fail and :info to unknown, and leaves never-completed operations unknown', () => {
    const history = parseJepsenLog(
      log(
        line(0, 'invoke', 'cas', '[1 2]'),
        line(0, 'fail', 'cas', '[1 2]'),
        line(1, 'invoke', 'write', '4'),
        line(1, 'info', 'write', ':timed-out'),
        line(2, 'invoke', 'read', 'nil'),
      ),
    );
    expect(history.ops.map((op) => [op.f, op.input, op.outcome, op.output, op.completeMs])).toEqual([
      ['cas', [1, 2], 'fail', null, 2],
      ['write', 4, 'unknown', null, 4],
      ['read', null, 'unknown', null, 6],
    ]);
  });

  it('accepts spaces instead of tabs, CRLF, blank lines and other loggers', () => {
    const text = log('INFO  jepsen.core - Running test', '', 'INFO  jepsen.util - 1   :invoke :write  3\r', 'INFO  jepsen.util - 1   :ok     :write  3');
    const history = parseJepsenLog(text);
    expect(history.ops).toHaveLength(1);
    expect(history.ops[0]).toMatchObject({ invokeMs: 3, completeMs: 4, outcome: 'ok' });
  });

  it('skips nemesis events', () => {
    const history = parseJepsenLog(log(line(':nemesis', 'info', 'start', 'nil'), line(':nemesis', 'info', 'start', '"partitioned"')));
    expect(history.ops).toEqual([]);
  });

  it('names the line of a malformed event', () => {
    const err = parseError(log(line(0, 'invoke', 'read', 'nil'), 'INFO  jepsen.util - 0\t:ok\t:read'.replace(':read', 'read 3')));
    expect(err.code).toBe('JEPSEN_PARSE');
    expect(err.line).toBe(2);
    expect(err.message).toMatch(/^line 2: /);
  });

  it('names the line of a bad value, a stray completion, a double invocation or a mismatched completion', () => {
    expect(parseError(log(line(0, 'invoke', 'write', '[1 2'))).line).toBe(1);
    expect(parseError(log('', line(0, 'ok', 'read', '1'))).message).toMatch(/line 2: .*never invoked/);
    expect(parseError(log(line(0, 'invoke', 'read', 'nil'), line(0, 'invoke', 'read', 'nil'))).message).toMatch(/line 2: .*line 1 is open/);
    expect(parseError(log(line(0, 'invoke', 'read', 'nil'), line(0, 'ok', 'write', '1'))).message).toMatch(/line 2: .*invoked :read/);
    expect(parseError('garbage\n').message).toMatch(/line 1: not a Jepsen log line/);
  });

  it('names the line of a value with a bad escape or too deep a nesting, quoting only the start of it', () => {
    const escape = parseError(log(line(0, 'invoke', 'write', '"\\q"')));
    expect(escape).toMatchObject({ code: 'JEPSEN_PARSE', line: 1 });
    expect(escape.message).toMatch(/unsupported escape/);
    const deep = parseError(log(line(0, 'invoke', 'read', 'nil'), line(0, 'ok', 'read', '['.repeat(100_000))));
    expect(deep).toMatchObject({ code: 'JEPSEN_PARSE', line: 2 });
    expect(deep.message).toMatch(/^line 2: bad value "\[{60}…": vectors nested deeper than 100$/);
  });

  it('refuses an empty log, and reads a log without client events as an empty history', () => {
    expect(() => parseJepsenLog('')).toThrow(expect.objectContaining({ code: 'EMPTY_HISTORY' }));
    expect(parseJepsenLog(log('INFO  jepsen.core - Running test')).ops).toEqual([]);
  });
});

describe('parseEdnValue', () => {
  it('reads the values Jepsen writes', () => {
    expect(parseEdnValue('nil')).toBe(null);
    expect(parseEdnValue('-12')).toBe(-12);
    expect(parseEdnValue('1.5')).toBe(1.5);
    expect(parseEdnValue('[3 nil]')).toEqual([3, null]);
    expect(parseEdnValue('[1, [2 3]]')).toEqual([1, [2, 3]]);
    expect(parseEdnValue(':timed-out')).toBe(':timed-out');
    expect(parseEdnValue('"a \\"b\\""')).toBe('a "b"');
    expect(parseEdnValue('true')).toBe(true);
  });

  it('decodes string escapes itself, and refuses the ones EDN does not have', () => {
    expect(parseEdnValue('"a\\tb\\n\\\\ \\u00e9 \\"q\\""')).toBe('a\tb\n\\ é "q"');
    expect(parseEdnValue('"raw\ttab"')).toBe('raw\ttab');
    for (const bad of ['"\\q"', '"\\u12"', '"\\u12G4"', '"\\']) {
      expect(() => parseEdnValue(bad), bad).toThrow(expect.objectContaining({ code: 'EDN_SYNTAX' }));
    }
  });

  it('refuses nesting deeper than MAX_VALUE_DEPTH instead of overflowing the stack', () => {
    const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    expect(() => parseEdnValue(nested(MAX_VALUE_DEPTH))).not.toThrow();
    expect(() => parseEdnValue(nested(MAX_VALUE_DEPTH + 1))).toThrow(expect.objectContaining({ code: 'EDN_SYNTAX', message: expect.stringMatching(/nested deeper than 100/) }));
    expect(() => parseEdnValue('['.repeat(100_000))).toThrow(expect.objectContaining({ code: 'EDN_SYNTAX' }));
  });

  it('refuses numbers it cannot hold exactly: huge integers, and decimals out of range', () => {
    expect(parseEdnValue('9007199254740991')).toBe(9007199254740991);
    expect(parseEdnValue('-2.5e-3')).toBe(-0.0025);
    for (const bad of ['9007199254740993', '-99999999999999999999', '9'.repeat(400), '1e400', '-1.5e999']) {
      expect(() => parseEdnValue(bad), bad).toThrow(expect.objectContaining({ code: 'EDN_SYNTAX' }));
    }
  });

  it('rejects what it does not know', () => {
    for (const bad of ['', '[1', '{:a 1}', '1 2', 'foo', '"open']) expect(() => parseEdnValue(bad)).toThrow();
  });
});
