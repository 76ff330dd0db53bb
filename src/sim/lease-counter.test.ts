// Tests of client nodes and of the lease-counter composition: a client paused past its lease
// overwrites a later holder's update (the monitor and the checker both see it) unless the store
// fences by token; crashes and busy clients give the right outcomes; runs are deterministic.
import { describe, expect, it } from 'vitest';
import { scriptedWorkload } from './client-node.js';
import { LeaseCounterCluster } from './lease-counter.js';
import { leaseCounterSimProtocol, leaseCounterUnfencedSimProtocol, runLeaseCounterChaos } from './lease-counter-protocol.js';
import { simProtocol } from '../primitives/index.js';

/** The seed of the stale-write demonstration (any seed shows it: the pause is placed, not drawn). */
const SEED = 1;

/** Client 3 starts an increment and is paused for 600 ms (3 leases) mid-way; client 4 increments meanwhile. */
function pausedHolder(fencing: boolean, seed = SEED): LeaseCounterCluster {
  const c = new LeaseCounterCluster({ seed, nodes: 4, fencing, trace: { keepLines: true } });
  c.pauseWhenWorking('3', 600);
  c.driver.run(['3'], scriptedWorkload({ '3': [{ f: 'incr' }, { f: 'get' }] }), { untilMs: 3000, thinkMs: 10 });
  c.sim.after(50, () => c.driver.run(['4'], scriptedWorkload({ '4': [{ f: 'incr' }, { f: 'get' }] }), { untilMs: 3000, thinkMs: 10, rngName: 'client-4' }));
  c.runFor(2000);
  return c;
}

