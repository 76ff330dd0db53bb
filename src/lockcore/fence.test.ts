import { describe, expect, it } from 'vitest';
import { checkFence } from './fence.js';

describe('checkFence', () => {
  it('accepts the first token, equal and higher ones, and refuses lower ones', () => {
    expect(checkFence(null, 5)).toEqual({ ok: true, highest: 5 });
    expect(checkFence(5, 5)).toEqual({ ok: true, highest: 5 });
    expect(checkFence(5, 9)).toEqual({ ok: true, highest: 9 });
    const refused = checkFence(9, 5);
    expect(refused.ok).toBe(false);
    expect(refused.highest).toBe(9);
  });

  it('refuses tokens that are not whole numbers', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) expect(checkFence(null, bad).ok).toBe(false);
  });
});
