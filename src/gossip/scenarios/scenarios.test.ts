// The gossip group's guided scenarios on their recorded seeds reach their outcomes, run at once and
// driven as the visualizer drives them: the epidemic's round-by-round spread against log N, a
// paused member's probe escalating to ping-req, its suspicion and refutation, a crash declared
// dead everywhere, and documents converging after a partition heals; watching changes nothing.
import { describe, expect, it } from 'vitest';
import { GOSSIP_SIM_CONFIG, GossipCluster } from '../sim/cluster.js';
import { firstSeeds, GOSSIP_SCENARIOS, GOSSIP_STAGE_CONFIG, GOSSIP_STAGE_LINK, GOSSIP_STAGE_SEEDS, gossipScenarioByName, GossipStage, runGossipScenario, seedSpec, type GossipScenario, type GossipScenarioResult } from './index.js';

const named = (name: string): GossipScenario => gossipScenarioByName(name) as GossipScenario;
const results = new Map<string, GossipScenarioResult>();
/** Each scenario run once (run to the answer) and shared by the tests below. */
function result(name: string): GossipScenarioResult {
  let r = results.get(name);
  if (r === undefined) results.set(name, (r = runGossipScenario(named(name))));
  return r;
}

describe.each(GOSSIP_SCENARIOS.map((s) => [s.name, s] as const))('scenario %s', (name, scenario) => {
  it(`reaches its recorded outcome on seed ${scenario.seed}`, () => {
    const r = result(name);
    expect(r.failure).toBeUndefined();
    expect(r.mismatches).toEqual([]);
    expect(r.endedMs).toBeLessThan(scenario.endMs);
    for (const id of r.stage.liveIds()) r.stage.node(id)?.membership.checkInvariants();
  });

  // the 256-member epidemic costs seconds per run: it is driven only once, above
  it.skipIf(scenario.nodes > 64)('passes its checks driven as the visualizer drives it', () => {
    const driven = runGossipScenario(scenario, { driver: 'drive' });
    expect(driven.failure).toBeUndefined();
    expect(driven.mismatches).toEqual([]);
  });
});

