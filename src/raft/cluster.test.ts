// Tests of the simulated-cluster API and of whole-cluster properties that are not scenarios:
// determinism, message counts, client retries and history outcomes, lease reads versus clock
// faults, and random fault schedules (fast-check) that must leave a linearizable history.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RaftCluster } from './cluster.js';
import type { RaftOptions } from './types.js';

function sent(c: RaftCluster): number {
  return c.sim.stats.total.sent;
}

describe('determinism', () => {
  it('the same seed gives the same trace, byte for byte; another seed does not', () => {
    const run = (seed: number): string => {
      const c = new RaftCluster({ seed, nodes: 5, trace: { keepLines: false }, link: { lossRate: 0.05, reorderRate: 0.1 }, fsyncMs: 1 });
      c.waitForLeader();
      const client = c.client('a');
      for (let i = 0; i < 5; i++) c.exec({ op: 'incr', key: 'n' }, client);
      c.crash(c.leader() as string);
      c.runFor(1000);
      c.exec({ op: 'get', key: 'n' }, client);
      return c.traceSha256() as string;
    };
    expect(run(11)).toBe(run(11));
    expect(run(11)).not.toBe(run(12));
  });
});

describe('message counts', () => {
  it('an election, ten agreements and an idle second each cost a bounded number of messages', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const c = new RaftCluster({ seed, nodes: 3 });
      const leader = c.waitForLeader(3000);
      expect(leader).toBeDefined();
      // one election: pre-votes, votes and the first append round, a few heartbeats at most
      expect(sent(c)).toBeLessThanOrEqual(40);
      const client = c.client('a');
      c.exec({ op: 'put', key: 'warm', value: 0 }, client);
      const before = sent(c);
      const startMs = c.nowMs;
      for (let i = 0; i < 10; i++) expect(c.exec({ op: 'put', key: `k${i}`, value: i }, client).outcome).toBe('ok');
      // each agreement: an append and its answer per follower, and the leader's probe of its own
      // sync (a message to itself); heartbeats continue meanwhile
      const heartbeatsDuring = Math.ceil((c.nowMs - startMs) / 15 + 1) * 2 * 2;
      expect(sent(c) - before).toBeLessThanOrEqual(10 * (2 * 2 + 1) + heartbeatsDuring);
      const idleStart = sent(c);
      c.runFor(1000);
      // idle: one heartbeat and one answer per follower per 15 ms tick
      expect(sent(c) - idleStart).toBeLessThanOrEqual(Math.ceil(1000 / 15 + 1) * 2 * 2);
      expect(c.node(leader as string).term).toBe(c.node(c.leader() as string).term);
    }
  });

  it('fast backtracking repairs 50+ divergent entries with few rejected appends', () => {
    const c = new RaftCluster({ seed: 7, nodes: 5 });
    const l1 = c.waitForLeader() as string;
    const others = c.nodeIds.filter((id) => id !== l1);
    c.partition([[l1, others[0] as string], others.slice(1)]);
    const stale = c.client('stale');
    for (let i = 0; i < 60; i++) {
      stale.submit({ op: 'put', key: `s${i}`, value: i }, { target: l1, retry: false });
      c.runUntil(() => !stale.busy, 1000);
    }
    c.runUntil(() => c.readyLeader() !== undefined && c.readyLeader() !== l1, 3000);
    const client = c.client('main');
    for (let i = 0; i < 60; i++) expect(c.exec({ op: 'put', key: `m${i}`, value: i }, client).outcome).toBe('ok');
    const rejectsBefore = c.sim.stats.byType.get('appendResp')?.sent ?? 0;
    c.heal();
    expect(c.runUntil(() => c.caughtUp() && c.node(l1).commit === c.node(c.readyLeader() as string).commit, 3000)).toBe(true);
    const answers = (c.sim.stats.byType.get('appendResp')?.sent ?? 0) - rejectsBefore;
    expect(answers).toBeLessThan(40);
    expect(c.violations()).toEqual([]);
  });
});

