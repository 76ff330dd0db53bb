// The clock cores run in the deterministic simulator against skewed and drifting clocks: HLC
// stays monotonic, causal and within the offset bound across many seeds; NTP-style sync brings
// every client within the error its round trips allow.
import { describe, expect, it } from 'vitest';
import { Simulation } from '../sim/index.js';
import { createClockSyncSpec } from './sync-protocol.js';
import { createHlcGossipSpec, type HlcGossipMessage, type HlcStampQuery, type HlcStampResult } from './hlc-gossip.js';
import type { Effects, ProtocolSpec } from '../sim/index.js';
import { compareHlcTimestamps, parsePackedHlc } from './hlc.js';
import type { HlcTimestamp } from './hlc.js';

function skew<M extends { type: string }, Q, R, P>(sim: Simulation<M, Q, R, P>, maxOffsetMs: number, maxDriftPpm: number): void {
  const rng = sim.random.stream('test-skew');
  for (const id of sim.nodeIds) if (id !== '1') sim.setClock(id, rng.int(-maxOffsetMs, maxOffsetMs), rng.int(-maxDriftPpm, maxDriftPpm));
}

describe('HLC gossip under skew and drift', () => {
  /** Wraps the gossip core so every annotated HLC and every received stamp can be checked. */
  function checkedGossipSpec(maxOffsetMs: number, onStamp: (node: string, ts: HlcTimestamp, received: HlcTimestamp | undefined) => void): ProtocolSpec<HlcGossipMessage, HlcStampQuery, HlcStampResult, never> {
    const inner = createHlcGossipSpec({ maxOffsetMs, tickIntervalMs: 20 });
    return {
      ...inner,
      create(env, durable) {
        const core = inner.create(env, durable);
        let received: HlcTimestamp | undefined;
        const watch = (fx: Effects<HlcGossipMessage, never, HlcStampResult>): Effects<HlcGossipMessage, never, HlcStampResult> => ({
          send: (to, msg) => fx.send(to, msg),
          persist: (op) => fx.persist(op),
          reply: (id, r) => fx.reply(id, r),
          annotate: (key, value) => {
            if (key === 'hlc' && typeof value === 'string') onStamp(env.id, parsePackedHlc(value), received);
            fx.annotate(key, value);
          },
        });
        return {
          start: (fx) => core.start?.(watch(fx)),
          handleTick: (fx) => core.handleTick(watch(fx)),
          handleRequest: (id, q, fx) => core.handleRequest(id, q, watch(fx)),
          handleMessage: (from, msg, fx) => {
            received = parsePackedHlc(msg.hlc);
            core.handleMessage(from, msg, watch(fx));
            received = undefined;
          },
        };
      },
    };
  }

  it('is monotonic per node, a receive follows its send, and stays within the offset bound (40 seeds)', () => {
    const maxOffsetMs = 1000;
    for (let seed = 1; seed <= 40; seed++) {
      const last = new Map<string, HlcTimestamp>();
      let receives = 0;
      let sim: Simulation<HlcGossipMessage, HlcStampQuery, HlcStampResult, never> | undefined = undefined;
      const spec = checkedGossipSpec(maxOffsetMs, (node, ts, received) => {
        const prev = last.get(node);
        if (prev !== undefined) expect(compareHlcTimestamps(ts, prev), `seed ${seed}: node ${node} went back`).toBe(1);
        last.set(node, ts);
        if (received !== undefined) {
          receives++;
          expect(compareHlcTimestamps(ts, received), `seed ${seed}: receive not after its send`).toBe(1);
        }
        // HLC never runs further ahead of this node's physical clock than the bound
        if (sim !== undefined) expect(ts.physicalMs - sim.localNowMs(node)).toBeLessThanOrEqual(maxOffsetMs);
      });
      sim = new Simulation({ seed, protocol: spec, nodes: 5, trace: false, link: { latency: { kind: 'exponential', meanMs: 10, minMs: 1 }, reorderRate: 0.1 } });
      skew(sim, 400, 500); // the spread of physical clocks stays below maxOffsetMs over the run
      sim.runFor(5000);
      for (const id of sim.nodeIds) expect(sim.annotations(id).get('hlcRejected')).toBe(0);
      expect(receives).toBeGreaterThan(500);
    }
  });

  it('refuses a remote clock beyond the bound rather than adopting it', () => {
    const sim = new Simulation({ seed: 3, protocol: createHlcGossipSpec({ maxOffsetMs: 100, tickIntervalMs: 20 }), nodes: 3 });
    sim.setClock('3', 60_000); // a minute fast
    sim.runFor(2000);
    const rejected = Number(sim.annotations('1').get('hlcRejected')) + Number(sim.annotations('2').get('hlcRejected'));
    expect(rejected).toBeGreaterThan(0);
    for (const id of ['1', '2']) expect(Number(sim.annotations(id).get('hlcAheadMs'))).toBeLessThanOrEqual(100);
  });
});

describe('clock synchronisation in the simulator', () => {
  it('brings skewed, drifting clients within half the worst path asymmetry of the server (20 seeds)', () => {
    const worst: number[] = [];
    for (let seed = 1; seed <= 20; seed++) {
      const sim = new Simulation({ seed, protocol: createClockSyncSpec(), nodes: 5, link: { latency: { kind: 'uniform', minMs: 1, maxMs: 20 } } });
      skew(sim, 1000, 200);
      sim.runFor(30_000);
      let seedWorst = 0;
      for (const id of ['2', '3', '4', '5']) {
        const estimate = sim.annotations(id).get('offsetEstimateMs');
        expect(typeof estimate).toBe('number');
        const errorMs = Math.abs(sim.localNowMs(id) + (estimate as number) - sim.localNowMs('1'));
        seedWorst = Math.max(seedWorst, errorMs);
      }
      worst.push(seedWorst);
      // latency 1..20 ms each way: asymmetry at most 19 ms, so error <= 9.5 ms plus drift since the sample (< 1 ms)
      expect(seedWorst).toBeLessThanOrEqual(10.5);
    }
    const mean = worst.reduce((a, b) => a + b, 0) / worst.length;
    expect(mean).toBeLessThan(8); // the minimum-delay filter does much better than the bound on average
  });
});
