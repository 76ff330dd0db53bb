// Admission table tests: bounds in total and per address group, which pending connection is
// evicted (least progress, oldest, from the newcomer's full group or the largest group), and a
// property that the bounds and bookkeeping hold under any sequence of operations.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AdmissionTable, addressGroup, type HandshakeProgress } from './admission.js';

describe('AdmissionTable', () => {
  it('evicts from the newcomer\'s own group when that group is full, silent connections first', () => {
    const table = new AdmissionTable<string>({ maxPending: 10, maxPerGroup: 3 });
    table.admit('a1', 'A');
    table.admit('a2', 'A');
    table.admit('a3', 'A');
    table.advance('a1', 'hello'); // the oldest has sent its hello: it is kept over silent ones
    expect(table.admit('a4', 'A')).toMatchObject({ victim: 'a2', victimProgress: 'connected', groupFull: true });
    table.advance('a3', 'secured');
    table.advance('a4', 'hello');
    expect(table.admit('a5', 'A')?.victim).toBe('a3');
    table.advance('a5', 'hello');
    expect(table.admit('a6', 'A')).toMatchObject({ victim: 'a1', victimProgress: 'hello' }); // oldest hello
    expect(table.groupSize('A')).toBe(3);
  });

  it('evicts from the largest group when the table is full, so a lone address keeps its slot', () => {
    const table = new AdmissionTable<string>({ maxPending: 4, maxPerGroup: 4 });
    table.admit('peer', 'P');
    table.admit('x1', 'X');
    table.admit('x2', 'X');
    table.admit('x3', 'X');
    expect(table.admit('y1', 'Y')?.victim).toBe('x1');
    expect(table.admit('y2', 'Y')?.victim).toBe('x2'); // X (2) is larger than Y (1)
    expect(table.admit('z1', 'Z')?.victim).toBe('y1'); // now Y holds the most
    expect(table.has('peer')).toBe(true);
  });

  it('when every group holds one slot, evicts the least advanced, oldest connection of all', () => {
    const table = new AdmissionTable<string>({ maxPending: 3, maxPerGroup: 3 });
    table.admit('peer', 'P');
    table.admit('x', 'X');
    table.admit('y', 'Y');
    table.advance('peer', 'hello');
    expect(table.admit('z', 'Z')).toMatchObject({ victim: 'x', victimGroup: 'X', victimProgress: 'connected' });
    table.advance('y', 'hello');
    table.advance('z', 'hello');
    expect(table.admit('w', 'W')?.victim).toBe('peer'); // all said hello: the oldest hello goes
  });

  it('admits without eviction below the limits and forgets removed entries', () => {
    const table = new AdmissionTable<string>({ maxPending: 2, maxPerGroup: 2 });
    expect(table.admit('a', 'A')).toBeNull();
    table.remove('a');
    table.remove('a');
    expect(table.admit('b', 'A')).toBeNull();
    expect(table.admit('c', 'B')).toBeNull();
    expect(table.size).toBe(2);
    expect(table.admit('d', 'C')?.victim).toBe('b');
  });

  it('property: bounds hold, every entry is accounted for, victims are least advanced and oldest', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('admit' as const), group: fc.integer({ min: 0, max: 4 }) }),
      fc.record({ kind: fc.constant('advance' as const), pick: fc.nat(), progress: fc.constantFrom<HandshakeProgress>('secured', 'hello') }),
      fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 }), fc.array(op, { maxLength: 200 }), (maxPending, maxPerGroup, ops) => {
        const table = new AdmissionTable<number>({ maxPending, maxPerGroup });
        // model: id -> group, progress rank, admission order
        const model = new Map<number, { group: string; rank: number; order: number }>();
        const rank = { connected: 0, secured: 1, hello: 2 } as const;
        let next = 0;
        for (const o of ops) {
          const live = [...model.keys()];
          if (o.kind === 'admit') {
            const group = `g${o.group}`;
            const id = next++;
            const sizes = new Map<string, number>();
            for (const e of model.values()) sizes.set(e.group, (sizes.get(e.group) ?? 0) + 1);
            const eviction = table.admit(id, group);
            const ownFull = (sizes.get(group) ?? 0) >= maxPerGroup;
            expect(eviction !== null).toBe(ownFull || model.size >= maxPending);
            if (eviction !== null) {
              const victim = model.get(eviction.victim);
              expect(victim).toBeDefined();
              expect(victim!.group).toBe(eviction.victimGroup);
              // from the newcomer's group if it was full, else from a group holding the most slots
              if (ownFull) expect(victim!.group).toBe(group);
              else expect(sizes.get(victim!.group)).toBe(Math.max(...sizes.values()));
              // nothing in the victim's group (in the whole table when every group held one slot)
              // was less advanced, or as advanced and older
              const anyGroup = !ownFull && Math.max(...sizes.values()) === 1;
              for (const other of model.values()) {
                if ((!anyGroup && other.group !== victim!.group) || other === victim) continue;
                expect(other.rank > victim!.rank || (other.rank === victim!.rank && other.order > victim!.order)).toBe(true);
              }
              model.delete(eviction.victim);
            }
            model.set(id, { group, rank: 0, order: id });
          } else if (live.length > 0) {
            const id = live[o.pick % live.length]!;
            if (o.kind === 'remove') {
              table.remove(id);
              model.delete(id);
            } else {
              table.advance(id, o.progress);
              const entry = model.get(id)!;
              if (rank[o.progress] > entry.rank) model.set(id, { ...entry, rank: rank[o.progress], order: next++ });
            }
          }
          expect(table.size).toBe(model.size);
          expect(table.size).toBeLessThanOrEqual(maxPending);
          for (const g of [0, 1, 2, 3, 4]) {
            const inModel = [...model.values()].filter((e) => e.group === `g${g}`).length;
            expect(table.groupSize(`g${g}`)).toBe(inModel);
            expect(inModel).toBeLessThanOrEqual(maxPerGroup);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('addressGroup', () => {
  it('keeps IPv4 addresses, maps IPv4-mapped IPv6 to IPv4, and groups IPv6 by /64', () => {
    expect(addressGroup('127.0.0.2')).toBe('127.0.0.2');
    expect(addressGroup('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(addressGroup('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressGroup('2001:0db8:0001:0002:ffff:1:2:3')).toBe('2001:db8:1:2::/64');
    expect(addressGroup('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressGroup('::1')).toBe('0:0:0:0::/64');
    expect(addressGroup('fe80::1%eth0')).toBe(addressGroup('fe80::2'));
  });
});
