// Property tests of the txn checker against brute force on small random histories. The brute force
// tries every order of the (at most 6, all committed) transactions and replays it: a history is
// serializable iff some order makes every read return exactly the state it would see.
// (Transactions: up to 5 random ones, plus sometimes a last one reading every key.)
//
// Properties, and why each is sound to demand:
// 1. Soundness (list-append and rw-register): if brute force finds a serial order, the checker must
//    not report any anomaly that serializability forbids. Every edge the checker infers holds in
//    every serial order consistent with the reads (ww/rw from the version order that reads fix,
//    wr from unique writes, "unseen appends come after the longest read" because every transaction
//    committed, "read v then wrote w" because a serial transaction installs w after reading v), so a
//    reported cycle would contradict the order found.
// 2. Completeness when fully observed (list-append): if every appended element appears in the
//    longest read of its key, the version order of every key is known exactly, so the inferred
//    graph is Adya's direct serialization graph; if the checker then finds no anomaly, the graph is
//    acyclic and a topological order replays every read, so brute force must find an order too.
// 3. Histories from the generator (a store applying each transaction atomically at its completion)
//    are strictly serializable, so the checker must judge them valid at strict-serializable.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../../core/index.js';
import { checkTxnHistory } from './check.js';
import { generateAppendHistory } from './generate.js';
import { historyOfTxns } from './read.js';
import type { TxnHistory } from './types.js';

type Mop = [string, JsonValue, JsonValue];

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [items.slice()];
  const out: T[][] = [];
  items.forEach((item, i) => {
    for (const rest of permutations([...items.slice(0, i), ...items.slice(i + 1)])) out.push([item, ...rest]);
  });
  return out;
}

/** Some order of the transactions replays every read exactly (list-append or register semantics). */
function bruteSerializable(txns: readonly Mop[][], model: 'append' | 'rw'): boolean {
  return permutations(txns).some((order) => {
    const state = new Map<JsonValue, JsonValue[] | JsonValue>();
    for (const mops of order) {
      for (const [f, k, v] of mops) {
        if (f === 'append') state.set(k, [...((state.get(k) as JsonValue[] | undefined) ?? []), v]);
        else if (f === 'w') state.set(k, v);
        else if (model === 'append') {
          if (JSON.stringify(v ?? []) !== JSON.stringify(state.get(k) ?? [])) return false;
        } else if (JSON.stringify(v) !== JSON.stringify(state.get(k) ?? null)) return false;
      }
    }
    return true;
  });
}

const shape = fc.array(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 2 })), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 5 });

/**
 * A history from running the transactions in a random serial order, then replacing some reads by
 * a random prefix of the key's final list (list-append) or a random value written to it (register).
 */
const histories = (model: 'append' | 'rw') =>
  fc.record({ shape, order: fc.array(fc.nat(), { minLength: 6, maxLength: 6 }), noise: fc.array(fc.nat(), { minLength: 18, maxLength: 18 }), rate: fc.integer({ min: 0, max: 3 }), observer: fc.boolean() }).map(({ shape: s, order, noise, rate, observer }) => {
    const ids = s.map((_, i) => i).sort((a, b) => (order[a]! % 7) - (order[b]! % 7));
    const txns: Mop[][] = s.map(() => []);
    const lists = new Map<number, number[]>();
    let next = 1;
    for (const id of ids) {
      for (const [write, key] of s[id]!) {
        const list = lists.get(key) ?? [];
        lists.set(key, list);
        if (write) {
          const v = next++;
          list.push(v);
          txns[id]!.push(model === 'append' ? ['append', key, v] : ['w', key, v]);
        } else txns[id]!.push(['r', key, model === 'append' ? list.slice() : (list[list.length - 1] ?? null)]);
      }
    }
    // perturb reads: rate in 4 of each read, using the noise to pick the replacement
    let n = 0;
    for (const mops of txns) {
      for (const m of mops) {
        if (m[0] !== 'r') continue;
        const r = noise[n++ % noise.length]!;
        if (r % 4 >= rate) continue;
        const final = lists.get(m[1] as number) ?? [];
        m[2] = model === 'append' ? final.slice(0, r % (final.length + 1)) : r % (final.length + 1) === 0 ? null : final[(r % (final.length + 1)) - 1]!;
      }
    }
    // a last transaction that reads every key, so that many histories are fully observed
    if (observer) txns.push([0, 1, 2].map((k): Mop => ['r', k, model === 'append' ? (lists.get(k) ?? []).slice() : (lists.get(k)?.at(-1) ?? null)]));
    return txns;
  });

const toHistory = (txns: readonly Mop[][]): TxnHistory => historyOfTxns(txns.map((mops) => ({ mops })));

function fullyObserved(txns: readonly Mop[][]): boolean {
  const longest = new Map<JsonValue, number>();
  const appended = new Map<JsonValue, number>();
  for (const mops of txns) {
    for (const [f, k, v] of mops) {
      if (f === 'append') appended.set(k, (appended.get(k) ?? 0) + 1);
      else longest.set(k, Math.max(longest.get(k) ?? 0, Array.isArray(v) ? v.length : 0));
    }
  }
  return [...appended].every(([k, n]) => (longest.get(k) ?? 0) >= n);
}

describe('txn checker against brute force', () => {
  it('list-append: whenever some serial order exists, no serializability anomaly is reported', () => {
    fc.assert(
      fc.property(histories('append'), (txns) => {
        if (!bruteSerializable(txns, 'append')) return;
        const r = checkTxnHistory(toHistory(txns), { model: 'txn-append', isolation: 'serializable' });
        expect(r.forbidden).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });

  it('list-append: on fully observed histories the checker and brute force agree exactly', () => {
    let decided = 0;
    let invalid = 0;
    fc.assert(
      fc.property(histories('append'), (txns) => {
        if (!fullyObserved(txns)) return;
        decided++;
        const r = checkTxnHistory(toHistory(txns), { model: 'txn-append', isolation: 'serializable' });
        const brute = bruteSerializable(txns, 'append');
        if (!brute) invalid++;
        expect(r.verdict).toBe(brute ? 'valid' : 'invalid');
      }),
      { numRuns: 600 },
    );
    // the generator reaches both verdicts often enough for this to mean something
    expect(decided).toBeGreaterThan(200);
    expect(invalid).toBeGreaterThan(30);
  });

  it('rw-register: whenever some serial order exists, no serializability anomaly is reported', () => {
    fc.assert(
      fc.property(histories('rw'), (txns) => {
        if (!bruteSerializable(txns, 'rw')) return;
        const r = checkTxnHistory(toHistory(txns), { model: 'txn-rw', isolation: 'serializable' });
        expect(r.forbidden).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });

  it('generated strictly serializable histories are valid at every level, with real time', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 6 }), (seed, processes) => {
        const h = generateAppendHistory({ txns: 60, processes, activeKeys: 3, appendsPerKey: 6, seed });
        const r = checkTxnHistory(h, { model: 'txn-append', isolation: 'strict-serializable' });
        expect(r.anomalyTypes).toEqual([]);
        expect(r.verdict).toBe('valid');
      }),
      { numRuns: 100 },
    );
  });
});
