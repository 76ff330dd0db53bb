// Single-decree Paxos: the roles one call at a time (what each writes before it answers, what a
// proposer chooses to propose), the scenarios, a property over random fault schedules (at most
// one value chosen, learners learn only it, every acceptor keeps its promises across restarts),
// hostile input, and the deliberately broken variants the monitors must catch.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CoreEnv, JsonValue } from '../../core/index.js';
import { SynodCore } from './core.js';
import { resolveSynodOptions } from './spec.js';
import type { SynodMessage, SynodOptions, SynodPersistOp, SynodRequest, SynodResponse } from './types.js';
import { decodeSynodPersistOp } from './messages.js';
import { recorder, seeded } from '../test/fx.js';
import { SYNOD_SCENARIOS, runSynodScenario, synodScenarioByName } from '../scenarios/index.js';
import { forgetfulSynodAcceptors, neverAdopt, unwrapBroken } from '../sim/broken.js';
import { SynodCluster } from '../sim/synod-cluster.js';

const MEMBERS = ['1', '2', '3'];

function core(id: string, durable: readonly SynodPersistOp[] = [], options: Partial<SynodOptions> = {}): SynodCore {
  const env: CoreEnv = { id, members: MEMBERS, now: () => 0, random: seeded(Number(id)) };
  return new SynodCore(env, durable, resolveSynodOptions(options));
}

function deliver(c: SynodCore, from: string, msg: SynodMessage) {
  const r = recorder<SynodMessage, SynodPersistOp, SynodResponse>();
  c.handleMessage(from, msg, r.fx);
  return r;
}

function request(c: SynodCore, req: SynodRequest) {
  const r = recorder<SynodMessage, SynodPersistOp, SynodResponse>();
  c.handleRequest('r1', req, r.fx);
  return r;
}

const b = (round: number, node: string) => ({ round, node });

describe('single-decree acceptor', () => {
  it('promises a higher ballot, writing it before the promise leaves, and rejects lower ones', () => {
    const a = core('2');
    const first = deliver(a, '1', { type: 'prepare', ballot: b(1, '1') });
    expect(first.persists).toEqual([{ kind: 'promise', ballot: b(1, '1') }]);
    expect(first.order).toEqual(['persist', 'send']);
    expect(first.sends).toEqual([{ to: '1', msg: { type: 'promise', ballot: b(1, '1'), accepted: null } }]);
    deliver(a, '3', { type: 'prepare', ballot: b(1, '3') });
    const low = deliver(a, '1', { type: 'prepare', ballot: b(1, '1') });
    expect(low.persists).toEqual([]);
    expect(low.sends).toEqual([{ to: '1', msg: { type: 'reject', ballot: b(1, '1'), promised: b(1, '3') } }]);
  });

  it('accepts at or above its promise and reports the acceptance in later promises', () => {
    const a = core('2');
    deliver(a, '3', { type: 'prepare', ballot: b(1, '3') });
    const acc = deliver(a, '3', { type: 'accept', ballot: b(1, '3'), value: 'X' });
    expect(acc.persists).toEqual([{ kind: 'accept', ballot: b(1, '3'), value: 'X' }]);
    // the acceptance goes to its proposer and to every learner
    expect(acc.sends.map((s) => s.to).sort()).toEqual(['1', '2', '3']);
    expect(deliver(a, '1', { type: 'accept', ballot: b(1, '1'), value: 'Y' }).sends).toEqual([{ to: '1', msg: { type: 'reject', ballot: b(1, '1'), promised: b(1, '3') } }]);
    expect(deliver(a, '1', { type: 'prepare', ballot: b(2, '1') }).sends[0]?.msg).toEqual({ type: 'promise', ballot: b(2, '1'), accepted: { ballot: b(1, '3'), value: 'X' } });
    // a second value in a ballot it already accepted is ignored (one value per ballot)
    expect(deliver(a, '3', { type: 'accept', ballot: b(2, '1'), value: 'Z' }).persists).toEqual([{ kind: 'accept', ballot: b(2, '1'), value: 'Z' }]);
    expect(deliver(a, '1', { type: 'accept', ballot: b(2, '1'), value: 'W' }).persists).toEqual([]);
  });

  it('restarts from its durable ops with its promise and acceptance', () => {
    const a = core('2', [
      { kind: 'promise', ballot: b(3, '1') },
      { kind: 'accept', ballot: b(2, '3'), value: 'X' },
    ]);
    expect(a.acceptor?.promised).toEqual(b(3, '1'));
    expect(deliver(a, '3', { type: 'prepare', ballot: b(2, '3') }).sends[0]?.msg).toEqual({ type: 'reject', ballot: b(2, '3'), promised: b(3, '1') });
    expect(deliver(a, '1', { type: 'prepare', ballot: b(4, '1') }).sends[0]?.msg).toMatchObject({ type: 'promise', accepted: { ballot: b(2, '3'), value: 'X' } });
  });
});

