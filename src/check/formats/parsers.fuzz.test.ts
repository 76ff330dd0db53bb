// Fuzzing the history readers (Synod JSON, Jepsen log, its EDN values, EDN histories of Jepsen and
// Porcupine, format detection, chunked reading) with
// random text and bytes, mutations of the real etcd histories and well-formed but meaningless
// histories. Each must parse or throw a CheckError with a known code, never anything else; what
// parses must then check (small budget) and print, again with nothing but CheckErrors.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { History } from '../../core/index.js';
import { fuzzParametersShort, fuzzRuns, fuzzTimeoutMs } from '../../../test/fuzz-runs.js';
import { etcdHistoriesDir } from '../../../test/shared-histories.js';
import { checkHistory } from '../checker.js';
import { CHECK_ERROR_CODES, CheckError } from '../errors.js';
import { jsonValueProblem } from '../json.js';
import { kvModel, mutexModel, registerModel } from '../models/index.js';
import type { Model } from '../model.js';
import { checkResultToJson, formatCheckText, formatSessionText } from '../report.js';
import { checkSessions } from '../session.js';
import { PORCUPINE_KV, porcupineKvText } from '../../../test/porcupine-kv.js';
import { parseEdnValue } from './edn.js';
import { EdnHistoryReader, parseEdnHistory, parsePorcupineKv, type EdnShape } from './edn-history.js';
import { HISTORY_FORMATS, detectHistoryFormat } from './detect.js';
import { JepsenLogReader, parseJepsenLog } from './jepsen.js';
import { parseSynodHistory } from './synod.js';

const KNOWN_CODES: ReadonlySet<string> = new Set(CHECK_ERROR_CODES);
const TIMEOUT_MS = fuzzTimeoutMs(20_000);

const params = fuzzParametersShort;

/** The value, or the CheckError thrown; any other exception fails the property. */
function typed<T>(run: () => T): T | CheckError {
  try {
    return run();
  } catch (err) {
    if (err instanceof CheckError && KNOWN_CODES.has(err.code) && err.message.length > 0) return err;
    throw err;
  }
}

// eslint-disable-next-line no-control-regex -- finding raw control characters is the point
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/;

const MODELS: readonly Model<unknown, unknown>[] = [registerModel, kvModel, mutexModel] as Model<unknown, unknown>[];

/** A parsed history must check under a small budget and print, or fail with a CheckError. */
function checkParsed(history: History): void {
  for (const model of MODELS) {
    let ticks = 0;
    const result = typed(() => checkHistory(history, model, { maxStates: 2_000, budgetMs: 20, now: () => ticks++ }));
    if (result instanceof CheckError) continue;
    expect(['linearizable', 'not-linearizable', 'unknown']).toContain(result.verdict);
    const text = formatCheckText(result, history);
    expect(text).not.toMatch(RAW_CONTROL);
    JSON.stringify(checkResultToJson(result, history));
    if (model.sessionEffect === undefined) continue;
    const sessions = typed(() => checkSessions(history, model));
    if (!(sessions instanceof CheckError)) expect(formatSessionText(sessions, history)).not.toMatch(RAW_CONTROL);
  }
}

function readerOutcome(parse: () => History): void {
  const history = typed(parse);
  if (!(history instanceof CheckError)) checkParsed(history);
}

// ---- inputs ----

const etcdTexts: readonly string[] = readdirSync(etcdHistoriesDir)
  .filter((f) => f.endsWith('.log'))
  .sort()
  .map((f) => readFileSync(join(etcdHistoriesDir, f), 'utf8'));

/** Porcupine's KV logs, and a few etcd logs rewritten as Jepsen history.edn maps. */
const ednTexts: readonly string[] = [
  ...PORCUPINE_KV.slice(0, 4).map(porcupineKvText),
  ...etcdTexts.slice(0, 6).map((text) =>
    text
      .split('\n')
      .flatMap((line, index) => {
        const m = /jepsen\.util - (\S+)\s+:(\w+)\s+:(\w+)\s*(.*)$/.exec(line);
        return m === null ? [] : [`{:type :${m[2]}, :f :${m[3]}, :value ${m[4] === '' ? 'nil' : m[4]}, :process ${m[1]}, :time ${index * 1000}, :index ${index}}`];
      })
      .join('\n'),
  ),
];

