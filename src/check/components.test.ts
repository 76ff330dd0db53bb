// Partitions of histories with multi-key calls: connected components of the keys calls touch,
// ranges joining every key of the history they cover, in order of first appearance.
import { describe, expect, it } from 'vitest';
import type { Operation } from '../core/index.js';
import { componentsOf, joinsKeys, type PreparedOp } from './components.js';
import type { PreparedCall } from './model.js';

const op = (index: number): Operation => ({ index, process: '1', f: 'x', input: null, output: null, invokeMs: index, completeMs: index, outcome: 'ok' });
const item = (index: number, prepared: Omit<PreparedCall<number>, 'call'>): PreparedOp<number> => ({ op: op(index), prepared: { ...prepared, call: index } });
const grouped = (items: PreparedOp<number>[]) => componentsOf(items).map((c) => [c.key, c.keys, c.items.map((i) => i.prepared.call)]);

describe('componentsOf', () => {
  it('joins keys named together, transitively, and keeps the rest apart', () => {
    expect(
      grouped([
        item(0, { key: 'a' }),
        item(1, { key: 'c' }),
        item(2, { key: 'b', keys: ['b', 'd'] }),
        item(3, { key: 'd', keys: ['d', 'a'] }),
        item(4, { key: 'e' }),
      ]),
    ).toEqual([
      ['a', ['a', 'b', 'd'], [0, 2, 3]],
      ['c', ['c'], [1]],
      ['e', ['e'], [4]],
    ]);
  });

  it('joins a range with every key of the history it covers, named before or after it', () => {
    const covers = (k: string): boolean => k.startsWith('p/');
    expect(grouped([item(0, { key: 'p/1' }), item(1, { key: 'p/', keys: [], covers }), item(2, { key: 'q' }), item(3, { key: 'p/2' })])).toEqual([
      ['p/1', ['p/1', 'p/2'], [0, 1, 3]],
      ['q', ['q'], [2]],
    ]);
  });

  it('gives a range over keys no call names a group of its own, whose name is not a key', () => {
    const covers = (k: string): boolean => k.startsWith('z/');
    expect(grouped([item(0, { key: 'a' }), item(1, { key: 'z/', keys: [], covers })])).toEqual([
      ['a', ['a'], [0]],
      ['z/', [], [1]],
    ]);
  });

  it('says which calls join keys', () => {
    expect(joinsKeys({ key: 'a', call: 0 })).toBe(false);
    expect(joinsKeys({ key: 'a', keys: ['a'], call: 0 })).toBe(false);
    expect(joinsKeys({ key: 'a', keys: ['a', 'b'], call: 0 })).toBe(true);
    expect(joinsKeys({ key: 'a', keys: [], covers: () => false, call: 0 })).toBe(true);
  });
});