describe('what each scenario shows', () => {
  it.each([16, 64, 256])('epidemic, %i members: the informed double and more each round, and all have it within 2 log2 N rounds', (n) => {
    const r = result(n === 64 ? 'gossip-epidemic' : `gossip-epidemic-${n}`);
    const spread = r.stage.spread();
    expect(spread).toBeDefined();
    if (spread === undefined) return;
    expect(spread.members).toBe(n);
    expect(spread.informed).toBe(n);
    expect(spread.log2).toBe(Math.ceil(Math.log2(n)));
    expect(spread.rounds).not.toBeNull();
    expect(spread.rounds as number).toBeLessThanOrEqual(2 * spread.log2);
    const counts = spread.perRound.map((p) => p.informed);
    expect(counts[0]).toBe(1);
    expect(counts[counts.length - 1]).toBe(n);
    expect(counts.length).toBe((spread.rounds as number) + 1);
    for (let k = 1; k < counts.length; k++) expect(counts[k]).toBeGreaterThanOrEqual(counts[k - 1] as number);
    // infection-style: most learn it from a gossip message, not from the origin's request or a state exchange
    expect(spread.via.get('gossip') ?? 0).toBeGreaterThan(n / 2);
    // the origin is the member shown
    expect(r.stage.focus).toBe(spread.rumour.origin);
    for (const id of r.stage.liveIds()) expect(r.stage.node(id)?.member(spread.rumour.origin)?.meta).toBe('v2');
  });

  it('probe and suspect: the ping to the paused member escalates to ping-req with nacks, the suspicion spreads, the member refutes and is never dead', () => {
    const r = result('gossip-probe-suspect');
    const t = r.stage.tracker;
    const escalation = t.escalations[0];
    expect(escalation).toBeDefined();
    if (escalation === undefined) return;
    const paused = escalation.target;
    expect(escalation.relays).toHaveLength(GOSSIP_STAGE_CONFIG.indirectChecks);
    expect(escalation.relays).not.toContain(paused);
    expect(escalation.nacks.length).toBeGreaterThan(0);
    expect(t.totals.suspicionsStarted).toBeGreaterThan(0);
    expect(t.totals.refutations).toBeGreaterThan(0);
    const suspect = [...t.milestones.values()].find((m) => m.subject === paused && m.state === 'suspect');
    const back = [...t.milestones.values()].find((m) => m.subject === paused && m.state === 'alive' && m.incarnation > (suspect?.incarnation ?? Infinity));
    expect(suspect).toBeDefined();
    expect(back?.firstMs).toBeGreaterThan(suspect?.firstMs ?? Infinity);
    expect([...t.milestones.values()].filter((m) => m.subject === paused && m.state === 'dead')).toEqual([]);
    const incarnation = r.stage.node(paused)?.incarnation ?? 0;
    expect(incarnation).toBeGreaterThan(suspect?.incarnation ?? Infinity);
    for (const id of r.stage.liveIds()) expect(r.stage.node(id)?.member(paused)).toMatchObject({ state: 'alive', incarnation });
    expect(t.story.map((l) => l.text)).toContain(`refutes: it is alive, and says so at a higher incarnation, ${incarnation}`);
  });

  it('crash detected: suspect first, then dead on every live member, nobody refuting', () => {
    const r = result('gossip-crash-detected');
    const t = r.stage.tracker;
    const [crashed] = [...r.stage.crashedForGood];
    expect(crashed).toBeDefined();
    const suspect = [...t.milestones.values()].find((m) => m.subject === crashed && m.state === 'suspect');
    const dead = [...t.milestones.values()].find((m) => m.subject === crashed && m.state === 'dead');
    expect(suspect?.firstMs).toBeLessThan(dead?.firstMs ?? -1);
    expect(dead?.allMs).not.toBeNull();
    expect(t.escalations.some((p) => p.target === crashed && p.ackedMs === null)).toBe(true);
    for (const id of r.stage.liveIds()) expect(r.stage.node(id)?.member(crashed as string)?.state).toBe('dead');
    expect(r.stage.liveIds()).toHaveLength(15);
  });

  it('partition, heal, CRDT: both sides changed the document, and after the heal every live document is the join', () => {
    const r = result('gossip-partition-heal-crdt');
    const docs = r.stage.documents();
    expect(docs).toHaveLength(10);
    expect(new Set(docs.map((d) => d.canonical)).size).toBe(1);
    expect(docs[0]?.entries).toEqual([
      { kind: 'counter', name: 'hits', value: 7 },
      { kind: 'register', name: 'mode', value: ['a', 'b'] },
      { kind: 'set', name: 'tags', value: ['blue', 'red'] },
    ]);
    expect(r.stage.docProblems()).toEqual([]);
    expect(r.stage.changes.map((c) => [c.node, c.outcome])).toEqual([
      ['1', 'ok'],
      ['6', 'ok'],
      ['2', 'ok'],
      ['7', 'ok'],
      ['3', 'ok'],
      ['8', 'ok'],
    ]);
    // the sides held each other dead while cut off
    expect(r.stage.tracker.totals.deadDeclared).toBeGreaterThan(0);
  });
});

describe('the stage', () => {
  it('watching the members changes nothing: the same trace as a cluster booted on the same seeds', () => {
    const run = (cluster: GossipCluster): string | undefined => {
      cluster.runFor(600);
      cluster.pause('4', 700);
      cluster.request('2', { op: 'set-meta', meta: 'x' }, () => undefined);
      cluster.request('6', { op: 'crdt-change', change: { kind: 'counter', name: 'c', action: 'incr', amount: 2 } }, () => undefined);
      cluster.runFor(2_000);
      return cluster.traceSha256();
    };
    const watched = run(new GossipStage({ seed: 5, nodes: 9, trace: {} }));
    const seeds = firstSeeds(GOSSIP_STAGE_SEEDS);
    const plain = run(new GossipCluster({ seed: 5, nodes: 9, config: GOSSIP_STAGE_CONFIG, link: GOSSIP_STAGE_LINK, crdt: {}, trace: {}, wrapSpec: (spec) => seedSpec(spec, seeds) }));
    expect(watched).toBeDefined();
    expect(watched).toBe(plain);
  });

  it('its settings are the simulator’s with LAN’s retransmitMult and a full exchange every second', () => {
    expect(GOSSIP_STAGE_CONFIG).toEqual({ ...GOSSIP_SIM_CONFIG, retransmitMult: 4, pushPullIntervalMs: 1_000 });
  });

  it('a seed replays byte for byte', () => {
    const trace = () => {
      const stage = new GossipStage({ seed: 2, nodes: 12, trace: {} });
      stage.runFor(1_500);
      return stage.traceSha256();
    };
    expect(trace()).toBe(trace());
  });
});
