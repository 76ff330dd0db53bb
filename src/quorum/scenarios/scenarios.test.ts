// The store's guided scenarios on their recorded seeds reach their outcomes, run at once and driven
// as the visualizer drives them, with the fan-out, repairs, hints and stale reads the panels show;
// watching the cores changes nothing (same trace as QuorumCluster); the staleness judge's edges.
import { describe, expect, it } from 'vitest';
import type { DkvOp, DkvWriteOp } from '../../check/dkv/index.js';
import { QuorumCluster } from '../sim/cluster.js';
import { storeKeyOf } from '../requests.js';
import { liveValues, QUORUM_SCENARIOS, quorumScenarioByName, QuorumStage, QuorumTracker, readVerdicts, runQuorumScenario, STAGE_BUCKET, type QuorumScenario, type QuorumScenarioResult, type TrackedRequest } from './index.js';

const named = (name: string): QuorumScenario => quorumScenarioByName(name) as QuorumScenario;
const X = storeKeyOf(STAGE_BUCKET, 'x');

/** The names a scenario's placement step bound: H1..H3 and S1, S2 for key x. */
function names(r: QuorumScenarioResult): Record<'H1' | 'H2' | 'H3' | 'S1' | 'S2', string> {
  const [H1, H2, H3, S1, S2] = r.stage.preferenceList(X) as [string, string, string, string, string];
  return { H1, H2, H3, S1, S2 };
}

const req = (r: QuorumScenarioResult, name: string): TrackedRequest => r.steps.named.get(name) as TrackedRequest;
const legs = (rec: TrackedRequest, pick: (l: TrackedRequest['legs'][number]) => boolean): string[] => rec.legs.filter(pick).map((l) => l.node).sort();

describe.each(QUORUM_SCENARIOS.map((s) => [s.name, s] as const))('scenario %s', (_name, scenario) => {
  it(`reaches its recorded outcome on seed ${scenario.seed}`, () => {
    const r = runQuorumScenario(scenario);
    expect(r.failure).toBeUndefined();
    expect(r.mismatches).toEqual([]);
    expect(r.stage.underReplicated).toEqual([]);
    expect(r.stage.tracker.dotConflicts).toEqual([]);
    expect(r.stage.nowMs).toBeLessThan(scenario.endMs);
  });

  it('reaches the same outcome driven as the visualizer drives it', () => {
    const run = runQuorumScenario(scenario);
    const driven = runQuorumScenario(scenario, { driver: 'drive' });
    expect(driven.failure).toBeUndefined();
    expect(driven.outcome).toEqual(run.outcome);
    expect(driven.stage.readVerdicts()).toEqual(run.stage.readVerdicts());
    const fanOut = (r: QuorumScenarioResult) => r.stage.tracker.requests.map((q) => [q.op, q.via, q.coordinator, q.legs.map((l) => [l.node, l.standsInFor, l.counted, l.answeredMs !== null, l.repairedMs !== null])]);
    expect(fanOut(driven)).toEqual(fanOut(run));
  });
});

