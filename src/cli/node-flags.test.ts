// The node flags `cluster up` passes, and the check that tells a hand-started node it lacks them.
import { describe, expect, it } from 'vitest';
import { NODE_PROCESS_FLAGS } from '../supervisor/cluster-file.js';
import { missingNodeFlags } from './node.js';

describe('node process flags', () => {
  it('are all missing from a plain `node synod.js node` start', () => {
    expect(missingNodeFlags([], '')).toEqual([...NODE_PROCESS_FLAGS]);
  });

  it('count as given on the command line or in NODE_OPTIONS, with any value', () => {
    const names = NODE_PROCESS_FLAGS.map((f) => f.split('=')[0] as string);
    expect(missingNodeFlags([...NODE_PROCESS_FLAGS], '')).toEqual([]);
    expect(missingNodeFlags(['--import', 'tsx'], names.map((n) => `${n}=4`).join(' '))).toEqual([]);
    expect(missingNodeFlags(names.map((n) => `${n}=16`), '')).toEqual([]);
  });
});