describe('single-decree proposer', () => {
  it('writes its round before its prepares leave, so a restart never reuses the ballot', () => {
    const p = core('1');
    const r = request(p, { type: 'propose', value: 'A' });
    expect(r.persists).toEqual([{ kind: 'round', round: 1 }]);
    expect(r.order.slice(0, 1)).toEqual(['persist']);
    expect(r.sends.map((s) => s.msg)).toEqual(MEMBERS.map(() => ({ type: 'prepare', ballot: b(1, '1') })));
    const again = core('1', r.persists);
    expect(request(again, { type: 'propose', value: 'B' }).persists).toEqual([{ kind: 'round', round: 2 }]);
  });

  it('proposes the value of the highest-ballot acceptance its quorum reports, else its own', () => {
    const p = core('1');
    request(p, { type: 'propose', value: 'mine' });
    deliver(p, '2', { type: 'promise', ballot: b(1, '1'), accepted: { ballot: b(1, '2'), value: 'old' } });
    const r = deliver(p, '3', { type: 'promise', ballot: b(1, '1'), accepted: null });
    expect(r.sends.map((s) => s.msg)).toEqual(MEMBERS.map(() => ({ type: 'accept', ballot: b(1, '1'), value: 'old' })));
    expect(p.proposer?.adopted).toBe(true);

    const q = core('1');
    request(q, { type: 'propose', value: 'mine' });
    deliver(q, '2', { type: 'promise', ballot: b(1, '1'), accepted: null });
    expect(deliver(q, '3', { type: 'promise', ballot: b(1, '1'), accepted: null }).sends[0]?.msg).toEqual({ type: 'accept', ballot: b(1, '1'), value: 'mine' });
    expect(q.proposer?.adopted).toBe(false);
  });

  it('answers the client with the chosen value once |Q2| acceptors accepted, saying whether it was its own', () => {
    const p = core('1');
    request(p, { type: 'propose', value: 'mine' });
    deliver(p, '2', { type: 'promise', ballot: b(1, '1'), accepted: { ballot: b(1, '3'), value: 'theirs' } });
    deliver(p, '3', { type: 'promise', ballot: b(1, '1'), accepted: null });
    expect(deliver(p, '2', { type: 'accepted', ballot: b(1, '1'), value: 'theirs' }).replies).toEqual([]);
    const done = deliver(p, '3', { type: 'accepted', ballot: b(1, '1'), value: 'theirs' });
    expect(done.replies).toEqual([{ requestId: 'r1', response: { ok: true, value: 'theirs', own: false } }]);
    expect(request(p, { type: 'propose', value: 'theirs' }).replies[0]?.response).toEqual({ ok: true, value: 'theirs', own: true });
  });

  it('a rejection with backoff "none" starts a higher ballot at once; "randomized" waits a few ticks', () => {
    const eager = core('1', [], { backoff: 'none' });
    request(eager, { type: 'propose', value: 'A' });
    const r = deliver(eager, '2', { type: 'reject', ballot: b(1, '1'), promised: b(5, '3') });
    expect(r.persists).toEqual([{ kind: 'round', round: 6 }]);
    const patient = core('1', [], { backoff: 'randomized', backoffMaxTicks: 10 });
    request(patient, { type: 'propose', value: 'A' });
    expect(deliver(patient, '2', { type: 'reject', ballot: b(1, '1'), promised: b(5, '3') }).persists).toEqual([]);
    expect(patient.proposer?.phase).toBe('backoff');
    let ticks = 0;
    while (patient.proposer?.phase === 'backoff' && ticks < 20) {
      const t = recorder<SynodMessage, SynodPersistOp, SynodResponse>();
      patient.handleTick(t.fx);
      ticks++;
    }
    expect(patient.proposer?.phase).toBe('preparing');
    expect(patient.proposer?.ballot).toEqual(b(6, '1'));
  });

  it('refuses a client at a node that is not a proposer, and malformed requests', () => {
    const env: CoreEnv = { id: '2', members: MEMBERS, now: () => 0, random: seeded(2) };
    const c = new SynodCore(env, [], resolveSynodOptions({ proposers: ['1'] }));
    expect(request(c, { type: 'propose', value: 'A' }).replies[0]?.response).toMatchObject({ ok: false, error: 'not-a-proposer' });
    expect(request(c, { type: 'nope' } as never).replies[0]?.response).toMatchObject({ ok: false, error: 'bad-request' });
    expect(request(c, { type: 'propose', value: undefined } as never).replies[0]?.response).toMatchObject({ ok: false, error: 'bad-request' });
  });
});

