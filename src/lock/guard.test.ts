// The generic fenced-write rule (admitFencedWrite over lockcore's checkFence); the Synod KV guard
// (fencedWrite, fencedTxn) is tested against a cluster in synod.test.ts.
import { describe, expect, it } from 'vitest';
import { LockError } from './errors.js';
import { admitFencedWrite } from './guard.js';

/** The code of the LockError `f` throws (undefined when it throws none). */
function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    return err instanceof LockError ? `${err.backend}:${err.code}` : 'not a LockError';
  }
  return undefined;
}

describe('admitFencedWrite', () => {
  it('accepts the first token, equal and higher ones, and returns the new highest', () => {
    expect(admitFencedWrite(null, 4)).toBe(4);
    expect(admitFencedWrite(4, 4)).toBe(4);
    expect(admitFencedWrite(4, 11)).toBe(11);
  });

  it('refuses a lower token with STALE_TOKEN, and null or malformed tokens with BAD_REQUEST', () => {
    expect(() => admitFencedWrite(11, 4, 'orders row 7')).toThrow(/orders row 7: token 4 is below 11/);
    expect(codeOf(() => admitFencedWrite(11, 4))).toBe('guard:STALE_TOKEN');
    for (const bad of [null, -1, 2.5, Number.NaN]) expect(codeOf(() => admitFencedWrite(3, bad))).toBe('guard:BAD_REQUEST');
  });
});
