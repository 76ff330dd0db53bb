// The visualizer's engine without a browser: the link format, deterministic replay and time
// travel, following messages in flight by their simulator ids, dropping a message, the protocol actions
// and the project's Raft scenarios played by the visualizer's driver.
import { describe, expect, it } from 'vitest';
import { echoAdapter } from '../../web/src/adapters/echo.js';
import { raftAdapter } from '../../web/src/adapters/raft.js';
import { actionFault, decodeRun, encodeRun, RunFormatError, type RunSpec, type TimedAction } from '../../web/src/engine/actions.js';
import { SimSession } from '../../web/src/engine/session.js';
import { Timeline } from '../../web/src/engine/timeline.js';
import { SimulationSource } from '../../web/src/source/simulation.js';

const defaults = { protocol: 'raft', nodes: 5, seed: 1 };

function fingerprint(source: SimulationSource): { time: number; trace: string; state: string } {
  const v = source.view(24);
  return { time: v.timeMs, trace: v.traceHash, state: v.stateHash };
}

describe('run links', () => {
  it('round-trips every kind of action', () => {
    const actions: TimedAction[] = [
      { at: 100, action: { kind: 'crash', node: '3' } },
      { at: 120, seq: 77, action: { kind: 'restart', node: 'leader' } },
      { at: 150, action: { kind: 'pause', node: '2', ms: 800 } },
      { at: 200, action: { kind: 'partition', groups: [['1', '2'], ['3', '4', '5']] } },
      { at: 250, action: { kind: 'isolate', node: 'leader' } },
      { at: 300, action: { kind: 'heal' } },
      { at: 310, action: { kind: 'cut', from: ['1', '2'], to: ['3'] } },
      { at: 320, action: { kind: 'slow', node: '4', ms: 25 } },
      { at: 330, action: { kind: 'clock', node: 'leader', offsetMs: -500, driftPpm: 20000 } },
      { at: 350, action: { kind: 'link', from: '1', to: '*', loss: 0.25, delayMs: 40, both: true } },
      { at: 400, action: { kind: 'drop', msg: 1234 } },
      { at: 450, action: { kind: 'client', op: 'write', node: null } },
      { at: 460, action: { kind: 'client', op: 'read', node: '4' } },
      { at: 500, action: { kind: 'workload', on: true } },
      { at: 550, action: { kind: 'protocol', name: 'transfer', node: '2' } },
      { at: 600, action: { kind: 'protocol', name: 'add', node: null } },
    ];
    const run: RunSpec = { protocol: 'raft', nodes: 5, seed: 42, actions, scenario: 'raft-rejoin' };
    const text = encodeRun(run, 700);
    expect(text).toMatch(/^p=raft&n=5&s=42&t=700&sc=raft-rejoin&a=crash\(3\)@100;restart\(leader\)@120\.77;/);
    expect(decodeRun(`#${encodeURIComponent(text)}`, defaults)).toEqual({ run, timeMs: 700 });
    expect(decodeRun(text, defaults)).toEqual({ run, timeMs: 700 });
  });

  it('rejects malformed links with a reason', () => {
    expect(() => decodeRun('p=raft&a=explode(1)@5', defaults)).toThrow(RunFormatError);
    expect(() => decodeRun('p=raft&a=crash(1)', defaults)).toThrow(/lacks "@time"/);
    expect(() => decodeRun('p=raft&a=partition(1,2)@5', defaults)).toThrow(/two or more/);
    expect(() => decodeRun('p=raft&a=cut(1/2/3)@5', defaults)).toThrow(/two non-empty groups/);
    expect(() => decodeRun('n=many', defaults)).toThrow(RunFormatError);
  });
});

describe('time travel', () => {
  it('scrubbing back and forth and replaying a link give the same run, event for event', () => {
    const source = new SimulationSource(raftAdapter, { protocol: 'raft', nodes: 5, seed: 8, actions: [] });
    source.seek(1000);
    const at1000 = fingerprint(source);
    source.seek(1500);
    const leader = source.view(1).leader as string;
    expect(leader).toBeTruthy();
    source.dispatch({ kind: 'crash', node: leader });
    source.dispatch({ kind: 'client', op: 'write', node: null });
    source.seek(2600);
    source.dispatch({ kind: 'partition', groups: [['1', '2'], ['3', '4', '5']] });
    source.step();
    source.step();
    source.dispatch({ kind: 'heal' });
    source.seek(4000);
    const at4000 = fingerprint(source);
    source.seek(1000);
    expect(fingerprint(source)).toEqual(at1000);
    source.seek(4000);
    expect(fingerprint(source)).toEqual(at4000);
    // a link replays it in a fresh source
    const { run, timeMs } = decodeRun(source.shareFragment(), defaults);
    const copy = new SimulationSource(raftAdapter, run);
    copy.seek(timeMs ?? 0);
    expect(fingerprint(copy)).toEqual(at4000);
    expect(run.actions.some((a) => a.seq !== undefined)).toBe(true);
  });

  it('an action in the past forks a new future', () => {
    const timeline = new Timeline(echoAdapter, { protocol: 'echo', nodes: 3, seed: 3, actions: [] });
    timeline.seek(500);
    timeline.act({ kind: 'crash', node: '1' });
    timeline.seek(1500);
    timeline.act({ kind: 'restart', node: '1' });
    expect(timeline.actions.length).toBe(2);
    timeline.seek(800);
    expect(timeline.session.sim.isUp('1')).toBe(false);
    expect(timeline.horizonMs).toBe(1500);
    timeline.act({ kind: 'client', op: 'write', node: '2' });
    expect(timeline.actions.map((a) => a.action.kind)).toEqual(['crash', 'client']);
    expect(timeline.horizonMs).toBe(800);
  });
});

