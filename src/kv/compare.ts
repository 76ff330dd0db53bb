// How a txn compare judges a key: the order of JSON values (numbers by value, strings by UTF-16
// code units, anything else only equal or not, structurally) and what an absent key looks like
// (value null, version, revisions and lease 0).
import type { JsonValue } from '../core/index.js';
import { canonicalJson, type Compare } from './requests.js';

/** What a compare reads of a key; all zero and null when the key is absent. */
export interface Compared {
  readonly value: JsonValue;
  readonly version: number;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly lease: number;
}

export const ABSENT: Compared = { value: null, version: 0, createRevision: 0, modRevision: 0, lease: 0 };

/** Whether `key` as `seen` satisfies compare `c`. A `<` or `>` between values of different types is false. */
export function compareHolds(c: Compare, seen: Compared): boolean {
  const actual: JsonValue = c.target === 'value' ? seen.value : seen[c.target];
  switch (c.cmp) {
    case '=':
      return sameValue(actual, c.value);
    case '!=':
      return !sameValue(actual, c.value);
    case '<':
      return ordered(actual, c.value) < 0;
    case '>':
      return ordered(actual, c.value) > 0;
  }
}

function sameValue(a: JsonValue, b: JsonValue): boolean {
  if (a === null || typeof a !== 'object' || b === null || typeof b !== 'object') return a === b;
  return canonicalJson(a) === canonicalJson(b);
}

/** -1, 0 or 1 for two numbers or two strings; NaN (every comparison with it false) otherwise. */
function ordered(a: JsonValue, b: JsonValue): number {
  if ((typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string')) return a < b ? -1 : a > b ? 1 : 0;
  return NaN;
}
