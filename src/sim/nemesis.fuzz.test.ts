// Fuzzing the nemesis grammar (the text `--nemesis` takes): valid programs round-trip through
// their text; random text and mutated programs parse to well-formed steps or throw a
// NemesisSyntaxError with a short message, never another exception, never a long stall.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzParametersShort, fuzzTimeoutMs } from '../../test/fuzz-runs.js';
import { linkRateFault } from './faults.js';
import { NemesisSyntaxError, parseNemesisScript, parseRandomNemesis, type NemesisAction, type NemesisStep, type Target } from './nemesis.js';

const TIMEOUT_MS = fuzzTimeoutMs(20_000);

const params = fuzzParametersShort;

/** The result, or null for a NemesisSyntaxError with a short, non-empty message; anything else throws. */
function typed<T>(parse: () => T): T | null {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof NemesisSyntaxError)) throw err;
    expect(err.code).toBe('NEMESIS_SYNTAX');
    expect(err.message.length).toBeGreaterThan(0);
    expect(err.message.length).toBeLessThan(600);
    return null;
  }
}

const TARGET_ID = /^[A-Za-z0-9_.:-]+$/;

function wellFormedTarget(target: Target | { kind: 'all' }): void {
  if (target.kind === 'node') expect(target.id).toMatch(TARGET_ID);
  else expect(['leader', 'random', 'all']).toContain(target.kind);
}

function wellFormedGroup(group: readonly string[]): void {
  expect(group.length).toBeGreaterThan(0);
  for (const id of group) expect(id).toMatch(/^[^{},]+$/);
}

/** What any successful parse must give, whatever text it came from. */
function wellFormed(steps: readonly NemesisStep[]): void {
  for (const { atMs, action } of steps) {
    expect(Number.isFinite(atMs) && atMs >= 0).toBe(true);
    switch (action.kind) {
      case 'partition':
        expect(action.groups.length).toBeGreaterThanOrEqual(2);
        action.groups.forEach(wellFormedGroup);
        break;
      case 'partition-one-way':
        wellFormedGroup(action.from);
        wellFormedGroup(action.to);
        break;
      case 'link':
        for (const r of Object.values(action.change)) expect(typeof r === 'number' && r >= 0 && r <= 1).toBe(true);
        break;
      case 'drop':
        break;
      case 'pause':
        expect(action.durationMs).toBeGreaterThanOrEqual(0);
        wellFormedTarget(action.target);
        break;
      case 'slow':
        expect(action.processingMs).toBeGreaterThanOrEqual(0);
        wellFormedTarget(action.target);
        break;
      case 'clock':
        expect(Number.isFinite(action.offsetMs) && Number.isFinite(action.driftPpm)).toBe(true);
        wellFormedTarget(action.target);
        break;
      case 'heal':
        break;
      default:
        wellFormedTarget(action.target);
    }
  }
}

// ---- valid programs, and their text ----

const nodeId = fc.stringMatching(/^[A-Za-z0-9_.:-]{1,4}$/);
const target: fc.Arbitrary<Target> = fc.oneof(
  nodeId.filter((id) => id !== 'leader' && id !== 'random' && id !== 'all').map((id): Target => ({ kind: 'node', id })),
  fc.constant<Target>({ kind: 'leader' }),
  fc.constant<Target>({ kind: 'random' }),
);
const group = fc.array(nodeId, { minLength: 1, maxLength: 4 });
const ms = fc.integer({ min: 0, max: 1_000_000 });
const rate = fc.integer({ min: 0, max: 100 }).map((n) => n / 100);