describe('what each scenario shows', () => {
  it('a write: the coordinator’s own copy and one acknowledgement count toward W = 2, the third is late; a non-home node forwards', () => {
    const r = runQuorumScenario(named('quorum-write-fan-out'));
    const n = names(r);
    const first = req(r, 'first');
    expect(first.coordinator).toBe(n.H1);
    expect(first.needed).toBe(2);
    expect(legs(first, () => true)).toEqual([n.H1, n.H2, n.H3].sort());
    expect(first.legs.find((l) => l.self)?.node).toBe(n.H1);
    expect(first.legs.filter((l) => l.counted)).toHaveLength(2);
    expect(first.legs.filter((l) => !l.counted && l.answeredMs !== null)).toHaveLength(1);
    const second = req(r, 'second');
    expect(second.via).toBe(n.S1);
    expect(second.forwardedTo).toBe(second.coordinator);
    expect([n.H1, n.H2, n.H3]).toContain(second.coordinator);
    // v2 was written with v1's context: it replaced v1 everywhere, no sibling
    for (const h of [n.H1, n.H2, n.H3]) expect(r.stage.node(h)?.stateOf(X)).toMatchObject({ siblings: [{ value: 'v2' }] });
  });

  it('read repair: H3 answered nothing, the read answered v1 after R = 2 answers, and H3 alone was repaired', () => {
    const r = runQuorumScenario(named('quorum-read-repair'));
    const n = names(r);
    const read = req(r, 'read');
    expect(read.coordinator).toBe(n.S1);
    expect(read.legs.find((l) => l.node === n.H3)?.values).toEqual([]);
    expect(legs(read, (l) => l.repairedMs !== null)).toEqual([n.H3]);
    expect(r.stage.tracker.repairs.map((x) => [x.kind, x.node, x.from])).toEqual([['read', n.H3, n.S1]]);
    expect(r.stage.tracker.hints).toEqual([]);
  });

  it('sloppy quorum: S1 acknowledged for the crashed H3 with a hint, which it delivered when H3 came back', () => {
    const r = runQuorumScenario(named('quorum-sloppy-hint'));
    const n = names(r);
    const write = req(r, 'write');
    // H3 is asked too (the coordinator's view may be stale) but never answers
    expect(write.legs.map((l) => [l.node, l.standsInFor, l.counted, l.answeredMs !== null])).toEqual([
      [n.H1, null, true, true],
      [n.H2, null, true, true],
      [n.H3, null, false, false],
      [n.S1, n.H3, true, true],
    ]);
    // S1's hint at once; the coordinator's own when the request timed out without H3
    expect(write.hints).toEqual([
      { holder: n.S1, target: n.H3 },
      { holder: n.H1, target: n.H3 },
    ]);
    for (const hint of r.stage.tracker.hints) {
      expect(hint).toMatchObject({ target: n.H3, key: X });
      expect(hint.deliveredMs).toBeGreaterThan(hint.parkedMs);
    }
    expect(liveValues(r.stage.node(n.H3)?.stateOf(X))).toEqual(['v1']);
    // S1 is no replica of x: it kept the write only as a hint
    expect(r.stage.node(n.S1)?.stateOf(X)).toBeUndefined();
  });

  it('siblings: two blind writes are both kept, a read returns both with a context, a write with it leaves one value', () => {
    const r = runQuorumScenario(named('quorum-siblings'));
    const read = req(r, 'read').response;
    expect(read).toMatchObject({ ok: true, op: 'get', siblings: 2 });
    expect(read?.ok === true && read.op === 'get' ? [...read.values].sort() : []).toEqual(['a', 'b']);
    const n = names(r);
    for (const h of [n.H1, n.H2, n.H3]) expect(r.stage.node(h)?.stateOf(X)).toMatchObject({ siblings: [{ value: 'ab' }] });
    expect(req(r, 'after').response).toMatchObject({ ok: true, values: ['ab'], siblings: 1 });
  });

  it('stale reads: through another home replica always stale, through the writer always fresh, from outside sometimes', () => {
    const r = runQuorumScenario(named('quorum-stale-reads'));
    const n = names(r);
    const reads = r.stage.tracker.requests.filter((q) => q.op === 'get');
    const verdicts = r.stage.readVerdicts();
    const byVia = reads.map((q, i) => [Object.entries(n).find(([, id]) => id === q.via)?.[0], verdicts[i]?.verdict]);
    expect(byVia).toEqual([
      ['H2', 'stale'],
      ['S1', 'fresh'],
      ['H1', 'fresh'],
      ['S2', 'stale'],
      ['H3', 'stale'],
      ['S1', 'stale'],
    ]);
    // each stale read missed exactly the write just before it (the rounds are 400 ms apart)
    const writes = r.stage.ops.filter((op) => op.kind === 'write');
    verdicts.forEach((v, i) => {
      const w = writes[i];
      expect(v.missed).toEqual(v.verdict === 'stale' && w?.kind === 'write' && w.dot !== null ? [`${w.dot.actor}:${w.dot.counter}`] : []);
    });
    // a read through another home replica answered from that replica's own copy alone
    const viaH2 = reads[0] as TrackedRequest;
    expect(viaH2.legs.filter((l) => l.counted).map((l) => [l.node, l.self])).toEqual([[n.H2, true]]);
  });

  it('anti-entropy: H3 got the last write from a Merkle exchange, with no read and no hint', () => {
    const r = runQuorumScenario(named('quorum-anti-entropy'));
    const n = names(r);
    expect(r.stage.tracker.repairs.filter((x) => x.node === n.H3).map((x) => x.kind)).toEqual(['anti-entropy']);
    expect(r.stage.tracker.requests.filter((q) => q.op === 'get')).toEqual([]);
    expect(r.stage.tracker.hints).toEqual([]);
    expect(r.stage.node(n.H3)?.stateOf(X)).toMatchObject({ siblings: [{ value: 'v3' }] });
  });
});

