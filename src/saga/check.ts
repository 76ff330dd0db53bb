// The saga checker: judges a recorded history of sagas (how each ended) and of the effects the
// services made durable (which action or compensation took effect, when), whatever host ran
// them. A saga must end all-committed or all-compensated in reverse order, nothing is undone
// that never ran, and no key takes effect twice.
import type { SagaOutcome, SagaPhase } from './types.js';

export interface CheckedSaga {
  readonly sagaId: string;
  /** Step names in order. */
  readonly steps: readonly string[];
  /** Index of the pivot; steps.length when none. */
  readonly pivot: number;
  /** How the orchestrator says it ended; 'unfinished' when it has not. */
  readonly outcome: SagaOutcome | 'unfinished';
}

/** One durable effect of a service: an action that took effect, or a compensation that undid one. */
export interface SagaEffect {
  /** When it took effect (one clock for the whole history, e.g. the simulator's). */
  readonly atMs: number;
  readonly sagaId: string;
  readonly step: number;
  readonly phase: SagaPhase;
  readonly key: string;
}

export interface SagaHistory {
  readonly sagas: readonly CheckedSaga[];
  readonly effects: readonly SagaEffect[];
}

export type SagaViolationCode =
  | 'unfinished'
  | 'unknown-saga'
  | 'duplicate-effect'
  | 'committed-missing-action'
  | 'committed-with-compensation'
  | 'action-not-compensated'
  | 'compensation-without-action'
  | 'compensation-before-action'
  | 'compensation-order'
  | 'pivot-crossed-then-compensated';

export interface SagaViolation {
  readonly code: SagaViolationCode;
  readonly sagaId: string;
  readonly message: string;
}

export interface SagaCheckResult {
  readonly ok: boolean;
  readonly violations: readonly SagaViolation[];
  readonly committed: number;
  readonly compensated: number;
  readonly unfinished: number;
  readonly effects: number;
}

/** At most this many violations are listed (all are counted in `ok`). */
const MAX_LISTED = 100;

export function checkSagaHistory(history: SagaHistory, options: { readonly requireFinished?: boolean } = {}): SagaCheckResult {
  const requireFinished = options.requireFinished ?? true;
  const violations: SagaViolation[] = [];
  let total = 0;
  const report = (code: SagaViolationCode, sagaId: string, message: string): void => {
    total++;
    if (violations.length < MAX_LISTED) violations.push({ code, sagaId, message });
  };
  const bySaga = new Map<string, SagaEffect[]>();
  const perKey = new Map<string, number>();
  for (const e of [...history.effects].sort((a, b) => a.atMs - b.atMs)) {
    const n = (perKey.get(e.key) ?? 0) + 1;
    perKey.set(e.key, n);
    if (n === 2) report('duplicate-effect', e.sagaId, `key ${e.key} took effect more than once`);
    let list = bySaga.get(e.sagaId);
    if (list === undefined) bySaga.set(e.sagaId, (list = []));
    list.push(e);
  }
  const known = new Set(history.sagas.map((s) => s.sagaId));
  for (const id of bySaga.keys()) if (!known.has(id)) report('unknown-saga', id, `effects of saga ${id}, which the orchestrator never started`);
  const counts = { committed: 0, compensated: 0, unfinished: 0 };
  for (const saga of history.sagas) {
    const effects = bySaga.get(saga.sagaId) ?? [];
    const actions = new Map<number, SagaEffect>();
    const comps = new Map<number, SagaEffect>();
    for (const e of effects) {
      const first = e.phase === 'action' ? actions : comps;
      if (!first.has(e.step)) first.set(e.step, e);
    }
    // no compensation of an action that never took effect, and never before it
    for (const [step, c] of comps) {
      const a = actions.get(step);
      if (a === undefined) report('compensation-without-action', saga.sagaId, `step ${step} (${saga.steps[step] ?? '?'}) was compensated but its action never took effect`);
      else if (c.atMs < a.atMs) report('compensation-before-action', saga.sagaId, `step ${step} was compensated at ${c.atMs} ms before its action took effect at ${a.atMs} ms`);
    }
    if (saga.outcome === 'unfinished') {
      counts.unfinished++;
      if (requireFinished) report('unfinished', saga.sagaId, `saga ${saga.sagaId} never finished`);
      continue;
    }
    if (saga.outcome === 'committed') {
      counts.committed++;
      for (let i = 0; i < saga.steps.length; i++) if (!actions.has(i)) report('committed-missing-action', saga.sagaId, `committed, but the action of step ${i} (${saga.steps[i]}) never took effect`);
      if (comps.size > 0) report('committed-with-compensation', saga.sagaId, `committed, but steps ${[...comps.keys()].join(', ')} were compensated`);
      continue;
    }
    counts.compensated++;
    for (const [step] of actions) {
      if (step >= saga.pivot) report('pivot-crossed-then-compensated', saga.sagaId, `compensated, but the action of step ${step} (${saga.steps[step]}), at or past the pivot, took effect`);
      else if (!comps.has(step)) report('action-not-compensated', saga.sagaId, `compensated, but the action of step ${step} (${saga.steps[step]}) took effect and was never undone`);
    }
    // reverse order: a later step's compensation precedes an earlier one's, and every
    // compensation comes after every action of the saga
    const ordered = [...comps.values()].sort((a, b) => a.atMs - b.atMs);
    for (let i = 1; i < ordered.length; i++) {
      const prev = ordered[i - 1] as SagaEffect;
      const cur = ordered[i] as SagaEffect;
      if (cur.step > prev.step) report('compensation-order', saga.sagaId, `step ${cur.step} was compensated after step ${prev.step}: not in reverse order`);
    }
    const lastAction = Math.max(...[...actions.values()].map((a) => a.atMs), Number.NEGATIVE_INFINITY);
    const firstComp = ordered[0];
    if (firstComp !== undefined && firstComp.atMs < lastAction) report('compensation-order', saga.sagaId, `compensation of step ${firstComp.step} at ${firstComp.atMs} ms came before a later action took effect at ${lastAction} ms`);
  }
  return { ok: total === 0, violations, ...counts, effects: history.effects.length };
}
