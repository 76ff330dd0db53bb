// The quorum benchmark's arguments: defaults, the store client's routing, and refusals.
import { describe, expect, it } from 'vitest';
import { parseQuorumBenchArgs } from '../bench/quorum.js';

describe('npm run bench -- quorum arguments', () => {
  it('defaults to 3 and 5 nodes with each key sent to its first home replica', () => {
    expect(parseQuorumBenchArgs([])).toMatchObject({ nodes: [3, 5], routing: 'home', opsPerLine: 20_000, json: false });
    expect(parseQuorumBenchArgs(['--routing', 'any', '--nodes', '5', '--quick'])).toMatchObject({ nodes: [5], routing: 'any', opsPerLine: 2_000 });
  });

  it('refuses unknown routing, node counts and arguments with a one-line reason', () => {
    for (const bad of [['--routing', 'leader'], ['--routing'], ['--nodes', '2'], ['--nodes', '3,x'], ['--fast']]) {
      expect(() => parseQuorumBenchArgs(bad), bad.join(' ')).toThrow(/^(--routing|--nodes|unknown argument)/);
    }
  });
});