describe('single-decree hostile input', () => {
  const HOSTILE: unknown[] = [
    null,
    'prepare',
    [1, 2],
    { type: 'prepare' },
    { type: 'prepare', ballot: { round: -1, node: '1' } },
    { type: 'prepare', ballot: { round: 1, node: '' } },
    { type: 'promise', ballot: b(1, '1'), accepted: { ballot: 'x', value: 1 } },
    { type: 'accept', ballot: b(1, '1'), value: undefined },
    { type: 'accept', ballot: b(1, '1'), value: { f: () => 1 } },
    { type: 'accepted', ballot: b(1, '1'), value: Number.NaN },
    { type: 'reject', ballot: b(1, '1'), promised: 7 },
    { type: 'decided' },
    { type: 'launch', ballot: b(1, '1') },
    { type: 'accept', ballot: b(1, '1'), value: JSON.parse('['.repeat(100) + ']'.repeat(100)) as JsonValue },
  ];

  it('drops malformed messages with a note and keeps working', () => {
    const c = core('1');
    for (const msg of HOSTILE) {
      const r = deliver(c, '2', msg as SynodMessage);
      expect(r.notes.get('lastBadMessage'), JSON.stringify(msg)?.slice(0, 60)).toEqual(expect.stringMatching(/^2: /));
      expect(r.persists).toEqual([]);
      expect(r.sends).toEqual([]);
    }
    expect(c.acceptor?.promised).toEqual(b(0, ''));
    // still a working acceptor and proposer
    expect(deliver(c, '2', { type: 'prepare', ballot: b(1, '2') }).sends[0]?.msg).toMatchObject({ type: 'promise' });
  });

  it('checks durable ops read back by a host', () => {
    for (const op of [{ kind: 'round', round: 3 }, { kind: 'promise', ballot: b(1, '2') }, { kind: 'accept', ballot: b(1, '2'), value: [1] }, { kind: 'learned', value: 'A' }]) expect(decodeSynodPersistOp(op)).toEqual({ op });
    for (const bad of [null, { kind: 'round', round: -1 }, { kind: 'promise', ballot: b(0, '') }, { kind: 'accept', ballot: b(1, '2') }, { kind: 'x' }]) expect(decodeSynodPersistOp(bad)).toHaveProperty('problem');
  });
});

describe('single-decree scenarios', () => {
  for (const scenario of SYNOD_SCENARIOS) {
    it(`${scenario.name}: ${scenario.caption}`, () => {
      for (const seed of [1, 2, 3]) {
        const r = runSynodScenario(scenario, seed);
        expect(r.ok, `seed ${seed}: ${r.failure ?? ''} ${JSON.stringify(r.violations.slice(0, 3))}`).toBe(true);
      }
    });
  }

  it('the duel without backoff makes both proposers climb ballots while nothing is chosen; with backoff a value is chosen within 150 ms', () => {
    const livelock = runSynodScenario(synodScenarioByName('synod-dueling-livelock') as never, 1);
    expect(livelock.cluster.chosen()).toBeUndefined();
    expect(livelock.cluster.attempts('4') + livelock.cluster.attempts('5')).toBeGreaterThan(100);
    for (const seed of [1, 2, 3, 4, 5]) {
      const backoff = runSynodScenario(synodScenarioByName('synod-dueling-backoff') as never, seed);
      expect(backoff.ok).toBe(true);
      expect(['A', 'B']).toContain(backoff.cluster.chosen());
      // every proposal is answered with the one chosen value
      expect(backoff.cluster.monitor.chosenBallot(1)).toBeDefined();
    }
  });
});

describe('negative controls: broken variants are caught', () => {
  it('an acceptor that forgets its promise on restart is caught (promise-forgotten), where the correct one passes', () => {
    const scenario = synodScenarioByName('synod-acceptor-restart') as never;
    expect(runSynodScenario(scenario, 1).ok).toBe(true);
    const broken = runSynodScenario(scenario, 1, { wrapSpec: forgetfulSynodAcceptors });
    expect(broken.ok).toBe(false);
    expect(broken.violations.map((v) => v.kind)).toContain('promise-forgotten');
  });

  it('a proposer that never adopts an accepted value gets two values chosen, and the monitors say so', () => {
    const broken = runSynodScenario(synodScenarioByName('synod-adopt-accepted') as never, 1, { wrapSpec: neverAdopt, unwrapCore: unwrapBroken });
    const kinds = broken.violations.map((v) => v.kind);
    expect(kinds).toContain('chosen-twice');
    expect(kinds).toContain('learned-unchosen');
  });
});