const action: fc.Arbitrary<NemesisAction> = fc.oneof(
  fc.array(group, { minLength: 2, maxLength: 3 }).map((groups): NemesisAction => ({ kind: 'partition', groups })),
  fc.tuple(group, group).map(([from, to]): NemesisAction => ({ kind: 'partition-one-way', from, to })),
  target.map((t): NemesisAction => ({ kind: 'isolate', target: t })),
  fc.constant<NemesisAction>({ kind: 'heal' }),
  target.map((t): NemesisAction => ({ kind: 'crash', target: t })),
  fc.oneof(target, fc.constant({ kind: 'all' as const })).map((t): NemesisAction => ({ kind: 'restart', target: t })),
  fc.tuple(target, ms).map(([t, d]): NemesisAction => ({ kind: 'pause', target: t, durationMs: d })),
  fc.tuple(target, ms).map(([t, p]): NemesisAction => ({ kind: 'slow', target: t, processingMs: p })),
  fc.tuple(target, fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.integer({ min: -999_999, max: 1_000_000 })).map(
    ([t, offsetMs, driftPpm]): NemesisAction => ({ kind: 'clock', target: t, offsetMs, driftPpm }),
  ),
  fc.tuple(fc.constantFrom('loss' as const, 'duplicate' as const, 'reorder' as const), rate).map(([kind, r]): NemesisAction => linkRateFault(kind, r)),
);

const program = fc.array(fc.record({ atMs: ms, action }), { maxLength: 8 });

/** Spacing and unit spellings the grammar allows, chosen per program. */
const style = fc.record({ space: fc.constantFrom(' ', '  ', '\t'), unitApart: fc.boolean(), separator: fc.constantFrom('\n', '; ', '\r\n'), comment: fc.boolean() });
type Style = { space: string; unitApart: boolean; separator: string; comment: boolean };

function showTarget(t: Target | { kind: 'all' }): string {
  return t.kind === 'node' ? t.id : t.kind;
}

function showAction(a: NemesisAction, s: Style): string {
  const unit = (n: number, u: string): string => (s.unitApart ? `${n}${s.space}${u}` : `${n}${u}`);
  const g = (ids: readonly string[]): string => `{${ids.join(',')}}`;
  switch (a.kind) {
    case 'partition':
      return `partition ${a.groups.map(g).join(' | ')}`;
    case 'partition-one-way':
      return `partition ${g(a.from)} -> ${g(a.to)}`;
    case 'heal':
      return 'heal';
    case 'pause':
      return `pause${s.space}${showTarget(a.target)}${s.space}for${s.space}${unit(a.durationMs, 'ms')}`;
    case 'slow':
      return `slow${s.space}${showTarget(a.target)}${s.space}${unit(a.processingMs, 'ms')}`;
    case 'clock':
      return `clock${s.space}${showTarget(a.target)}${s.space}${unit(a.offsetMs, 'ms')}${s.space}${unit(a.driftPpm, 'ppm')}`;
    case 'link': {
      const [name, value] = Object.entries(a.change)[0] as [string, number];
      return `${name.replace('Rate', '')}${s.space}${value}`;
    }
    case 'drop':
      throw new Error('the nemesis grammar has no word for dropping one message');
    default:
      return `${a.kind}${s.space}${showTarget(a.target)}`;
  }
}

function showProgram(steps: readonly NemesisStep[], s: Style): string {
  const comment = s.comment && !s.separator.startsWith(';') ? `${s.space}# note; not a step` : '';
  return steps.map((step) => `at${s.space}${unit(step.atMs)}${s.space}${showAction(step.action, s)}${comment}`).join(s.separator);
  function unit(n: number): string {
    return s.unitApart ? `${n}${s.space}ms` : `${n}ms`;
  }
}

// ---- junk ----

const nasty = fc.constantFrom(
  `{${' '.repeat(100_000)}a`,
  `{${' '.repeat(50_000)}a }x`,
  ' '.repeat(100_000),
  'x'.repeat(100_000),
  `at 1 ms heal${' '.repeat(50_000)}\u2028x`,
  `random(${'('.repeat(50_000)}\u2028`,
  '9'.repeat(400),
  '1e400',
  '-0',
  'NaN',
  'Infinity',
  '0x10',
  '->',
  '|',
  '{}',
  '{,}',
  '#',
  ';',
  '\n',
  '\r',
  '\u0000',
  'toString=1',
  '__proto__=1',
  '==',
  'ms',
  'ppm',
);

