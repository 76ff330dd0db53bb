// The consensus benchmark's pure parts and its measuring functions at tiny sizes: argument
// parsing, the statistics, the time scale of the CPU model, one short load run and one leader
// crash per protocol with sane numbers, and the report and figure built from them. Virtual time
// only; no wall-clock timing is asserted.
import { describe, expect, it } from 'vitest';
import { BenchUsageError, parseConsensusArgs, pool, recoverySvg, reportLines, saturationRuns, type ConsensusBenchOptions, type RecoveryResult } from '../bench/consensus.js';
import { CONSENSUS_DEFAULTS, measureLoad, quantile, recoveryTrial, summarize, timeScale, type ConsensusProtocol, type LoadResult } from '../bench/lib/consensus-measure.js';

describe('consensus benchmark: arguments', () => {
  it('defaults to every part, 3 seeds, 500 crashes, the default config, figures on', () => {
    const o = parseConsensusArgs([]);
    expect([...o.parts]).toEqual(['steady', 'saturation', 'recovery', 'flaky']);
    expect(o).toMatchObject({ quick: false, json: false, help: false, figures: true, seeds: 3, trials: 500 });
    expect(o.config).toBe(CONSENSUS_DEFAULTS);
  });

  it('--quick shortens everything and writes no figure; --only, --seeds, --trials, --latency, --fsync, --network', () => {
    const q = parseConsensusArgs(['--quick', '--json']);
    expect(q).toMatchObject({ quick: true, json: true, figures: false, seeds: 1, trials: 40 });
    expect(q.flakyMs.window).toBeLessThan(parseConsensusArgs([]).flakyMs.window);
    const o = parseConsensusArgs(['--only', 'recovery,flaky', '--seeds', '2', '--trials', '7', '--latency', '1-5', '--fsync', '0', '--network', 'jitter']);
    expect([...o.parts]).toEqual(['recovery', 'flaky']);
    expect(o).toMatchObject({ seeds: 2, trials: 7, figures: false });
    expect(o.config).toMatchObject({ latency: { minMs: 1, maxMs: 5 }, fsyncMs: 0, network: 'jitter' });
    expect(parseConsensusArgs(['--only', 'steady', '--figures']).figures).toBe(true);
    expect(parseConsensusArgs(['--no-figures']).figures).toBe(false);
    expect(parseConsensusArgs(['-h']).help).toBe(true);
  });

  it('refuses what it does not know', () => {
    for (const bad of [['--nope'], ['--only', 'speed'], ['--only'], ['--seeds', '0'], ['--trials', 'x'], ['--latency', '9-6'], ['--latency', '6'], ['--fsync', '-1'], ['--network', 'udp']]) {
      expect(() => parseConsensusArgs(bad), bad.join(' ')).toThrow(BenchUsageError);
    }
  });

  it('measures saturation for every protocol with and without a CPU, and Raft further', () => {
    const runs = saturationRuns(false);
    expect(runs.filter((r) => r.clients === 128)).toHaveLength(6);
    expect(runs.at(-1)).toEqual({ protocol: 'raft', clients: 512, cpu: true });
  });
});

describe('consensus benchmark: statistics', () => {
  it('nearest-rank quantiles and summaries', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(xs, 0.5)).toBe(50);
    expect(quantile(xs, 0.99)).toBe(99);
    expect(quantile(xs, 1)).toBe(100);
    expect(quantile([7], 0.99)).toBe(7);
    expect(quantile([], 0.5)).toBeNaN();
    expect(summarize([3, 1, 2])).toEqual({ count: 3, mean: 2, p50: 2, p90: 3, p99: 3, max: 3 });
    expect(summarize([]).count).toBe(0);
  });

  it('runs a CPU cost below 1 ms on a finer clock', () => {
    expect(timeScale(CONSENSUS_DEFAULTS)).toBe(1);
    expect(timeScale({ ...CONSENSUS_DEFAULTS, cpuMsPerInput: 0.1 })).toBe(10);
    expect(timeScale({ ...CONSENSUS_DEFAULTS, cpuMsPerInput: 0.5 })).toBe(2);
    expect(timeScale({ ...CONSENSUS_DEFAULTS, cpuMsPerInput: 2 })).toBe(1);
    expect(() => timeScale({ ...CONSENSUS_DEFAULTS, cpuMsPerInput: 0.3 })).toThrow(RangeError);
    expect(() => timeScale({ ...CONSENSUS_DEFAULTS, cpuMsPerInput: 1.5 })).toThrow(RangeError);
  });

  it('pools seeds: latencies together, rates averaged, counts summed', () => {
    const one = (rate: number, latencies: number[], changes: number): LoadResult => ({
      protocol: 'raft',
      seed: 1,
      load: { kind: 'open', rate: 200 },
      fault: undefined,
      windowMs: 1000,
      committedPerSecond: rate,
      committed: rate,
      failed: 1,
      unknown: 0,
      latencyMs: summarize(latencies),
      latenciesMs: latencies,
      perCommand: { messages: 10, heartbeatMessages: 2, selfMessages: 0, writes: 5, records: 5, busiestNodeInputs: 6, byType: {} },
      leaderChanges: changes,
    });
    const p = pool([one(100, [1, 2], 1), one(300, [3, 4], 2)]);
    expect(p).toMatchObject({ runs: 2, committedPerSecond: 200, failed: 2, leaderChanges: 3, perCommand: { messages: 10, writes: 5 } });
    expect(p.latencyMs).toMatchObject({ count: 4, p50: 2, max: 4 });
  });
});