describe('faults', () => {
  it("every fault action is one of the simulator's Faults, its nodes resolved", () => {
    const resolve = (ref: string): string | undefined => (ref === 'leader' ? '2' : ['1', '2', '3'].includes(ref) ? ref : undefined);
    expect(actionFault({ kind: 'crash', node: 'leader' }, resolve)).toEqual({ kind: 'crash', target: { kind: 'node', id: '2' } });
    expect(actionFault({ kind: 'restart', node: '9' }, resolve)).toEqual({ skip: 'no such node now' });
    expect(actionFault({ kind: 'pause', node: '1', ms: 300 }, resolve)).toEqual({ kind: 'pause', target: { kind: 'node', id: '1' }, durationMs: 300 });
    expect(actionFault({ kind: 'slow', node: '3', ms: 20 }, resolve)).toEqual({ kind: 'slow', target: { kind: 'node', id: '3' }, processingMs: 20 });
    expect(actionFault({ kind: 'clock', node: '3', offsetMs: 500, driftPpm: 0 }, resolve)).toEqual({ kind: 'clock', target: { kind: 'node', id: '3' }, offsetMs: 500, driftPpm: 0 });
    expect(actionFault({ kind: 'partition', groups: [['1', '9'], ['2', '3']] }, resolve)).toEqual({ kind: 'partition', groups: [['1'], ['2', '3']] });
    expect(actionFault({ kind: 'partition', groups: [['1', '2', '3'], ['9']] }, resolve)).toEqual({ skip: 'fewer than two groups of known nodes' });
    expect(actionFault({ kind: 'cut', from: ['1'], to: ['2', '3'] }, resolve)).toEqual({ kind: 'partition-one-way', from: ['1'], to: ['2', '3'] });
    expect(actionFault({ kind: 'link', from: '1', to: '*', loss: 0.2, delayMs: 5, both: true }, resolve)).toEqual({ kind: 'link', from: '1', to: '*', both: true, change: { lossRate: 0.2, extraDelayMs: 5 } });
    expect(actionFault({ kind: 'heal' }, resolve)).toEqual({ kind: 'heal' });
    expect(actionFault({ kind: 'drop', msg: 7 }, resolve)).toEqual({ kind: 'drop', msg: 7 });
  });

  it('a one-way cut, a slow node and a shifted clock show in the view and replay from a link', () => {
    const source = new SimulationSource(raftAdapter, { protocol: 'raft', nodes: 3, seed: 5, actions: [] });
    source.seek(1000);
    source.dispatch({ kind: 'cut', from: ['1'], to: ['2', '3'] });
    source.dispatch({ kind: 'slow', node: '2', ms: 15 });
    source.dispatch({ kind: 'clock', node: '3', offsetMs: 400, driftPpm: 100_000 });
    const view = source.view(1);
    expect(view.cuts).toEqual([['1', '2'], ['1', '3']]);
    expect(view.nodes.find((n) => n.id === '2')?.details).toContain('slow 15 ms/input');
    expect(view.nodes.find((n) => n.id === '3')?.details).toContain('clock +400 ms, +100000 ppm');
    source.dispatch({ kind: 'slow', node: '2', ms: 0 });
    expect(source.view(1).nodes.find((n) => n.id === '2')?.details.some((d) => d.startsWith('slow'))).toBe(false);
    source.seek(2500);
    const at2500 = fingerprint(source);
    const { run } = decodeRun(source.shareFragment(), defaults);
    const copy = new SimulationSource(raftAdapter, run);
    copy.seek(2500);
    expect(fingerprint(copy)).toEqual(at2500);
  });
});

