import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeltaReplicator, type Outgoing } from './replicator.js';
import type { CrdtType } from './types.js';

/** A grow-only set of strings (sorted array): the smallest lattice to drive the replicator with. */
const STRINGS: CrdtType<readonly string[], readonly string[]> = {
  name: 'test-g-set',
  empty: () => [],
  join: (a, b) => [...new Set([...a, ...b])].sort(),
  value: (s) => s,
  decode: (v) => v as string[],
  canonical: (s) => JSON.stringify(s),
};

interface InFlight {
  readonly from: string;
  readonly out: Outgoing<readonly string[]>;
}

/** N replicas on a full mesh; each step either mutates, runs a round, or delivers/drops/duplicates a message. */
function simulate(seed: number, opts: { replicas: number; steps: number; buffer: number }): { states: string[]; fullStates: number; deltas: number } {
  let s = seed >>> 0 || 1;
  const rand = (n: number): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s % n;
  };
  const ids = Array.from({ length: opts.replicas }, (_, i) => `r${i}`);
  const reps = new Map(ids.map((id) => [id, new DeltaReplicator(STRINGS, { id, neighbours: ids.filter((x) => x !== id), maxBufferedDeltas: opts.buffer })]));
  let net: InFlight[] = [];
  const send = (from: string, outs: Outgoing<readonly string[]>[]): void => {
    for (const out of outs) net.push({ from, out });
  };
  for (let step = 0; step < opts.steps; step++) {
    const id = ids[rand(ids.length)] as string;
    const rep = reps.get(id) as DeltaReplicator<readonly string[]>;
    const roll = rand(10);
    if (roll < 3) rep.apply([`${id}-${step}`]);
    else if (roll < 5) send(id, rep.round());
    else if (net.length > 0) {
      // deliver a random message (reordering); sometimes drop it, sometimes keep a duplicate
      const i = rand(net.length);
      const m = net[i] as InFlight;
      const fate = rand(10);
      if (fate >= 2) send(m.out.to, (reps.get(m.out.to) as DeltaReplicator<readonly string[]>).receive(m.from, m.out.message));
      if (fate !== 9) net = net.filter((_, j) => j !== i);
    }
  }
  // heal: a reliable network until every replica is quiet
  for (let round = 0; round < 50; round++) {
    for (const id of ids) send(id, (reps.get(id) as DeltaReplicator<readonly string[]>).round());
    while (net.length > 0) {
      const m = net.shift() as InFlight;
      send(m.out.to, (reps.get(m.out.to) as DeltaReplicator<readonly string[]>).receive(m.from, m.out.message));
    }
  }
  const stats = [...reps.values()].map((r) => r.stats());
  return { states: ids.map((id) => STRINGS.canonical((reps.get(id) as DeltaReplicator<readonly string[]>).state())), fullStates: stats.reduce((a, x) => a + x.fullStatesSent, 0), deltas: stats.reduce((a, x) => a + x.deltasSent, 0) };
}

describe('delta-interval anti-entropy', () => {
  it('converges over a network that drops, duplicates and reorders, with deltas and full-state fallback', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 2, max: 5 }), fc.integer({ min: 1, max: 20 }), (seed, replicas, buffer) => {
        const r = simulate(seed, { replicas, steps: 300, buffer });
        expect(new Set(r.states).size).toBe(1);
      }),
      { numRuns: 60 },
    );
  });

  it('sends deltas while neighbours keep up, and the whole state only to one too far behind', () => {
    const a = new DeltaReplicator(STRINGS, { id: 'a', neighbours: ['b'], maxBufferedDeltas: 3 });
    const b = new DeltaReplicator(STRINGS, { id: 'b', neighbours: ['a'] });
    a.apply(['x']);
    const [first] = a.round();
    expect(first?.message).toEqual({ type: 'delta', payload: ['x'], upTo: 1, full: false });
    for (const out of b.receive('a', (first as Outgoing<readonly string[]>).message)) a.receive('b', out.message);
    expect(a.round()).toEqual([]);
    expect(a.stats().buffered).toBe(0);
    // b hears nothing while a makes more deltas than it buffers
    for (const x of ['p', 'q', 'r', 's']) a.apply([x]);
    const [catchUp] = a.round();
    expect(catchUp?.message).toMatchObject({ type: 'delta', full: true, payload: ['p', 'q', 'r', 's', 'x'] });
  });

  it('ignores acknowledgements from strangers and acknowledgements of deltas never sent', () => {
    const a = new DeltaReplicator(STRINGS, { id: 'a', neighbours: ['b'] });
    a.apply(['x']);
    expect(a.receive('z', { type: 'ack', upTo: 1 })).toEqual([]);
    a.receive('b', { type: 'ack', upTo: 99 });
    a.receive('b', { type: 'ack', upTo: Number.NaN });
    expect(a.round()).toHaveLength(1);
    expect(() => new DeltaReplicator(STRINGS, { id: 'a', neighbours: ['a'] })).toThrow(expect.objectContaining({ code: 'CRDT_INVALID_ARGUMENT' }));
  });
});