describe('consensus benchmark: measuring', () => {
  const protocols: readonly ConsensusProtocol[] = ['raft', 'multi-paxos', 'flexible-paxos'];

  for (const protocol of protocols) {
    it(`${protocol}: a short fixed load commits it all, with sane latency, messages and writes`, () => {
      const r = measureLoad({ protocol, seed: 1, load: { kind: 'open', rate: 200 }, warmupMs: 300, windowMs: 1000 });
      expect(r.committedPerSecond).toBeGreaterThan(150);
      expect(r.committedPerSecond).toBeLessThan(260);
      expect(r.failed + r.unknown).toBe(0);
      // at least a round trip between nodes (2 x 6 ms) and the client's two legs; far below a timeout
      expect(r.latencyMs.p50).toBeGreaterThanOrEqual(14);
      expect(r.latencyMs.p99).toBeLessThan(100);
      // a leader's proposal and an answer from each of 4 followers, at least; every node writes
      expect(r.perCommand.messages).toBeGreaterThan(8);
      expect(r.perCommand.heartbeatMessages).toBeGreaterThan(0);
      expect(r.perCommand.writes).toBeGreaterThan(4);
      expect(r.perCommand.writes).toBeLessThanOrEqual(5.5);
      expect(r.leaderChanges).toBe(0);
      expect(r.latenciesMs).toHaveLength(r.latencyMs.count);
    });
  }

  it('with a CPU cost the numbers stay in benchmark ms', () => {
    const r = measureLoad({ protocol: 'raft', seed: 2, load: { kind: 'closed', clients: 4 }, warmupMs: 200, windowMs: 500, config: { ...CONSENSUS_DEFAULTS, cpuMsPerInput: 0.5 } });
    expect(r.latencyMs.p50).toBeGreaterThan(14);
    expect(r.latencyMs.p50).toBeLessThan(60);
    expect(r.committedPerSecond).toBeGreaterThan(50);
  });

  it('a leader crash: a new leader, then a command it commits, in a few hundred ms', () => {
    const recovery: Partial<Record<ConsensusProtocol, RecoveryResult>> = {};
    for (const protocol of ['raft', 'multi-paxos'] as const) {
      const raw = [1, 2].map((seed) => recoveryTrial({ protocol, seed, rate: 200 }));
      for (const t of raw) {
        // no new leader before an election timeout (150 ms) has passed
        expect(t.electedMs).toBeGreaterThanOrEqual(150);
        expect(t.commitMs).toBeGreaterThan(t.electedMs);
        expect(t.commitMs).toBeLessThan(2000);
      }
      recovery[protocol] = { trials: raw.length, electedMs: summarize(raw.map((t) => t.electedMs)), commitMs: summarize(raw.map((t) => t.commitMs)), raw };
    }
    const o: ConsensusBenchOptions = { ...parseConsensusArgs(['--quick']), trials: 2 };
    const svg = recoverySvg(recovery, o);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Multi-Paxos (2)');
    const lines = reportLines(o, { recovery });
    expect(lines.some((l) => l.startsWith('| multi-paxos |'))).toBe(true);
  });

  it('a flapping follower moves Multi-Paxos leadership but not Raft with pre-vote', () => {
    const fault = { kind: 'flapping-node', downMs: 400, everyMs: 2000 } as const;
    const raft = measureLoad({ protocol: 'raft', seed: 1, load: { kind: 'open', rate: 100 }, warmupMs: 300, windowMs: 2500, fault });
    const paxos = measureLoad({ protocol: 'multi-paxos', seed: 1, load: { kind: 'open', rate: 100 }, warmupMs: 300, windowMs: 2500, fault });
    expect(raft.leaderChanges).toBe(0);
    expect(paxos.leaderChanges).toBeGreaterThanOrEqual(1);
    expect(paxos.committedPerSecond).toBeGreaterThan(50);
  });
});