describe('client nodes in a composed simulation (lease-counter)', () => {
  it(`without fencing, a holder paused past its lease overwrites the next holder's write (seed ${SEED})`, () => {
    const c = pausedHolder(false);
    const ops = c.history().ops;
    expect(ops.map((op) => [op.process, op.f, op.outcome, op.output])).toEqual([
      ['3', 'incr', 'ok', 1],
      ['4', 'incr', 'ok', 1],
      ['4', 'get', 'ok', 1],
      ['3', 'get', 'ok', 1],
    ]);
    expect(c.violations().map((v) => v.kind)).toEqual(['stale-write']);
    expect(c.violations()[0]?.message).toContain('token 1 after one with token 2');
    expect(c.checkLinearizability().verdict).toBe('not-linearizable');
    expect(c.counter()).toBe(1);
  });

  it('with fencing, the stale write is refused and the history is linearizable', () => {
    const c = pausedHolder(true);
    const ops = c.history().ops;
    expect(ops.map((op) => [op.process, op.f, op.outcome, op.output])).toEqual([
      ['3', 'incr', 'fail', null],
      ['4', 'incr', 'ok', 1],
      ['4', 'get', 'ok', 1],
      ['3', 'get', 'ok', 1],
    ]);
    expect(c.fencedCount()).toBe(1);
    expect(c.violations()).toEqual([]);
    expect(c.checkLinearizability().verdict).toBe('linearizable');
  });

  it('clock drift hits a client too: a holder whose clock runs at quarter speed outlives its lease', () => {
    for (const fencing of [false, true]) {
      // work 100 ms by the client's clock (400 ms of real time); the lease lasts 200 ms
      const c = new LeaseCounterCluster({ seed: SEED, nodes: 4, fencing, workMs: 100 });
      c.setClock('3', 0, -750_000);
      c.driver.run(['3'], scriptedWorkload({ '3': [{ f: 'incr' }] }), { untilMs: 3000, thinkMs: 10 });
      c.sim.after(50, () => c.driver.run(['4'], scriptedWorkload({ '4': [{ f: 'incr' }] }), { untilMs: 3000, thinkMs: 10, rngName: 'client-4' }));
      c.runFor(2000);
      expect(c.history().ops.map((op) => [op.process, op.outcome, op.output])).toEqual(fencing ? [['3', 'fail', null], ['4', 'ok', 1]] : [['3', 'ok', 1], ['4', 'ok', 1]]);
      expect(c.violations().length).toBe(fencing ? 0 : 1);
      expect(c.checkLinearizability().verdict).toBe(fencing ? 'linearizable' : 'not-linearizable');
    }
  });

  it('a client node crashed mid-operation: unknown in the history, a new process after, a new life on restart', () => {
    const c = new LeaseCounterCluster({ seed: 4, nodes: 3, fencing: true, driverTimeoutMs: 300 });
    c.driver.run(['3'], scriptedWorkload({ '3': [{ f: 'incr' }, { f: 'incr' }, { f: 'get' }] }), { untilMs: 5000, thinkMs: 10 });
    let crashed = false;
    c.sim.subscribe((e) => {
      if (!crashed && e.ev === 'annotate' && e.node === '3' && e.key === 'client/phase' && e.value === 'writing') {
        crashed = true;
        c.sim.after(0, () => c.crash('3'));
        c.sim.after(100, () => c.restart('3'));
      }
    });
    c.runFor(2000);
    const ops = c.history().ops;
    expect(ops.map((op) => [op.process, op.f, op.outcome])).toEqual([
      ['3', 'incr', 'unknown'],
      ["3'1", 'incr', 'ok'],
      ["3'1", 'get', 'ok'],
    ]);
    expect(c.sim.annotations('3').get('client/life')).toBe(2);
    expect(c.checkLinearizability().verdict).toBe('linearizable');
  });

  it('a client node busy with an abandoned operation refuses the next one (fail: no effect)', () => {
    // the work takes 300 ms; the driver waits 100 ms, then hands the client its next operation
    const c = new LeaseCounterCluster({ seed: 5, nodes: 3, fencing: true, ttlMs: 1000, workMs: 300, driverTimeoutMs: 100 });
    const outcomes: string[] = [];
    c.driver.submit('3', { f: 'incr' }, (r) => {
      outcomes.push(r.outcome);
      c.driver.submit('3', { f: 'get' }, (r2) => outcomes.push(`${r2.outcome} ${r2.error ?? ''}`));
    });
    c.runFor(1000);
    expect(outcomes).toEqual(['unknown', 'fail busy']);
  });

  it('gives the same trace for the same seed under random load and faults', () => {
    const run = (seed: number): string | undefined => {
      const c = new LeaseCounterCluster({ seed, nodes: 5, fencing: true, link: { lossRate: 0.05 } });
      c.startLoad(1500);
      c.sim.at(400, () => c.pause('4', 500));
      c.sim.at(700, () => c.setClock('5', 80, 20_000));
      c.sim.at(900, () => c.crash('2'));
      c.sim.at(1100, () => c.restart('2'));
      c.runFor(2500);
      return c.traceSha256();
    };
    expect(run(9)).toBe(run(9));
    expect(run(10)).not.toBe(run(9));
  });

  it('is registered for sim run and chaos, fenced and unfenced', () => {
    expect(simProtocol('lease-counter')).toBe(leaseCounterSimProtocol);
    expect(simProtocol('lease-counter-unfenced')).toBe(leaseCounterUnfencedSimProtocol);
    const built = leaseCounterSimProtocol.build({ seed: 7, nodes: 5, durationMs: 2000, trace: false });
    built.sim.runUntil(2000);
    expect(built.summarize()).toContain('linearizability of the counter history: linearizable');
  });

  it('chaos: the fenced store survives random faults on every node; the unfenced one fails on seed 23', () => {
    for (let seed = 1; seed <= 15; seed++) {
      const r = runLeaseCounterChaos({ seed, fencing: true });
      expect({ seed, violations: r.violations }).toEqual({ seed, violations: [] });
    }
    const bad = runLeaseCounterChaos({ seed: 23, fencing: false });
    expect(bad.ok).toBe(false);
    expect(bad.violations.map((v) => v.kind)).toEqual(['stale-write', 'linearizability']);
    expect(runLeaseCounterChaos({ seed: 23, fencing: true }).ok).toBe(true);
  });
});