describe('clients and history', () => {
  it('records every operation; a retried command applies once even across a leader crash', () => {
    const c = new RaftCluster({ seed: 3, nodes: 3, fsyncMs: 1 });
    const leader = c.waitForLeader() as string;
    const client = c.client('a');
    c.exec({ op: 'put', key: 'n', value: 0 }, client);
    const handle = client.submit({ op: 'incr', key: 'n' });
    c.runFor(2); // the proposal reaches the leader, then the leader dies
    c.crash(leader);
    c.runUntil(() => handle.done, 5000);
    c.restart(leader);
    expect(handle.outcome === 'ok' || handle.outcome === 'unknown').toBe(true);
    const read = c.exec({ op: 'get', key: 'n' }, client);
    expect(read.outcome).toBe('ok');
    expect([0, 1]).toContain((read.result as { value: number }).value);
    if (handle.outcome === 'ok') expect((read.result as { value: number }).value).toBe(1);
    expect(c.history().ops.map((o) => o.f)).toEqual(['put', 'incr', 'get']);
    expect(c.checkLinearizability().verdict).toBe('linearizable');
  });

  it('with every node down, a command ends unknown and a read ends fail', () => {
    const c = new RaftCluster({ seed: 4, nodes: 3, client: { opTimeoutMs: 800 } });
    c.waitForLeader();
    c.crashAll();
    expect(c.exec({ op: 'put', key: 'a', value: 1 }, c.client('w')).outcome).toBe('unknown');
    expect(c.exec({ op: 'get', key: 'a' }, c.client('r')).outcome).toBe('fail');
  });

  it('exposes each node: role, term, vote, log, commit and applied', () => {
    const c = new RaftCluster({ seed: 5, nodes: 3 });
    const leader = c.waitForLeader() as string;
    c.exec({ op: 'put', key: 'a', value: 1 });
    c.runFor(50);
    for (const view of c.nodes()) {
      expect(view.up).toBe(true);
      expect(view.role).toBe(view.id === leader ? 'leader' : 'follower');
      expect(view.log.map((e) => e.kind)).toEqual(['noop', 'command']);
      expect(view).toMatchObject({ commit: 2, applied: 2, lastIndex: 2, leader, voters: ['1', '2', '3'] });
    }
    c.crash('1');
    expect(c.node('1')).toMatchObject({ up: false });
  });

  it('refuses to check a history with writes outside the kv model', () => {
    const c = new RaftCluster({ seed: 6, nodes: 3 });
    c.waitForLeader();
    c.exec({ op: 'casVersion', key: 'a', version: 0, value: 1 });
    c.exec({ op: 'range', prefix: '' });
    expect(() => c.checkLinearizability()).toThrow(/outside the kv model/);
  });
});

describe('reads', () => {
  /**
   * The leader is cut off and frozen; meanwhile its clock is set back by the length of the
   * freeze, the others elect a new leader and a write commits there; then a read reaches the
   * old leader. Lease reads trust the clock and answer from stale state; ReadIndex asks a quorum.
   */
  function staleReadExperiment(readMode: RaftOptions['readMode']): { verdict: string; readOutcome: string | undefined } {
    const c = new RaftCluster({ seed: 9, nodes: 5, raft: { readMode } });
    const old = c.waitForLeader() as string;
    const writer = c.client('w');
    c.exec({ op: 'put', key: 'x', value: 1 }, writer);
    c.runFor(30);
    const frozenAt = c.nowMs;
    c.isolate(old);
    c.pause(old, 1000);
    c.setClock(old, -1000);
    c.runUntil(() => c.readyLeader() !== undefined && c.readyLeader() !== old, 900);
    expect(c.exec({ op: 'put', key: 'x', value: 2 }, writer).outcome).toBe('ok');
    c.runUntil(() => false, frozenAt + 950 - c.nowMs); // the read arrives just before the old leader wakes up
    const reader = c.client('r');
    const read = reader.submit({ op: 'get', key: 'x' }, { target: old, retry: false });
    c.runUntil(() => read.done, 2000);
    return { verdict: c.checkLinearizability().verdict, readOutcome: read.outcome };
  }

  it('lease reads depend on bounded clock drift: a clock set back lets a deposed leader read stale data', () => {
    expect(staleReadExperiment('lease')).toEqual({ verdict: 'not-linearizable', readOutcome: 'ok' });
  });

  it('ReadIndex reads stay linearizable under the same fault', () => {
    expect(staleReadExperiment('readIndex')).toEqual({ verdict: 'linearizable', readOutcome: 'fail' });
  });
});

