// SortedKeys against a plain sorted array over random adds, deletes and walks: the same keys in the
// same order after every step, across chunk splits and merges (thousands of keys, few distinct prefixes).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SortedKeys } from './sorted-keys.js';

type Step = { readonly op: 'add'; readonly key: string } | { readonly op: 'delete'; readonly key: string } | { readonly op: 'walk'; readonly from: string | undefined };

/** Keys drawn from a small alphabet, so that adds and deletes hit each other and prefixes share. */
const key = fc.string({ unit: fc.constantFrom('a', 'b', 'c', '/', '\u00e9', '\ud83d\ude00'), minLength: 0, maxLength: 7 });
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('add' as const), key }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), key }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('walk' as const), from: fc.option(key, { nil: undefined }) }) },
);

function check(set: SortedKeys, model: readonly string[]): void {
  expect(set.size).toBe(model.length);
  expect(set.toArray()).toEqual(model);
}

describe('SortedKeys', () => {
  it('holds the same keys in the same order as a sorted array, through splits and merges', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 3000 }), (steps) => {
        const set = new SortedKeys();
        let model: string[] = [];
        for (const s of steps) {
          if (s.op === 'add') {
            expect(set.add(s.key)).toBe(!model.includes(s.key));
            if (!model.includes(s.key)) model = [...model, s.key].sort();
          } else if (s.op === 'delete') {
            expect(set.delete(s.key)).toBe(model.includes(s.key));
            model = model.filter((k) => k !== s.key);
          } else {
            const from = s.from;
            expect([...set.from(from)]).toEqual(from === undefined ? model : model.filter((k) => k >= from));
          }
          const probe = s.op === 'walk' ? (s.from ?? '') : s.key;
          expect(set.has(probe)).toBe(model.includes(probe));
        }
        check(set, model);
      }),
      { numRuns: 60 },
    );
  });

  it('splits and merges chunks under many keys: 20,000 adds, then deletes of most, then a rebuild', () => {
    const set = new SortedKeys();
    const keys = Array.from({ length: 20_000 }, (_, i) => `k/${(i * 7919) % 20_000}`);
    for (const k of keys) expect(set.add(k)).toBe(true);
    const sorted = [...keys].sort();
    check(set, sorted);
    for (const k of keys.filter((_, i) => i % 10 !== 0)) expect(set.delete(k)).toBe(true);
    const kept = new Set(keys.filter((_, i) => i % 10 === 0));
    const left = sorted.filter((k) => kept.has(k));
    check(set, left);
    expect([...set.from('k/5')]).toEqual(left.filter((k) => k >= 'k/5'));
    check(SortedKeys.fromSorted(left), left);
  });

  it('refuses an unsorted or repeated list to build from', () => {
    expect(() => SortedKeys.fromSorted(['b', 'a'])).toThrow(/out of order/);
    expect(() => SortedKeys.fromSorted(['a', 'a'])).toThrow(/out of order/);
  });
});