/** The etcd histories as Synod documents, for the JSON reader. */
const etcdDocs: readonly string[] = etcdTexts.slice(0, 20).map((text) => JSON.stringify(parseJepsenLog(text)));

const DEEP = 100_000;

/** Tokens that have broken readers elsewhere: huge and odd numbers, deep nesting, very long words. */
const nastyToken = fc.oneof(
  fc.constantFrom(
    '9'.repeat(400),
    '99999999999999999999',
    '-9007199254740993',
    '1e400',
    '-1e-400',
    '1N',
    '1.5M',
    '1/2',
    '0x10',
    '-0',
    'NaN',
    'Infinity',
    '[',
    ']',
    '{:a 1}',
    '#{1}',
    '(1 2)',
    '"\\q"',
    '"\\u12"',
    '"\\ud800"',
    '"\t\u001b[2J"',
    '\\a',
    '::a',
    ':',
    '"',
    '[1 [2 [3 [4]]]]',
    '[nil true false :k "s" -1.5e3]',
    '['.repeat(DEEP),
    `${'['.repeat(DEEP)}${']'.repeat(DEEP)}`,
    '{'.repeat(DEEP),
    `"${'\\\\'.repeat(DEEP)}"`,
    'a'.repeat(200_000),
    `:${'k'.repeat(200_000)}`,
    ' '.repeat(200_000),
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

const randomText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 100 }),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => new TextDecoder().decode(bytes)),
);

type Mutation = (text: string) => string;

function lines(text: string): string[] {
  return text.split('\n');
}

function atLine(text: string, at: number, edit: (all: string[], i: number) => void): string {
  const all = lines(text);
  edit(all, at % all.length);
  return all.join('\n');
}

/** The line with what follows its last separator replaced (a regex ending in `*$` is quadratic). */
function replaceLastField(line: string, token: string): string {
  const cut = Math.max(...['\t', ' ', ',', ':'].map((sep) => line.lastIndexOf(sep)));
  return line.slice(0, cut + 1) + token;
}

