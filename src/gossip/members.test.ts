import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemberTable, StartingView, type MemberRecord } from './members.js';
import type { MemberState } from './messages.js';

const STATES: readonly MemberState[] = ['alive', 'suspect', 'dead', 'left'];

/** What a table holds, independent of how it stores it. */
function contents(t: MemberTable): { size: number; records: MemberRecord[]; counts: Record<MemberState, number>; gone: string[]; live: number } {
  const records = [...t.all()].sort((a, b) => (a.id < b.id ? -1 : 1));
  return { size: t.size, records, counts: { ...t.stateCounts() }, gone: [...t.gone()].sort(), live: t.liveCount() };
}

describe('member table over a shared starting view', () => {
  it('property: any sequence of sets and forgets leaves it holding what a plain table holds', () => {
    const ids = Array.from({ length: 12 }, (_, i) => `m${i}`);
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), id: fc.integer({ min: 0, max: 15 }), state: fc.constantFrom(...STATES), incarnation: fc.nat(5) }),
      fc.record({ kind: fc.constant('forget' as const), id: fc.integer({ min: 0, max: 15 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const view = new StartingView(ids);
        const shared = new MemberTable(100, 100, view);
        const plain = new MemberTable(100, 100);
        for (const id of ids) plain.set({ id, state: 'alive', incarnation: 0, meta: '', changedAtMs: 0 });
        let clock = 1;
        for (const o of ops) {
          const id = `m${o.id}`;
          if (o.kind === 'forget') {
            shared.forget(id);
            plain.forget(id);
          } else {
            const record: MemberRecord = { id, state: o.state, incarnation: o.incarnation, meta: '', changedAtMs: clock++ };
            expect(shared.set(record)).toBe(plain.set(record));
          }
          for (let i = 0; i < 16; i++) expect(shared.get(`m${i}`)).toEqual(plain.get(`m${i}`));
        }
        expect(contents(shared)).toEqual(contents(plain));
        // the view itself is never written
        expect([...view.records.values()].every((r) => r.state === 'alive' && r.incarnation === 0)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('random picks are distinct, never the excluded member, only members kept, and every one can be picked', () => {
    const table = new MemberTable(100, 100, new StartingView(Array.from({ length: 20 }, (_, i) => `m${i}`)));
    table.set({ id: 'm3', state: 'dead', incarnation: 0, meta: '', changedAtMs: 1 });
    table.forget('m4');
    table.set({ id: 'extra', state: 'alive', incarnation: 0, meta: '', changedAtMs: 1 });
    let x = 7;
    const random = (): number => (x = (x * 16807) % 2147483647) / 2147483647;
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const picked = table.sample(3, (r) => r.state === 'alive', random, 'm0');
      expect(new Set(picked).size).toBe(3);
      for (const id of picked) {
        expect(id).not.toBe('m0');
        expect(table.get(id)?.state).toBe('alive');
        seen.add(id);
      }
    }
    expect(seen.size).toBe(18); // m1..m19 without m3 (dead) and m4 (forgotten), plus extra
    // fewer qualify than asked for: all of them, found by the full scan
    expect(table.sample(5, (r) => r.state === 'dead' || r.id === 'extra', random, 'm0').sort()).toEqual(['extra', 'm3']);
  });
});
