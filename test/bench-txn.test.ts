// The txn benchmark's measuring functions at tiny sizes: every protocol runs under every nemesis,
// the checker is satisfied, the numbers have their parts, and a crashed 2PC coordinator leaves
// participants blocked for about its downtime. Virtual time only; no wall-clock timing is asserted.
import { describe, expect, it } from 'vitest';
import { BLOCKED_MS, measureTxn, measureTxnSeeds, TXN_BENCH_DEFAULTS, TXN_NEMESES } from '../bench/lib/txn-measure.js';
import { row } from '../bench/txn.js';
import { COMMIT_PROTOCOLS } from '../src/txn/sim/cluster.js';

const tiny = { ...TXN_BENCH_DEFAULTS, durationMs: 4_000, faultEveryMs: 1_500, downMs: 800 };

describe('txn benchmark, measuring functions', () => {
  for (const protocol of COMMIT_PROTOCOLS) {
    it(`${protocol}: one tiny run per nemesis, judged by the checker`, () => {
      for (const nemesis of TXN_NEMESES) {
        const r = measureTxn({ ...tiny, protocol, nemesis, seed: 1 });
        expect(r.checkerOk && r.moneyOk && r.settled).toBe(true);
        expect(r.transfers.committed).toBeGreaterThan(0);
        expect(r.committedPerSecond).toBeCloseTo(r.transfers.committed / 4);
        expect(r.commitLatencyMs.p50).toBeGreaterThan(0);
        expect(r.commitLatencyMs.p99).toBeGreaterThanOrEqual(r.commitLatencyMs.p50);
        expect(r.messagesPerTxn).toBeGreaterThan(protocol === 'paxos-commit' ? 10 : 4);
        expect(r.inDoubtMs.max).toBeGreaterThanOrEqual(r.inDoubtMs.p99);
        if (nemesis === 'none') {
          expect(r.transfers.unknown).toBe(0);
          expect(r.blocked.count).toBe(0);
        }
        expect(row(protocol, nemesis, r)).toMatch(/\| ok \|$/);
      }
    });
  }

  it('a crashed 2PC coordinator blocks prepared participants for about its downtime; 3PC and Paxos Commit decide sooner', () => {
    const blocked = COMMIT_PROTOCOLS.map((protocol) => measureTxnSeeds({ ...tiny, durationMs: 8_000, protocol, nemesis: 'coordinator-crashes' }, [1, 2]).blocked);
    const [twoPc, threePc, paxos] = blocked;
    expect(twoPc?.count).toBeGreaterThan(0);
    expect(twoPc?.meanMs).toBeGreaterThan(BLOCKED_MS);
    for (const other of [threePc, paxos]) if ((other?.count ?? 0) > 0) expect(other?.meanMs).toBeLessThan(twoPc?.meanMs ?? 0);
  });
});