/** Edits of a text: byte flips, cuts, inserted junk, and line-level reshuffles. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([at, mask]): Mutation => (text) => {
    const bytes = Buffer.from(text);
    if (bytes.length > 0) bytes[at % bytes.length]! ^= mask;
    return new TextDecoder().decode(bytes);
  }),
  fc.nat().map((at): Mutation => (text) => text.slice(0, at % (text.length + 1))),
  fc.tuple(fc.nat(), fc.oneof(nastyToken, randomText)).map(([at, junk]): Mutation => (text) => {
    const i = at % (text.length + 1);
    return text.slice(0, i) + junk + text.slice(i);
  }),
  fc.tuple(fc.nat(), fc.nat()).map(([a, b]): Mutation => (text) => atLine(text, a, (all, i) => all.splice(b % all.length, 0, all[i]!))),
  fc.tuple(fc.nat(), fc.nat()).map(([a, b]): Mutation => (text) =>
    atLine(text, a, (all, i) => {
      const j = b % all.length;
      [all[i], all[j]] = [all[j]!, all[i]!];
    }),
  ),
  fc.nat().map((a): Mutation => (text) => atLine(text, a, (all, i) => all.splice(i, 1))),
  // replace the last field of a line (a Jepsen value) or a JSON scalar with a nasty token
  fc.tuple(fc.nat(), nastyToken).map(([a, token]): Mutation => (text) =>
    atLine(text, a, (all, i) => {
      all[i] = replaceLastField(all[i]!, token);
    }),
  ),
);

const mutations = fc.array(mutation, { minLength: 1, maxLength: 4 });

function applyAll(text: string, edits: readonly Mutation[]): string {
  return edits.reduce((t, edit) => edit(t), text);
}

// ---- well-formed but meaningless histories ----

const ednValue: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('nil', 'true', 'false', ':timed-out', ':ok', '0', '1', '-3', '2.5', '""', '"a b"'),
    fc.integer().map(String),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => String(x)),
    fc.string({ maxLength: 8 }).map((s) => JSON.stringify(s)),
    nastyToken,
    fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(' ')}]`),
  ),
})).value;

const jepsenLine = fc.record({
  process: fc.constantFrom('0', '1', '2', ':nemesis', 'p-x', '\u001b[31m'),
  type: fc.constantFrom('invoke', 'ok', 'fail', 'info', 'invoke', 'ok'),
  f: fc.constantFrom('read', 'write', 'cas', 'get', 'put', 'delete', 'incr', 'acquire', 'release', 'start', 'bogus'),
  value: ednValue,
  separator: fc.constantFrom('\t', ' ', '   '),
});

const jepsenLog = fc.array(jepsenLine, { maxLength: 30 }).map(
  (events) => events.map((e) => `INFO  jepsen.util - ${e.process}${e.separator}:${e.type}${e.separator}:${e.f}${e.separator}${e.value}\n`).join(''),
);

const ednHistoryMap = fc.record({
  process: fc.constantFrom('0', '1', '2', ':nemesis', '"p"', ':x', '1.5', 'nil'),
  type: fc.constantFrom(':invoke', ':ok', ':fail', ':info', ':invoke', ':ok', ':bogus', '"ok"'),
  f: fc.constantFrom(':read', ':write', ':cas', ':get', ':put', ':append', ':txn', ':start', '7'),
  value: fc.oneof(ednValue, fc.constantFrom('{:a 1}', '#{1 2}', '(1 2)', '[:k 1]', '["k" [1 2]]', '#inst "2020"')),
  key: fc.option(fc.constantFrom('"1"', '2', ':k', '[1]', '{"a" 1}'), { nil: undefined }),
  tag: fc.constantFrom('', '', '#jepsen.history.Op'),
  separator: fc.constantFrom(', ', ' ', ',\n '),
});

const ednHistory = fc.tuple(fc.array(ednHistoryMap, { maxLength: 30 }), fc.boolean()).map(([maps, vector]) => {
  const text = maps
    .map((m) => {
      const fields = [`:type ${m.type}`, `:f ${m.f}`, `:value ${m.value}`, `:process ${m.process}`, ...(m.key === undefined ? [] : [`:key ${m.key}`])];
      return `${m.tag}{${fields.join(m.separator)}}`;
    })
    .join('\n');
  return vector ? `[${text}]\n` : `${text}\n`;
});

const SHAPES: readonly EdnShape[] = ['plain', 'kv'];

const jsonScalar = fc.oneof(fc.integer({ min: -3, max: 12 }), fc.double(), fc.constant(1e308), fc.constant(-0), fc.string({ maxLength: 5 }), fc.boolean(), fc.constant(null));

const synodOp = fc.record(
  {
    index: fc.oneof(fc.integer({ min: -1, max: 12 }), fc.double(), fc.string({ maxLength: 2 })),
    process: fc.oneof(fc.constantFrom('0', '1', '2'), fc.string({ unit: 'binary', maxLength: 6 }), fc.integer()),
    f: fc.oneof(fc.constantFrom('read', 'write', 'cas', 'get', 'put', 'delete', 'incr', 'acquire', 'release'), fc.string({ maxLength: 6 })),
    input: fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.record({ key: fc.constantFrom('a', 'b', '__proto__'), value: jsonScalar, from: jsonScalar, to: jsonScalar, by: jsonScalar, lock: fc.constantFrom('', 'l'), token: jsonScalar }, { requiredKeys: [] })),
    output: fc.oneof(fc.jsonValue({ maxDepth: 3 }), jsonScalar),
    invokeMs: fc.oneof(fc.integer({ min: -5, max: 50 }), fc.double({ noNaN: true }), fc.constant(1e308)),
    completeMs: fc.oneof(fc.integer({ min: -5, max: 60 }), fc.double({ noNaN: true }), fc.constant(-1e308)),
    outcome: fc.constantFrom('ok', 'ok', 'fail', 'unknown', 'maybe'),
  },
  { requiredKeys: ['index', 'process', 'f', 'input', 'output', 'invokeMs', 'completeMs', 'outcome'] },
);

const synodDoc = fc.tuple(fc.array(synodOp, { maxLength: 12 }), fc.constantFrom('synod-history/1', 'synod-history/2')).map(([ops, format]) =>
  JSON.stringify({ format, ops }),
);

// ---- properties ----

describe('history readers under fuzzing', () => {
  it('the Jepsen reader survives random text and bytes', { timeout: TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(randomText, (text) => {
        readerOutcome(() => parseJepsenLog(text));
        readerOutcome(() => parseJepsenLog(`INFO  jepsen.util - 0\t:invoke\t:write\t${text}\n`));
      }),
      params(300),
    );
  });

  it('the Jepsen reader survives mutations of the etcd histories', { timeout: TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(fc.nat(etcdTexts.length - 1), mutations, (pick, edits) => {
        readerOutcome(() => parseJepsenLog(applyAll(etcdTexts[pick]!, edits)));
      }),
      params(150),
    );
  });

  it('the Jepsen reader survives well-formed logs of meaningless events', { timeout: TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(jepsenLog, (text) => readerOutcome(() => parseJepsenLog(text))),
      params(200),
    );
  });

  it('the Jepsen reader gives the same answer whatever the chunks', { timeout: TIMEOUT_MS }, () => {
    const texts = fc.oneof(jepsenLog, randomText, fc.tuple(fc.nat(etcdTexts.length - 1), mutations).map(([pick, edits]) => applyAll(etcdTexts[pick]!, edits)));
    fc.assert(
      fc.property(texts, fc.array(fc.nat(), { maxLength: 8 }), (text, cuts) => {
        const whole = typed(() => parseJepsenLog(text));
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        const chunked = typed(() => {
          const reader = new JepsenLogReader();
          let from = 0;
          for (const to of [...points, text.length]) {
            reader.push(text.slice(from, to));
            from = to;
          }
          return reader.finish();
        });
        if (whole instanceof CheckError) expect(chunked).toMatchObject({ code: whole.code, line: whole.line, message: whole.message });
        else expect(chunked).toEqual(whole);
      }),
      params(200),
    );
  });

  it('the EDN reader survives random and nasty values', { timeout: TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(fc.oneof(randomText, nastyToken, ednValue), (text) => {
        const value = typed(() => parseEdnValue(text));
        if (!(value instanceof CheckError)) expect(jsonValueProblem(value)).toBeNull();
        const full = typed(() => parseEdnValue(text, { collections: true }));
        if (!(full instanceof CheckError)) expect(jsonValueProblem(full)).toBeNull();
      }),
      params(300),
    );
  });

  it('the EDN history readers survive random text and bytes', { timeout: TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(randomText, (text) => {
        for (const shape of SHAPES) readerOutcome(() => parseEdnHistory(text, { shape }));
        readerOutcome(() => parseEdnHistory(`{:type :invoke, :f :write, :process 0, :value ${text}}\n`));
        readerOutcome(() => parsePorcupineKv(`{:process 0, :type :invoke, :f :append, :key "1", :value ${text}}\n`));
      }),
      params(300),
    );
  });

  it('the EDN history readers survive mutations of Porcupine and Jepsen EDN histories', { timeout: TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(fc.nat(ednTexts.length - 1), mutations, fc.constantFrom(...SHAPES), (pick, edits, shape) => {
        readerOutcome(() => parseEdnHistory(applyAll(ednTexts[pick]!, edits), { shape, emptyIsAbsent: shape === 'kv' }));
      }),
      params(150),
    );
  });

  it('the EDN history readers survive well-formed histories of meaningless events', { timeout: TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(ednHistory, fc.constantFrom(...SHAPES), (text, shape) => readerOutcome(() => parseEdnHistory(text, { shape }))),
      params(200),
    );
  });

  it('the EDN history reader gives the same answer whatever the chunks', { timeout: TIMEOUT_MS }, () => {
    const texts = fc.oneof(ednHistory, randomText, fc.tuple(fc.nat(ednTexts.length - 1), mutations).map(([pick, edits]) => applyAll(ednTexts[pick]!, edits)));
    fc.assert(
      fc.property(texts, fc.array(fc.nat(), { maxLength: 8 }), (text, cuts) => {
        const whole = typed(() => parseEdnHistory(text, { shape: 'kv' }));
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        const chunked = typed(() => {
          const reader = new EdnHistoryReader({ shape: 'kv' });
          let from = 0;
          for (const to of [...points, text.length]) {
            reader.push(text.slice(from, to));
            from = to;
          }
          return reader.finish();
        });
        if (whole instanceof CheckError) expect(chunked).toMatchObject({ code: whole.code, line: whole.line, message: whole.message });
        else expect(chunked).toEqual(whole);
      }),
      params(200),
    );
  });

  it('the EDN history reader survives deep nesting, huge lines and cuts anywhere', { timeout: TIMEOUT_MS }, () => {
    const nasty = fc.constantFrom(
      '['.repeat(DEEP),
      `${'['.repeat(DEEP)}${']'.repeat(DEEP)}`,
      `${'{:a '.repeat(DEEP)}1${'}'.repeat(DEEP)}`,
      `${'#{'.repeat(DEEP)}${'}'.repeat(DEEP)}`,
      `${'('.repeat(DEEP)}${')'.repeat(DEEP)}`,
      `"${'\\"'.repeat(DEEP)}`,
      `[${'1 '.repeat(DEEP)}]`,
      `"${'x'.repeat(200_000)}"`,
      '}'.repeat(100),
    );
    fc.assert(
      fc.property(fc.nat(ednTexts.length - 1), nasty, fc.nat(), (pick, value, cut) => {
        const text = ednTexts[pick]!;
        const line = text.indexOf(':value ') + ':value '.length;
        const nested = `${text.slice(0, line)}${value} ${text.slice(line)}`;
        readerOutcome(() => parseEdnHistory(nested, { shape: 'kv' }));
        readerOutcome(() => parseEdnHistory(nested.slice(0, cut % (nested.length + 1))));
      }),
      { ...params(40), numRuns: Math.min(fuzzRuns(40), 400) },
    );
  });

  it('format detection names a known format for any text', { timeout: TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(fc.oneof(randomText, ednHistory, jepsenLog, synodDoc), fc.constantFrom('', 'h.json', 'h.edn', 'h.log', 'h.txt'), (text, name) => {
        expect(HISTORY_FORMATS).toContain(detectHistoryFormat(text, name));
      }),
      params(300),
    );
  });

  it('the Synod JSON reader survives random text and bytes', { timeout: TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(randomText, (text) => readerOutcome(() => parseSynodHistory(text))),
      params(300),
    );
  });

  it('the Synod JSON reader survives mutations of real histories', { timeout: TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(fc.nat(etcdDocs.length - 1), mutations, (pick, edits) => {
        readerOutcome(() => parseSynodHistory(applyAll(etcdDocs[pick]!, edits)));
      }),
      params(150),
    );
  });

  it('the Synod JSON reader survives deeply nested and huge values', { timeout: TIMEOUT_MS }, () => {
    const deep = fc.constantFrom(
      `${'['.repeat(DEEP)}${']'.repeat(DEEP)}`,
      `${'{"a":'.repeat(DEEP)}1${'}'.repeat(DEEP)}`,
      `[${'1,'.repeat(DEEP)}1]`,
      '1e400',
      '123456789012345678901234567890',
      `"${'x'.repeat(200_000)}"`,
    );
    fc.assert(
      fc.property(fc.nat(etcdDocs.length - 1), fc.constantFrom('input', 'output', 'process', 'index', 'invokeMs'), deep, (pick, field, value) => {
        const text = etcdDocs[pick]!.replace(new RegExp(`"${field}":("[^"]*"|[^,}]*)`), `"${field}":${value}`);
        readerOutcome(() => parseSynodHistory(text));
      }),
      // 600 combinations in all, each a 100 000-deep parse: more runs would only repeat them
      { ...params(40), numRuns: Math.min(fuzzRuns(40), 600) },
    );
  });

  it('the Synod JSON reader survives well-formed documents of meaningless operations', { timeout: TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(synodDoc, (text) => readerOutcome(() => parseSynodHistory(text))),
      params(300),
    );
  });
});
