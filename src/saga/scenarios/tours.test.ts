import { describe, expect, it } from 'vitest';
import { SERVICE_NODES } from '../sim/order-saga.js';
import { SAGA_TOURS, sagaTourByName, sagaTourCluster, sagaTourOutcome, sagaTourProgram, runSagaTour, TOUR_SAGA_ID } from './tours.js';
import { runScenarioProgram } from '../../sim/scenario.js';

describe('the order saga tours the visualizer plays', () => {
  it.each(SAGA_TOURS.map((t) => [t.name, t] as const))('%s reaches its outcome, played at once and as the visualizer drives it', (_name, tour) => {
    const run = runSagaTour(tour, { driver: 'run' });
    expect(run.failure).toBeUndefined();
    expect(run.outcome).toEqual(tour.expected);
    const drive = runSagaTour(tour, { driver: 'drive' });
    expect(drive.failure).toBeUndefined();
    expect(drive.outcome).toEqual(tour.expected);
  });

  it('compensations run backwards: each one after the compensation of the step that followed it', () => {
    const tour = sagaTourByName('saga-shipping-refused');
    if (tour === undefined) throw new Error('missing tour');
    const { outcome } = runSagaTour(tour);
    expect(outcome.compensations).toEqual([...outcome.actions].reverse());
  });

  it('the orchestrator crash: payment is asked again with the same key after the restart, and charges once', () => {
    const tour = sagaTourByName('saga-orchestrator-crash');
    if (tour === undefined) throw new Error('missing tour');
    const cluster = sagaTourCluster(tour);
    const invokes: string[] = [];
    let crashes = 0;
    cluster.sim.subscribe((e) => {
      if (e.ev === 'deliver' && e.type === 'service/invoke' && e.to === SERVICE_NODES.payment) invokes.push(e.to);
      if (e.ev === 'crash') crashes++;
    });
    expect(runScenarioProgram(cluster.sim, sagaTourProgram(cluster, tour))).toBeUndefined();
    cluster.runFor(100);
    expect(crashes).toBe(1);
    // delivered twice (before the crash, and resent after it), applied once
    expect(invokes.length).toBeGreaterThanOrEqual(2);
    const outcome = sagaTourOutcome(cluster);
    expect(outcome.actions.filter((a) => a === 'charge-payment')).toHaveLength(1);
    expect(outcome.status).toBe('committed');
    expect(cluster.orchestrator()?.show(TOUR_SAGA_ID)?.status).toBe('committed');
  });
});