describe('messages in flight', () => {
  it('follows every message by id, with loss, duplication and reordering: each arrives when the simulator said', () => {
    const session = new SimSession(raftAdapter, { protocol: 'raft', nodes: 5, seed: 2, actions: [], scenario: 'raft-unreliable-agreement' });
    const delivered = new Map<number, boolean>();
    let duplicates = 0;
    let lost = 0;
    for (let t = 0; t <= 4000; t += 7) {
      session.advanceTo(t);
      for (const r of session.messages.visible(t)) {
        if (r.fate === 'delivered') delivered.set(r.id, r.endAt === r.arriveAt);
        if (r.duplicate) duplicates++;
        if (r.fate === 'dropped' && r.reason === 'loss') lost++;
      }
    }
    expect(session.sim.stats.total.duplicated).toBeGreaterThan(0);
    expect(session.sim.stats.dropsByReason.loss).toBeGreaterThan(0);
    expect(duplicates).toBeGreaterThan(0);
    expect(lost).toBeGreaterThan(0);
    expect(delivered.size).toBeGreaterThan(100);
    expect([...delivered].filter(([, exact]) => !exact)).toEqual([]);
    expect(session.messages.sentCount).toBe(session.sim.stats.total.sent + session.sim.stats.total.duplicated);
  });

  it('drops a message in flight: the receiver never handles it, and a replay drops it too', () => {
    const run: RunSpec = { protocol: 'echo', nodes: 3, seed: 4, actions: [{ at: 100, action: { kind: 'client', op: 'write', node: '1' } }] };
    const session = new SimSession(echoAdapter, run);
    session.advanceTo(110);
    const victim = session.messages.visible(110).find((r) => r.fate === 'flight' && r.type === 'bcast');
    expect(victim).toBeDefined();
    const id = (victim as { id: number }).id;
    const to = (victim as { to: string }).to;
    session.act({ kind: 'drop', msg: id });
    expect(victim?.fate).toBe('dropped');
    session.advanceTo(140);
    // the simulator itself dropped it when it was due (reason "manual"), instead of delivering it
    expect(session.sim.stats.dropsByReason.manual).toBe(1);
    expect(victim?.reason).toBe('manual');
    // the value reaches the victim's node only later, through a retransmission on a tick
    const values = (node: string): number => Number(session.sim.annotations(node).get('delivered') ?? 0);
    expect(values(to)).toBe(0);
    session.advanceTo(1000);
    expect(values(to)).toBe(1);
    const replay = new SimSession(echoAdapter, { ...run, actions: session.actions });
    replay.advanceTo(1000);
    expect(replay.traceHash).toBe(session.traceHash);
  });
});

describe('raft actions', () => {
  it('times out a node, transfers leadership, adds and removes nodes, with every monitor green', () => {
    const s = new SimSession(raftAdapter, { protocol: 'raft', nodes: 3, seed: 9, actions: [] });
    s.advanceTo(1500);
    const first = s.run.leader() as string;
    const target = s.run.nodeIds().find((id) => id !== first) as string;
    s.act({ kind: 'protocol', name: 'transfer', node: target });
    s.advanceTo(2200);
    expect(s.run.leader()).toBe(target);
    s.act({ kind: 'protocol', name: 'add', node: null });
    s.advanceTo(4500);
    expect(s.run.nodeIds()).toEqual(['1', '2', '3', '4']);
    expect(s.run.describeNode('4', 5).member).toBe(true);
    s.act({ kind: 'protocol', name: 'remove', node: 'leader' });
    s.advanceTo(6000);
    expect(s.run.leader()).not.toBe(target);
    expect(s.run.describeNode(target, 5).member).toBe(false);
    // a forced timeout on a follower: it campaigns at its next tick
    const follower = s.run.nodeIds().find((id) => id !== s.run.leader() && s.run.describeNode(id, 1).member) as string;
    s.act({ kind: 'protocol', name: 'timeout', node: follower });
    s.advanceTo(6040);
    expect(s.recentEvents().length).toBeGreaterThan(0);
    expect(s.sim.stats.byType.get('preVote')?.sent ?? 0).toBeGreaterThan(0);
    expect(s.monitors.filter((m) => m.violation !== null)).toEqual([]);
    expect(s.failure).toBeNull();
  });

  it('plays every project scenario to its end', () => {
    for (const scenario of raftAdapter.scenarios) {
      const s = new SimSession(raftAdapter, { protocol: 'raft', nodes: scenario.nodes, seed: scenario.seed, actions: [], scenario: scenario.id });
      let caption = '';
      for (let t = 0; t <= 40_000 && !/Scenario complete|Expectation failed/.test(caption); t += 100) {
        s.advanceTo(t);
        caption = s.run.scenarioCaption?.() ?? '';
      }
      expect(caption, scenario.id).toContain('Scenario complete');
      expect(s.monitors.filter((m) => m.violation !== null), scenario.id).toEqual([]);
      expect(s.failure, scenario.id).toBeNull();
    }
  }, 60_000);
});
