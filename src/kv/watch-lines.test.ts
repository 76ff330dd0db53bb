// emitByRevision: one batch per revision, the first always sent, and a resume point that neither
// skips nor repeats a change, however the room runs out.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emitByRevision, type RevisionBatch } from './watch-lines.js';

type Ev = { readonly revision: number; readonly key: string };

/** A page: revisions ascending, each with 1–3 events. */
const page = fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 12 }).map((sizes) => sizes.flatMap((n, r) => Array.from({ length: n }, (_, k) => ({ revision: 10 + r * 2, key: `k${k}` }))));

describe('emitByRevision', () => {
  it('sends a whole page as one batch per revision and returns the page\'s next revision', () => {
    const events: Ev[] = [{ revision: 3, key: 'a' }, { revision: 3, key: 'b' }, { revision: 5, key: 'a' }];
    const batches: RevisionBatch<Ev>[] = [];
    expect(emitByRevision(events, 9, () => true, (b) => batches.push(b))).toBe(9);
    expect(batches.map((b) => [b.revision, b.events.length])).toEqual([[3, 2], [5, 1]]);
  });

  it('sends the first revision even without room, and resumes at the first revision not sent', () => {
    const events: Ev[] = [{ revision: 3, key: 'a' }, { revision: 3, key: 'b' }, { revision: 5, key: 'a' }];
    const batches: RevisionBatch<Ev>[] = [];
    expect(emitByRevision(events, 9, () => false, (b) => batches.push(b))).toBe(5);
    expect(batches.map((b) => b.revision)).toEqual([3]);
  });

  it('an empty page is all progress', () => {
    expect(emitByRevision<Ev>([], 7, () => false, () => expect.fail('nothing to emit'))).toBe(7);
  });

  it('fails loud on a page out of revision order', () => {
    expect(() => emitByRevision<Ev>([{ revision: 5, key: 'a' }, { revision: 3, key: 'b' }], 9, () => true, () => undefined)).toThrow(/ordered by revision/);
  });

  it('pulling again from the returned revision delivers every event once, in order, revisions whole', () => {
    fc.assert(
      fc.property(page, fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 20 }), (events, rooms) => {
        const nextRevision = (events.at(-1)?.revision ?? 8) + 3;
        const got: Ev[] = [];
        let from = 0;
        for (let pull = 0; pull < 100 && from < nextRevision; pull++) {
          let room = rooms[pull % rooms.length] as number;
          const rest = events.filter((e) => e.revision >= from);
          from = emitByRevision(rest, nextRevision, () => room-- > 0, (b) => {
            expect(new Set(b.events.map((e) => e.revision))).toEqual(new Set([b.revision]));
            got.push(...b.events);
          });
        }
        expect(got).toEqual(events);
        expect(from).toBe(nextRevision);
      }),
    );
  });
});