describe('single-decree under random faults (property)', () => {
  const schedule = fc.record({
    seed: fc.integer({ min: 1, max: 1_000_000 }),
    nodes: fc.constantFrom(3, 5),
    loss: fc.constantFrom(0, 0.1, 0.3),
    duplicate: fc.constantFrom(0, 0.2),
    reorder: fc.constantFrom(0, 0.3),
    backoff: fc.constantFrom('randomized' as const, 'none' as const),
    /** (time ms, node index, value) of each proposal */
    proposals: fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.nat(4), fc.constantFrom('A', 'B', 'C', 'D')), { minLength: 1, maxLength: 4 }),
    /** (time ms, node index, down for ms) of each crash */
    crashes: fc.array(fc.tuple(fc.integer({ min: 0, max: 400 }), fc.nat(4), fc.integer({ min: 1, max: 200 })), { maxLength: 4 }),
    /** (time ms, node index to cut off, for ms) */
    cuts: fc.array(fc.tuple(fc.integer({ min: 0, max: 400 }), fc.nat(4), fc.integer({ min: 1, max: 200 })), { maxLength: 3 }),
  });

  it('chooses at most one value, learners learn only it, acceptors keep their promises; after healing every learner learns it', () => {
    fc.assert(
      fc.property(schedule, (s) => {
        const c = new SynodCluster({ seed: s.seed, nodes: s.nodes, fsyncMs: 1, link: { lossRate: s.loss, duplicateRate: s.duplicate, reorderRate: s.reorder, reorderWindowMs: 20 }, synod: { backoff: s.backoff } });
        const ids = c.nodeIds;
        const at = (i: number): string => ids[i % ids.length] as string;
        for (const [t, i, v] of s.proposals) {
          c.sim.at(t, () => {
            if (c.isUp(at(i))) c.propose(at(i), v);
          });
        }
        for (const [t, i, ms] of s.crashes) {
          c.sim.at(t, () => c.crash(at(i)));
          c.sim.at(t + ms, () => c.restart(at(i)));
        }
        for (const [t, i, ms] of s.cuts) {
          c.sim.at(t, () => c.isolate(at(i)));
          c.sim.at(t + ms, () => c.heal());
        }
        c.runFor(700);
        c.healEverything();
        // every node proposes once more after healing (a restarted learner that heard nothing asks nothing until then);
        // with backoff "none" proposers may duel for ever (that is the livelock): liveness is asked only with backoff
        for (const id of ids) c.propose(id, 'late');
        c.runUntil(() => c.chosen() !== undefined && ids.every((id) => c.learned(id) !== undefined), 20_000);
        expect(c.violations(), JSON.stringify(s)).toEqual([]);
        const chosen = c.chosen();
        if (chosen !== undefined) expect([...s.proposals.map((p) => p[2]), 'late']).toContain(chosen);
        for (const id of ids) if (c.learned(id) !== undefined) expect(c.learned(id)).toEqual(chosen);
        if (s.backoff === 'randomized') expect(ids.map((id) => c.learned(id))).toEqual(ids.map(() => chosen));
      }),
      { numRuns: 60 },
    );
  });
});

describe('the random schedules are not vacuous', () => {
  /** The property's kind of run, on a fixed seed: three proposals and three crashes on a lossy network. */
  function randomRun(seed: number, wrap: 'forgetful' | 'never-adopt'): number {
    const c = new SynodCluster({ seed, nodes: 3, fsyncMs: 1, link: { lossRate: 0.1 }, ...(wrap === 'forgetful' ? { wrapSpec: forgetfulSynodAcceptors } : { wrapSpec: neverAdopt, unwrapCore: unwrapBroken }) });
    const r = c.sim.random.stream('test');
    for (let k = 0; k < 3; k++) {
      const id = r.pick(c.nodeIds);
      c.sim.at(r.int(0, 100), () => {
        if (c.isUp(id)) c.propose(id, `v${k}`);
      });
    }
    for (let k = 0; k < 3; k++) {
      const id = r.pick(c.nodeIds);
      const t = r.int(0, 200);
      c.sim.at(t, () => c.crash(id));
      c.sim.at(t + r.int(1, 50), () => c.restart(id));
    }
    c.runFor(2000);
    return c.monitor.violationCount;
  }

  it('over seeds 1..100 such runs catch forgetful acceptors and proposers that never adopt', () => {
    let forgetful = 0;
    let neverAdopting = 0;
    for (let seed = 1; seed <= 100; seed++) {
      if (randomRun(seed, 'forgetful') > 0) forgetful++;
      if (randomRun(seed, 'never-adopt') > 0) neverAdopting++;
    }
    expect(forgetful).toBeGreaterThan(10);
    expect(neverAdopting).toBeGreaterThan(0);
  });
});
