// Tests of the in-memory log and the configuration history: bounds of slices, the binary searches
// behind backtracking hints (against a linear scan, as properties), and the guards that keep a
// log well formed.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InvariantError } from '../core/index.js';
import { RaftLog, entrySizeBytes } from './log.js';
import { ConfigHistory, makeMembership, quorumSize } from './membership.js';
import type { JsonValue } from '../core/index.js';
import type { LogEntry } from './types.js';

function logWithTerms(terms: readonly number[], snapshotIndex = 0, snapshotTerm = 0): RaftLog {
  const log = new RaftLog();
  log.reset(snapshotIndex, snapshotTerm, terms.map((term, i) => ({ index: snapshotIndex + i + 1, term, kind: 'command', data: { n: i } })));
  return log;
}

/** Non-decreasing terms, as every Raft log has. */
const termsArb = fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 40 }).map((steps) => {
  let term = 1;
  return steps.map((s) => (term += s));
});

describe('RaftLog', () => {
  it('slices within count and byte bounds, always at least one entry', () => {
    const log = new RaftLog();
    const big: LogEntry[] = Array.from({ length: 10 }, (_, i) => ({ index: i + 1, term: 1, kind: 'command', data: 'x'.repeat(1000) }));
    log.append(big);
    expect(log.sliceBounded(1, 4, 1_000_000).map((e) => e.index)).toEqual([1, 2, 3, 4]);
    expect(log.sliceBounded(1, 100, 2.5 * entrySizeBytes(big[0] as LogEntry)).length).toBe(2);
    expect(log.sliceBounded(3, 100, 1).map((e) => e.index)).toEqual([3]);
    expect(log.sliceBounded(11, 100, 1)).toEqual([]);
  });

  it('refuses gaps, decreasing terms and truncation below the snapshot', () => {
    const log = logWithTerms([1, 2], 5, 1);
    expect(() => log.append([{ index: 9, term: 2, kind: 'noop', data: null }])).toThrow(InvariantError);
    expect(() => log.append([{ index: 8, term: 1, kind: 'noop', data: null }])).toThrow(/below the last term/);
    expect(() => log.truncateFrom(5)).toThrow(/snapshot/);
  });

  it('compacts and keeps answering terms at the snapshot index', () => {
    const log = logWithTerms([1, 1, 2, 3]);
    log.compactTo(3);
    expect([log.snapshotIndex, log.snapshotTerm, log.firstIndex, log.lastIndex]).toEqual([3, 2, 4, 4]);
    expect(log.termAt(3)).toBe(2);
    expect(log.termAt(2)).toBeUndefined();
    expect(log.entryAt(4)?.term).toBe(3);
  });

  it('firstIndexOfTerm and lastIndexWithTermAtMost agree with a linear scan', () => {
    fc.assert(
      fc.property(termsArb, fc.nat(), fc.nat(), (terms, a, b) => {
        const log = logWithTerms(terms);
        const at = 1 + (a % terms.length);
        const term = terms[at - 1] as number;
        let first = at;
        while (first > 1 && terms[first - 2] === term) first--;
        expect(log.firstIndexOfTerm(term, at)).toBe(first);
        const probeTerm = b % (Math.max(...terms) + 2);
        let last = 0;
        for (let i = 1; i <= at; i++) if ((terms[i - 1] as number) <= probeTerm) last = i;
        expect(log.lastIndexWithTermAtMost(probeTerm, at)).toBe(last);
      }),
    );
  });

  it('the election restriction compares last term, then length', () => {
    const log = logWithTerms([1, 2, 2]);
    expect(log.isUpToDate(3, 2)).toBe(true);
    expect(log.isUpToDate(2, 2)).toBe(false);
    expect(log.isUpToDate(1, 3)).toBe(true);
    expect(log.isUpToDate(9, 1)).toBe(false);
  });
});

describe('ConfigHistory', () => {
  it('tracks the configuration in effect, reverts on truncation and survives compaction', () => {
    const h = new ConfigHistory(makeMembership(['1', '2', '3']));
    h.add(5, makeMembership(['1', '2', '3'], ['4']));
    h.add(9, makeMembership(['1', '2', '3', '4']));
    expect(h.current.voters).toEqual(['1', '2', '3', '4']);
    expect(h.at(7).learners).toEqual(['4']);
    h.truncateFrom(9);
    expect(h.current).toEqual({ voters: ['1', '2', '3'], learners: ['4'] });
    h.compactTo(6, h.at(6));
    expect(h.currentIndex).toBe(6);
    expect(h.at(1).learners).toEqual(['4']);
    expect(() => h.add(6, makeMembership(['1']))).toThrow(InvariantError);
  });

  it('majorities of configurations one voter apart always overlap', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), (n) => {
        // for a change from n to n + 1 voters, two disjoint quorums would need more nodes than exist
        expect(quorumSize(makeMembership(ids(n))) + quorumSize(makeMembership(ids(n + 1)))).toBeGreaterThan(n + 1);
      }),
    );
  });
});

function ids(n: number): string[] {
  return Array.from({ length: n }, (_, i) => String(i + 1));
}

describe('entrySizeBytes', () => {
  it('measures the JSON size of plain data without building the text', () => {
    const plain: fc.Arbitrary<JsonValue> = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.string({ unit: fc.constantFrom('a', 'b', 'z', '0', ' ') }),
        fc.integer({ min: -1_000_000, max: 1_000_000 }),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(fc.string({ unit: fc.constantFrom('k', 'e', 'y') }), tie('value'), { maxKeys: 3 }),
      ),
    })).value as fc.Arbitrary<JsonValue>;
    fc.assert(
      fc.property(plain, (data) => {
        const entry: LogEntry = { index: 1, term: 1, kind: 'command', data };
        expect(entrySizeBytes(entry) - 48).toBe(JSON.stringify(data).length);
      }),
      { numRuns: 300 },
    );
  });
});
