// Runs every Multi-Paxos scenario over several seeds (each must meet its expectations, keep every
// monitor quiet and leave a linearizable KV history), checks what each one shows in the replicas'
// state, and runs the deliberately broken variants through the same scenarios: the monitors must
// catch them.
import { describe, expect, it } from 'vitest';
import type { KvQuery } from '../../kv/store.js';
import { forgetfulAcceptors, neverAdopt, unwrapBroken } from '../sim/broken.js';
import { PAXOS_SCENARIOS, paxosScenarioByName, runPaxosScenario, type PaxosScenario, type PaxosScenarioResult } from './index.js';

const SEEDS = [1, 2, 3];

function summary(r: PaxosScenarioResult): string {
  return `${r.scenario} seed ${r.seed}: ${r.failure ?? ''} ${JSON.stringify(r.violations.slice(0, 3))} ${r.linearizability} [${r.cluster.describeNodes()}]`;
}

function scenario(name: string): PaxosScenario {
  const s = paxosScenarioByName(name);
  if (s === undefined) throw new Error(`no scenario ${name}`);
  return s;
}

describe('Multi-Paxos scenarios', () => {
  for (const s of PAXOS_SCENARIOS) {
    it(`${s.name}: ${s.caption}`, () => {
      for (const seed of SEEDS) {
        const r = runPaxosScenario(s, seed);
        expect(r.ok, summary(r)).toBe(true);
      }
    });
  }
});

describe('what the scenarios show', () => {
  it('leader change: the new leader chose no-ops in the two holes and the stranded write after them', () => {
    for (const seed of SEEDS) {
      const r = runPaxosScenario(scenario('paxos-leader-change-noops'), seed);
      const leader = r.cluster.readyLeader() as string;
      const core = r.cluster.core(leader);
      // three writes (slots 1-3), two the cut-off leader alone accepted (4, 5), one B accepted too (6)
      expect(core?.chosenAt(4)).toEqual({ kind: 'noop' });
      expect(core?.chosenAt(5)).toEqual({ kind: 'noop' });
      expect(core?.chosenAt(6)).toMatchObject({ kind: 'command', op: { op: 'put', key: 'w6', value: 6 } });
      for (const id of r.cluster.nodeIds) {
        expect(r.cluster.core(id)?.queryLocal({ op: 'get', key: 'w6' } as KvQuery), `node ${id}`).toMatchObject({ value: 6 });
        expect(r.cluster.core(id)?.queryLocal({ op: 'get', key: 'w4' } as KvQuery), `node ${id}`).toMatchObject({ value: null });
      }
    }
  });

  it('adoption: the write accepted under the old leader is applied on every replica', () => {
    for (const seed of SEEDS) {
      const r = runPaxosScenario(scenario('paxos-adopt-accepted'), seed);
      for (const id of r.cluster.nodeIds) expect(r.cluster.core(id)?.queryLocal({ op: 'get', key: 'w3' } as KvQuery), `node ${id}`).toMatchObject({ value: 3 });
    }
  });

  it('acceptor crash: the restart was checked against every promise others heard, and the node caught up through a snapshot', () => {
    for (const seed of SEEDS) {
      const r = runPaxosScenario(scenario('paxos-acceptor-crash'), seed);
      expect(r.cluster.monitor.recoveriesChecked).toBeGreaterThanOrEqual(1);
      for (const n of r.cluster.nodes()) expect(n.snapshotSlot).toBeGreaterThan(0);
    }
  });

  it('dueling candidates: two phase 1s ran, one leader stayed', () => {
    for (const seed of SEEDS) {
      const r = runPaxosScenario(scenario('paxos-dueling-candidates'), seed);
      expect(r.cluster.monitor.elections).toBeGreaterThanOrEqual(2);
      expect(r.cluster.leaders()).toHaveLength(1);
    }
  });

  it('out of order: slots were learned out of order and applied in order (the monitors check every application)', () => {
    const r = runPaxosScenario(scenario('paxos-out-of-order'), 1);
    expect(r.cluster.monitor.learnedOutOfOrder).toBeGreaterThanOrEqual(5);
    expect(r.violations).toEqual([]);
  });
});

describe('negative controls: broken variants are caught in the same scenarios', () => {
  it('an acceptor that forgets its promises on restart: promise-forgotten', () => {
    for (const seed of SEEDS) {
      const r = runPaxosScenario(scenario('paxos-acceptor-crash'), seed, { wrapSpec: forgetfulAcceptors });
      expect(r.ok).toBe(false);
      expect(r.violations.map((v) => v.kind)).toContain('promise-forgotten');
    }
  });

  it('a new leader that never adopts accepted values: two values chosen for a slot, replicas diverge', () => {
    for (const seed of SEEDS) {
      const r = runPaxosScenario(scenario('paxos-adopt-accepted'), seed, { wrapSpec: neverAdopt, unwrapCore: unwrapBroken });
      expect(r.ok).toBe(false);
      expect(r.violations.map((v) => v.kind)).toContain('chosen-twice');
    }
  });
});
