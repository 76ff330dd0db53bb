import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HybridLogicalClock, type HlcTimestamp } from '../clock/hlc.js';
import { LWW_REGISTER, lwwAssign, type LwwRegisterState } from './registers.js';
import { checkCrdtLaws, expectCrdtError } from './test/laws.js';
import { MAX_TEXT_LENGTH } from './types.js';

const at = (physicalMs: number, logical = 0): HlcTimestamp => ({ physicalMs, logical });
const joinAll = (...states: LwwRegisterState[]): LwwRegisterState => states.reduce((s, d) => LWW_REGISTER.join(s, d), LWW_REGISTER.empty());

describe('LWW-Register', () => {
  it('satisfies the CRDT laws, with stamps from a small range so ties happen', () => {
    const assignment = fc.record({
      stamp: fc.record({ physicalMs: fc.integer({ min: 0, max: 3 }), logical: fc.integer({ min: 0, max: 1 }) }),
      value: fc.constantFrom('', 'v', 'w'),
    });
    checkCrdtLaws<LwwRegisterState>({
      type: LWW_REGISTER,
      mutation: (replica) => assignment.map((a) => (s: LwwRegisterState) => lwwAssign(s, replica, a.stamp, a.value)),
    });
  });

  it('reads the last assignment when each replica merges before it assigns (stamps from HLCs)', () => {
    const step = fc.record({ replica: fc.integer({ min: 0, max: 2 }), value: fc.string({ maxLength: 4 }), advanceMs: fc.integer({ min: 0, max: 2 }) });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), (steps) => {
        let nowMs = 1_000;
        const clocks = [0, 1, 2].map(() => new HybridLogicalClock({ now: () => nowMs, maxOffsetMs: 1_000 }));
        let state = LWW_REGISTER.empty();
        for (const s of steps) {
          nowMs += s.advanceMs;
          const clock = clocks[s.replica] as HybridLogicalClock;
          // merging a state is receiving its stamp: the next assignment is stamped after it
          if (state !== null) clock.receive(state.stamp);
          state = LWW_REGISTER.join(state, lwwAssign(state, `r${s.replica}`, clock.now(), s.value));
        }
        expect(LWW_REGISTER.value(state)).toBe(steps[steps.length - 1]?.value);
      }),
    );
  });

  it('the later stamp wins whatever the replicas and the delivery order', () => {
    const early = lwwAssign(null, 'zz', at(5, 9), 'early');
    const late = lwwAssign(null, 'aa', at(6), 'late');
    expect(LWW_REGISTER.value(joinAll(early, late))).toBe('late');
    expect(LWW_REGISTER.value(joinAll(late, early))).toBe('late');
  });

  it('on a tie of stamps the greater replica id wins, in either order', () => {
    const one = lwwAssign(null, 'r1', at(5), 'from r1');
    const two = lwwAssign(null, 'r2', at(5), 'from r2');
    expect(LWW_REGISTER.value(joinAll(one, two))).toBe('from r2');
    expect(LWW_REGISTER.value(joinAll(two, one))).toBe('from r2');
  });

  it('one replica reusing a stamp still converges (the greater value wins)', () => {
    const a = lwwAssign(null, 'r', at(5), 'a');
    const b = lwwAssign(null, 'r', at(5), 'b');
    expect(LWW_REGISTER.canonical(joinAll(a, b))).toBe(LWW_REGISTER.canonical(joinAll(b, a)));
    expect(LWW_REGISTER.value(joinAll(a, b))).toBe('b');
  });

  it('is undefined until assigned; the delta is the new entry, stamp copied', () => {
    expect(LWW_REGISTER.value(LWW_REGISTER.empty())).toBeUndefined();
    const stamp = { physicalMs: 3, logical: 1, extra: 1 } as HlcTimestamp;
    expect(lwwAssign(null, 'r', stamp, 'v')).toEqual({ stamp: { physicalMs: 3, logical: 1 }, replica: 'r', value: 'v' });
  });

  it('refuses bad arguments', () => {
    expectCrdtError('CRDT_INVALID_ARGUMENT', () => lwwAssign(null, '', at(1), 'v'));
    expectCrdtError('CRDT_INVALID_ARGUMENT', () => lwwAssign(null, 'r', at(-1), 'v'));
    expectCrdtError('CRDT_INVALID_ARGUMENT', () => lwwAssign(null, 'r', at(0, 0.5), 'v'));
    expectCrdtError('CRDT_INVALID_ARGUMENT', () => lwwAssign(null, 'r', at(2 ** 48), 'v'));
    expectCrdtError('CRDT_INVALID_ARGUMENT', () => lwwAssign(null, 'r', at(1), 'x'.repeat(MAX_TEXT_LENGTH + 1)));
    expectCrdtError('CRDT_INVALID_ARGUMENT', () => lwwAssign(null, 'r', at(1), 7 as unknown as string));
  });

  it('decodes what it encodes and refuses malformed states', () => {
    const state = lwwAssign(null, 'r', at(2 ** 48 - 1, 0xffff), 'v');
    expect(LWW_REGISTER.decode(JSON.parse(JSON.stringify(state)))).toEqual(state);
    expect(LWW_REGISTER.decode(null)).toBeNull();
    const entry = (physicalMs: unknown, logical: unknown, replica: unknown, value: unknown): unknown => ({ stamp: { physicalMs, logical }, replica, value });
    const hostile: unknown[] = [
      undefined,
      'v',
      [],
      {},
      { stamp: null, replica: 'r', value: 'v' },
      { stamp: [1, 0], replica: 'r', value: 'v' },
      entry(1, 0, 'r', undefined),
      entry(1, 0, 'r', 5),
      entry(1, 0, 'r', 'x'.repeat(MAX_TEXT_LENGTH + 1)),
      entry(1, 0, '', 'v'),
      entry(1, 0, 7, 'v'),
      entry(-1, 0, 'r', 'v'),
      entry(1, -1, 'r', 'v'),
      entry(1, 0x10000, 'r', 'v'),
      entry(2 ** 48, 0, 'r', 'v'),
      entry('1', 0, 'r', 'v'),
      entry(1.5, 0, 'r', 'v'),
    ];
    for (const value of hostile) expectCrdtError('CRDT_BAD_STATE', () => LWW_REGISTER.decode(value));
  });
});