const junk = fc.oneof(fc.string({ unit: 'binary', maxLength: 30 }), nasty);

type Mutation = (text: string) => string;
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.nat(), junk).map(([at, j]): Mutation => (t) => {
    const i = at % (t.length + 1);
    return t.slice(0, i) + j + t.slice(i);
  }),
  fc.tuple(fc.nat(), fc.nat(8)).map(([at, n]): Mutation => (t) => {
    const i = at % (t.length + 1);
    return t.slice(0, i) + t.slice(i + n);
  }),
  fc.tuple(fc.nat(), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })).map(([at, c]): Mutation => (t) => {
    const i = at % Math.max(1, t.length);
    return t.slice(0, i) + c + t.slice(i + 1);
  }),
);

const randomText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => new TextDecoder().decode(bytes)),
  fc.array(fc.oneof(fc.constantFrom('at', 'ms', 'partition', 'heal', 'crash', 'pause', 'for', 'clock', 'loss', 'restart', 'all', '{1,2}', '|', '->', '1', '-5', '0.5', ';', '#'), junk), { maxLength: 12 }).map((w) => w.join(' ')),
);

describe('the nemesis grammar under fuzzing', () => {
  it('reads back every valid program from its text, in any allowed spelling', { timeout: TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(program, style, (steps, s) => {
        expect(parseNemesisScript(showProgram(steps, s))).toEqual(steps);
      }),
      params(300),
    );
  });

  it('parses random text to well-formed steps or a NemesisSyntaxError', { timeout: TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(randomText, (text) => {
        const steps = typed(() => parseNemesisScript(text));
        if (steps !== null) wellFormed(steps);
        typed(() => parseRandomNemesis(text, 10_000));
        typed(() => parseRandomNemesis(`random(${text})`, 10_000));
      }),
      params(400),
    );
  });

  it('parses mutated valid programs to well-formed steps or a NemesisSyntaxError', { timeout: TIMEOUT_MS }, () => {
    fc.assert(
      fc.property(program, style, fc.array(mutation, { minLength: 1, maxLength: 4 }), (steps, s, edits) => {
        const text = edits.reduce((t, edit) => edit(t), showProgram(steps, s));
        const parsed = typed(() => parseNemesisScript(text));
        if (parsed !== null) wellFormed(parsed);
      }),
      params(300),
    );
  });

  it('reads random schedules with any mix, and refuses mutated ones with a NemesisSyntaxError', { timeout: TIMEOUT_MS }, () => {
    const kinds = ['meanMs', 'minFaultMs', 'maxFaultMs', 'partition', 'crash', 'pause', 'clock', 'loss', 'duplicate', 'reorder', 'slow'];
    const args = fc.uniqueArray(fc.tuple(fc.constantFrom(...kinds), fc.integer({ min: 0, max: 5000 })), { selector: ([k]) => k, maxLength: 6 });
    fc.assert(
      fc.property(args, fc.array(mutation, { maxLength: 2 }), (pairs, edits) => {
        const spec = `random(${pairs.map(([k, v]) => `${k}=${v}`).join(',')})`;
        const mutated = edits.reduce((t, edit) => edit(t), spec);
        const options = typed(() => parseRandomNemesis(mutated, 10_000));
        if (edits.length === 0 && options !== null) {
          const mix = options?.mix as Record<string, number> | undefined;
          for (const [k, v] of pairs) if (!k.endsWith('Ms')) expect(mix?.[k]).toBe(v);
        }
        if (options !== undefined && options !== null) {
          expect(Object.keys(options.mix).sort()).toEqual(['clock', 'crash', 'duplicate', 'loss', 'partition', 'pause', 'reorder', 'slow']);
          expect(options.meanIntervalMs).toBeGreaterThanOrEqual(1);
        }
      }),
      params(300),
    );
  });
});