describe('the stage', () => {
  it('watching the cores changes nothing: the same trace as QuorumCluster under the same faults and requests', () => {
    const config = { antiEntropyIntervalMs: 100, sloppyQuorum: true };
    const cluster = new QuorumCluster({ seed: 9, nodes: 5, config });
    const stage = new QuorumStage({ seed: 9, nodes: 5, config });
    for (const c of [cluster, stage]) {
      c.runFor(100);
      c.crash('3');
      c.sim.request('1', { op: 'put', bucket: 'b', key: 'k', value: 'v', w: 'all' }, { timeoutMs: 900, process: 'p' }, () => undefined);
      c.runFor(700);
      c.restart('3');
      c.partition([['1', '2'], ['3', '4', '5']]);
      c.sim.request('4', { op: 'get', bucket: 'b', key: 'k' }, { timeoutMs: 900, process: 'p' }, () => undefined);
      c.runFor(500);
      c.heal();
      c.runFor(1500);
    }
    expect(stage.traceSha256()).toBe(cluster.traceSha256());
    expect(stage.converged()).toBe(cluster.converged());
  });

  it('places keys as the nodes do', () => {
    const stage = new QuorumStage({ seed: 1, nodes: 6 });
    for (const k of ['x', 'y', 'user/42', 'é']) {
      const key = storeKeyOf(STAGE_BUCKET, k);
      for (const id of stage.nodeIds) expect(stage.node(id)?.preferenceList(key)).toEqual(stage.preferenceList(key));
    }
  });

  it('the tracker reports a dot that comes to name a second version', () => {
    const tracker = new QuorumTracker(() => 0, { replicas: 3, readQuorum: 2, writeQuorum: 2, requestTimeoutMs: 300 });
    const persist = (node: string, value: string): void => {
      const state = { kind: 'dvv' as const, vv: [['1', 1]] as const, siblings: [{ dot: { actor: '1', counter: 1 }, value }] };
      tracker.output(node, undefined as never, { kind: 'tick' }, { kind: 'persist', op: { op: 'state', key: X, state } });
    };
    persist('1', 'a');
    persist('2', 'a');
    expect(tracker.dotConflicts).toEqual([]);
    persist('3', 'b');
    expect(tracker.dotConflicts).toEqual([`dot 1:1 of ${X} names "a" and, on 3, "b"`]);
  });

  it('a seed replays byte for byte', () => {
    const trace = () => runQuorumScenario(named('quorum-stale-reads'), { seed: 4, trace: {} }).stage.traceSha256();
    expect(trace()).toBe(trace());
  });
});

describe('readVerdicts', () => {
  const write = (endMs: number, counter: number): DkvWriteOp => ({ kind: 'write', client: 'w', key: 'k', value: `v${counter}`, contextIn: [], startMs: endMs - 5, endMs, outcome: 'ok', dot: { actor: 'a', counter }, contextOut: [['a', counter]] });
  const read = (startMs: number, seen: number): DkvOp => ({ kind: 'read', client: 'r', key: 'k', startMs, endMs: startMs + 5, outcome: 'ok', values: [], context: seen === 0 ? [] : [['a', seen]] });

  it('a read is stale only for acknowledged writes that ended strictly before it began and that its context misses', () => {
    const ops: DkvOp[] = [
      write(10, 1),
      read(10, 0), // began in the millisecond the write ended: concurrent, fresh
      read(11, 0), // stale: missed a:1
      read(11, 1), // fresh: saw it
      { ...write(20, 2), outcome: 'unknown', dot: null },
      read(30, 1), // the unknown write is no reason to be stale
      { kind: 'read', client: 'r', key: 'k', startMs: 40, endMs: 45, outcome: 'fail', values: [], context: null },
      { ...read(50, 0), key: 'other' },
    ];
    expect(readVerdicts(ops).map((v) => [v.index, v.verdict, v.missed])).toEqual([
      [1, 'fresh', []],
      [2, 'stale', ['a:1']],
      [3, 'fresh', []],
      [5, 'fresh', []],
      [6, 'failed', []],
      [7, 'fresh', []],
    ]);
  });
});