describe('random fault schedules (property)', () => {
  type Fault = { kind: 'crash' | 'restart' | 'isolate'; node: number } | { kind: 'heal' } | { kind: 'run'; ms: number };
  const faultArb: fc.Arbitrary<Fault> = fc.oneof(
    fc.record({ kind: fc.constantFrom('crash' as const, 'restart' as const, 'isolate' as const), node: fc.integer({ min: 1, max: 5 }) }),
    fc.constant({ kind: 'heal' as const }),
    fc.record({ kind: fc.constant('run' as const), ms: fc.integer({ min: 1, max: 400 }) }),
  );

  it('any schedule of crashes, restarts and partitions under concurrent clients keeps every monitor quiet and the history linearizable', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.array(faultArb, { maxLength: 25 }), (seed, faults) => {
        const c = new RaftCluster({ seed, nodes: 5, fsyncMs: 1, raft: { snapshotThresholdEntries: 30 } });
        const clients = [c.client('a'), c.client('b'), c.client('c')];
        let n = 0;
        let stopped = false;
        const keepBusy = (): void => {
          if (stopped) return;
          for (const k of clients) if (!k.busy) k.submit(n % 3 === 0 ? { op: 'get', key: 'x' } : { op: 'put', key: 'x', value: ++n });
          n++;
          c.sim.after(7, keepBusy);
        };
        keepBusy();
        for (const f of faults) {
          if (f.kind === 'run') c.runFor(f.ms);
          else if (f.kind === 'heal') c.heal();
          else if (f.kind === 'isolate') c.isolate(String(f.node));
          else if (f.kind === 'crash') c.crash(String(f.node));
          else c.restart(String(f.node));
        }
        stopped = true;
        c.runUntil(() => clients.every((k) => !k.busy), 5000);
        c.settle();
        expect(c.violations()).toEqual([]);
        expect(c.checkLinearizability().verdict).toBe('linearizable');
      }),
      { numRuns: 25 },
    );
  });
});

describe('snapshot on request', () => {
  it('compacts the asked node\'s log at its applied index, durably: a restart comes back from it', () => {
    const cluster = new RaftCluster({ seed: 21, nodes: 3, raft: { snapshotThresholdEntries: 0 } });
    const leader = cluster.waitForLeader() as string;
    for (let i = 0; i < 20; i++) cluster.exec({ op: 'put', key: `k${i}`, value: i });
    cluster.runFor(1000);
    const follower = cluster.sim.nodeIds.find((id) => id !== leader) as string;
    expect(cluster.node(follower).snapshotIndex).toBe(0); // the threshold is off: nothing compacts by itself
    let answer: unknown;
    cluster.sim.request(follower, { type: 'snapshot' }, { timeoutMs: 1000 }, (r) => (answer = r));
    cluster.runFor(100);
    const applied = cluster.node(follower).applied;
    expect(answer).toMatchObject({ ok: true, index: applied });
    expect(cluster.node(follower).snapshotIndex).toBe(applied);
    expect(cluster.node(follower).log.length).toBe(0);
    cluster.crash(follower);
    cluster.restart(follower);
    cluster.runFor(500);
    expect(cluster.node(follower).snapshotIndex).toBe(applied);
    expect(cluster.core(follower)?.queryLocal({ op: 'get', key: 'k19' })).toMatchObject({ value: 19 });
    expect(cluster.violations()).toEqual([]);
  });
});

describe('membership', () => {
  it('a node removed and added back with an empty disk catches up (the leader forgets what it matched before)', () => {
    const c = new RaftCluster({ seed: 5, nodes: 3, fsyncMs: 1 });
    const leader = c.waitForLeader() as string;
    const client = c.client('a');
    for (let i = 0; i < 20; i++) c.exec({ op: 'put', key: `k${i}`, value: i }, client);
    const victim = c.nodeIds.find((id) => id !== leader) as string;
    c.runFor(200);
    expect(c.admin('removeNode', victim).ok).toBe(true);
    // its data directory is lost: everything on its disk is gone before it comes back
    c.crash(victim);
    c.sim.disk(victim).discardBefore('core', c.sim.disk(victim).read('core').length);
    c.restart(victim);
    // added back within the leader's departing window, while it still remembers the old match index
    expect(c.admin('addLearner', victim).ok).toBe(true);
    const commit = (c.core(leader)?.status().commit ?? 0);
    c.runUntil(() => (c.core(victim)?.status().applied ?? 0) >= commit, 5000);
    expect(c.core(victim)?.status().applied).toBeGreaterThanOrEqual(commit);
  });
});
