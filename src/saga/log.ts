// The saga log as stored data: checking a decoded record before the orchestrator folds it (a log
// on disk is input from outside), and compaction that drops the records of sagas finished long
// ago while keeping every record of an unfinished saga, so recovery stays bounded.
import { isJsonObject } from '../core/index.js';
import { isSagaId, type SagaRecord } from './types.js';

const PHASES = new Set(['action', 'compensation']);
const OUTCOMES = new Set(['committed', 'compensated']);

const isStep = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isId = (v: unknown): v is string => typeof v === 'string' && v !== '' && v.length <= 200;

/** The record typed, or why `value` is not a saga-log record. */
export function decodeSagaRecord(value: unknown): { readonly op: SagaRecord } | { readonly problem: string } {
  if (!isJsonObject(value)) return { problem: 'a saga record must be an object' };
  const v = value;
  if (!isSagaId(v.sagaId)) return { problem: 'a saga record needs a sagaId of 1 to 200 characters without "/"' };
  switch (v.kind) {
    case 'started':
      if (!isId(v.saga) || !('input' in v)) return { problem: 'a started record needs saga and input' };
      return { op: { kind: 'started', sagaId: v.sagaId, saga: v.saga, input: v.input ?? null } };
    case 'invoked':
      if (!isStep(v.step) || !PHASES.has(v.phase as string) || !isStep(v.attempt) || v.attempt < 1) return { problem: 'an invoked record needs step, phase and attempt >= 1' };
      return { op: { kind: 'invoked', sagaId: v.sagaId, step: v.step, phase: v.phase as 'action' | 'compensation', attempt: v.attempt } };
    case 'succeeded':
      if (!isStep(v.step) || !PHASES.has(v.phase as string) || !('output' in v)) return { problem: 'a succeeded record needs step, phase and output' };
      return { op: { kind: 'succeeded', sagaId: v.sagaId, step: v.step, phase: v.phase as 'action' | 'compensation', output: v.output ?? null } };
    case 'failed':
      if (!isStep(v.step) || typeof v.error !== 'string' || typeof v.ran !== 'boolean') return { problem: 'a failed record needs step, error and ran' };
      return { op: { kind: 'failed', sagaId: v.sagaId, step: v.step, error: v.error, ran: v.ran } };
    case 'finished':
      if (!OUTCOMES.has(v.outcome as string)) return { problem: 'a finished record needs outcome committed or compensated' };
      return { op: { kind: 'finished', sagaId: v.sagaId, outcome: v.outcome as 'committed' | 'compensated' } };
    default:
      return { problem: `unknown saga record kind ${JSON.stringify(v.kind)}` };
  }
}

/**
 * Keeps every record of unfinished sagas and of the `keepFinished` sagas that finished last;
 * drops the rest. Order is kept, so the folded log replays to the same state for what it keeps.
 */
export function compactSagaLog(records: readonly SagaRecord[], keepFinished: number): SagaRecord[] {
  const finishedOrder: string[] = [];
  for (const r of records) if (r.kind === 'finished') finishedOrder.push(r.sagaId);
  const drop = new Set(finishedOrder.slice(0, Math.max(0, finishedOrder.length - keepFinished)));
  return records.filter((r) => !drop.has(r.sagaId));
}
