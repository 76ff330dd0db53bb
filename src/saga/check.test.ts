// Tests of the saga checker on histories written by hand: each rule accepts the good history
// and names the broken one with its code.
import { describe, expect, it } from 'vitest';
import { checkSagaHistory, type CheckedSaga, type SagaEffect } from './check.js';

const steps = ['order', 'pay', 'stock', 'ship'];
const saga = (outcome: CheckedSaga['outcome'], pivot = 4): CheckedSaga => ({ sagaId: 's', steps, pivot, outcome });
const act = (step: number, atMs: number): SagaEffect => ({ atMs, sagaId: 's', step, phase: 'action', key: `s/${step}/action` });
const comp = (step: number, atMs: number): SagaEffect => ({ atMs, sagaId: 's', step, phase: 'compensation', key: `s/${step}/compensation` });
const codes = (sagas: CheckedSaga[], effects: SagaEffect[]): string[] => checkSagaHistory({ sagas, effects }).violations.map((v) => v.code);

describe('saga checker', () => {
  it('accepts a committed saga with every action once, and a compensated one undone in reverse', () => {
    expect(codes([saga('committed')], [act(0, 1), act(1, 2), act(2, 3), act(3, 4)])).toEqual([]);
    expect(codes([saga('compensated')], [act(0, 1), act(1, 2), comp(1, 5), comp(0, 6)])).toEqual([]);
    const r = checkSagaHistory({ sagas: [saga('compensated')], effects: [] });
    expect(r).toMatchObject({ ok: true, compensated: 1, committed: 0, effects: 0 });
  });

  it('a committed saga must have every action and no compensation', () => {
    expect(codes([saga('committed')], [act(0, 1), act(1, 2), act(3, 4)])).toEqual(['committed-missing-action']);
    expect(codes([saga('committed')], [act(0, 1), act(1, 2), act(2, 3), act(3, 4), comp(0, 5)])).toEqual(['committed-with-compensation']);
  });

  it('a compensated saga must undo every action that took effect, in reverse order, after the actions', () => {
    expect(codes([saga('compensated')], [act(0, 1), act(1, 2), comp(1, 5)])).toEqual(['action-not-compensated']);
    expect(codes([saga('compensated')], [act(0, 1), act(1, 2), comp(0, 5), comp(1, 6)])).toEqual(['compensation-order']);
    expect(codes([saga('compensated')], [act(0, 1), comp(0, 3), act(1, 4), comp(1, 5)])).toEqual(['compensation-order', 'compensation-order']);
  });

  it('no compensation of an action that never ran, nor before it ran', () => {
    expect(codes([saga('compensated')], [act(0, 1), comp(1, 2), comp(0, 3)])).toEqual(['compensation-without-action']);
    expect(codes([saga('compensated')], [comp(0, 1), act(0, 2)])).toEqual(['compensation-before-action', 'compensation-order']);
  });

  it('a key takes effect at most once', () => {
    expect(codes([saga('committed')], [act(0, 1), act(0, 1.5), act(1, 2), act(2, 3), act(3, 4)])).toEqual(['duplicate-effect']);
  });

  it('a compensated saga never crossed its pivot; effects of unknown sagas and unfinished sagas are reported', () => {
    expect(codes([saga('compensated', 2)], [act(0, 1), act(1, 2), act(2, 3), comp(1, 4), comp(0, 5)])).toEqual(['pivot-crossed-then-compensated']);
    expect(codes([], [act(0, 1)])).toEqual(['unknown-saga']);
    expect(codes([saga('unfinished')], [act(0, 1)])).toEqual(['unfinished']);
    expect(checkSagaHistory({ sagas: [saga('unfinished')], effects: [act(0, 1)] }, { requireFinished: false }).ok).toBe(true);
  });
});
