import { describe, expect, it } from 'vitest';
import { LNKD_DISK } from '../pbs/profiles.js';
import { firstTReaching, measureStoreVisibility } from './pbs-store.js';

describe('PBS on the store itself (the real core under the paper\'s latency fits)', () => {
  it('R + W > N: every read sees the write at once; R = W = 1: some reads miss it at first, almost none after 100 ms', () => {
    const strict = measureStoreVisibility({ profile: LNKD_DISK, seed: 1, replicas: 3, readQuorum: 2, writeQuorum: 2, tValuesMs: [0], trialsPerT: 300 });
    expect(strict[0]).toMatchObject({ trials: 300, consistent: 300 });
    const partial = measureStoreVisibility({ profile: LNKD_DISK, seed: 1, replicas: 3, readQuorum: 1, writeQuorum: 1, tValuesMs: [0, 10, 100], trialsPerT: 400 });
    const [atZero, atTen, atHundred] = partial.map((p) => p.probability) as [number, number, number];
    // the coordinator's own copy commits a W=1 write before any replica leg: fewer reads see it at t=0 than WARS's 43.9%
    expect(atZero).toBeGreaterThan(0.2);
    expect(atZero).toBeLessThan(0.55);
    expect(atTen).toBeGreaterThan(atZero);
    expect(atHundred).toBeGreaterThan(0.99);
    expect(firstTReaching(partial, 0.99)).toBe(100);
  });
});
