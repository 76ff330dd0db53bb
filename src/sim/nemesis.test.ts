// The nemesis script grammar (`--nemesis`): the documented forms parse to the expected steps, and
// malformed text is a NemesisSyntaxError that quotes a bounded excerpt, never a hang or garbage
// silently accepted.
import { describe, expect, it } from 'vitest';
import { NemesisSyntaxError, parseNemesisScript, parseRandomNemesis } from './nemesis.js';

function syntaxError(parse: () => unknown): NemesisSyntaxError {
  try {
    parse();
  } catch (err) {
    if (err instanceof NemesisSyntaxError) return err;
    throw err;
  }
  throw new Error('expected a NemesisSyntaxError');
}

// the example of docs/simulator.md, comments included
const DOCUMENTED = `
at 2000 ms partition {1,2} | {3,4,5}
at 2500 ms partition {1} -> {2}          # one way
at 5000 ms heal
at 6000 ms crash leader                  # TARGET: a node id, leader or random
at 6500 ms pause random for 800 ms
at 7000 ms slow 3 15                     # 15 ms per input
at 7500 ms clock 2 +300 50               # offset ms, drift ppm
at 8000 ms loss 0.2                      # also: duplicate R, reorder R
at 9000 ms restart all                   # or restart TARGET; isolate TARGET
`;

describe('parseNemesisScript', () => {
  it('reads the documented example, trailing comments and all', () => {
    expect(parseNemesisScript(DOCUMENTED)).toEqual([
      { atMs: 2000, action: { kind: 'partition', groups: [['1', '2'], ['3', '4', '5']] } },
      { atMs: 2500, action: { kind: 'partition-one-way', from: ['1'], to: ['2'] } },
      { atMs: 5000, action: { kind: 'heal' } },
      { atMs: 6000, action: { kind: 'crash', target: { kind: 'leader' } } },
      { atMs: 6500, action: { kind: 'pause', target: { kind: 'random' }, durationMs: 800 } },
      { atMs: 7000, action: { kind: 'slow', target: { kind: 'node', id: '3' }, processingMs: 15 } },
      { atMs: 7500, action: { kind: 'clock', target: { kind: 'node', id: '2' }, offsetMs: 300, driftPpm: 50 } },
      { atMs: 8000, action: { kind: 'link', from: '*', to: '*', both: false, change: { lossRate: 0.2 } } },
      { atMs: 9000, action: { kind: 'restart', target: { kind: 'all' } } },
    ]);
  });

  it('accepts units written together or apart, and ";" between steps', () => {
    expect(parseNemesisScript('at 10ms pause 1 for 5ms; at 20 ms clock 2 -3ms 7ppm; at 1e3 ms slow 1 2 ms')).toEqual([
      { atMs: 10, action: { kind: 'pause', target: { kind: 'node', id: '1' }, durationMs: 5 } },
      { atMs: 20, action: { kind: 'clock', target: { kind: 'node', id: '2' }, offsetMs: -3, driftPpm: 7 } },
      { atMs: 1000, action: { kind: 'slow', target: { kind: 'node', id: '1' }, processingMs: 2 } },
    ]);
  });

  it('refuses a group that never closes in linear time (the old pattern backtracked cubically)', () => {
    // with the old /^\{\s*([^{}]*)\s*\}$/, 4000 spaces took 51 s and 100 000 would take days
    const err = syntaxError(() => parseNemesisScript(`at 1 ms partition {1} | {${' '.repeat(100_000)}a`));
    expect(err.message).toMatch(/expected a group like \{1,2\}/);
  });

  it.each([
    ['words after a complete action', 'at 100 ms crash 1 2', /unexpected "2" after crash/],
    ['words after heal', 'at 100 ms heal now', /unexpected "now" after heal/],
    ['a duration that is only a unit', 'at 100 ms pause 1 for ms', /bad duration "ms"/],
    ['a time in hexadecimal', 'at 0x10 ms heal', /bad time "0x10"/],
    ['a unit that does not belong', 'at 100 ms slow 1 15ppm', /bad processing time "15ppm"/],
    ['an empty rate', 'at 100 ms loss', /bad rate ""/],
  ])('refuses %s', (_what, script, message) => {
    expect(syntaxError(() => parseNemesisScript(script)).message).toMatch(message);
  });

  it('quotes at most 80 characters of a long step', () => {
    const err = syntaxError(() => parseNemesisScript(`at 1 ms explode ${'x'.repeat(100_000)}`));
    expect(err.message.length).toBeLessThan(300);
    expect(err.message).toMatch(/unknown action "explode" in "at 1 ms explode x+…"/);
  });
});

describe('parseRandomNemesis', () => {
  it('reads the documented arguments', () => {
    const options = parseRandomNemesis('random(meanMs=800, partition=2, crash=0)', 5000);
    expect(options).toMatchObject({ meanIntervalMs: 800, untilMs: 5000, mix: { partition: 2, crash: 0, pause: 2 } });
    expect(parseRandomNemesis('at 1 ms heal', 5000)).toBeUndefined();
  });

  it.each([
    ['an inherited property name', 'random(toString=1)', /unknown random nemesis argument "toString"/],
    ['__proto__', 'random(__proto__=1)', /unknown random nemesis argument "__proto__"/],
    ['a doubled "="', 'random(crash==1)', /bad random nemesis argument "crash==1"/],
    ['a missing number', 'random(partition=)', /bad random nemesis argument "partition="/],
    ['a number in hexadecimal', 'random(crash=0x1)', /bad random nemesis argument "crash=0x1"/],
  ])('refuses %s', (_what, spec, message) => {
    expect(syntaxError(() => parseRandomNemesis(spec, 1000)).message).toMatch(message);
  });
});
