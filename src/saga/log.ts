// The saga log as stored data: checking a decoded record before the orchestrator folds it (a log
// on disk is input from outside), compaction that drops the records of sagas finished long ago
// while keeping every record of an unfinished saga, and a plan-free fold for inspecting a log.
import { isJsonObject, type JsonValue } from '../core/index.js';
import { isSagaId, type SagaRecord, type SagaStatus } from './types.js';

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

/** A saga as its log records tell it, with no plan at hand (what `synod saga list|show` prints). */
export interface SagaLogEntry {
  readonly sagaId: string;
  readonly saga: string;
  readonly input: JsonValue;
  readonly status: SagaStatus;
  /** The step being run or compensated (the index in the plan). */
  readonly step: number;
  readonly attempts: number;
  /** Outputs of the actions that succeeded, by step index. */
  readonly outputs: { readonly [step: string]: JsonValue };
  /** Why the saga is being (or was) compensated, if it is. */
  readonly error: string | null;
  readonly records: number;
  /** Records out of turn for this saga (a damaged or foreign log); the entry is still shown. */
  readonly problems: readonly string[];
}

/** Problems kept per saga (the rest are counted in `records` only). */
const MAX_PROBLEMS = 10;

/**
 * Folds saga-log records into one entry per saga, oldest first. Unlike the orchestrator, it
 * needs no plan and never throws: a record out of turn is noted in the saga's `problems`.
 */
export function foldSagaLog(records: readonly SagaRecord[]): SagaLogEntry[] {
  interface Mut {
    sagaId: string;
    saga: string;
    input: JsonValue;
    status: SagaStatus;
    step: number;
    attempts: number;
    outputs: { [step: string]: JsonValue };
    error: string | null;
    records: number;
    problems: string[];
  }
  const sagas = new Map<string, Mut>();
  const note = (m: Mut, problem: string): void => {
    if (m.problems.length < MAX_PROBLEMS) m.problems.push(problem);
  };
  for (const r of records) {
    if (r.kind === 'started') {
      if (sagas.has(r.sagaId)) {
        note(sagas.get(r.sagaId) as Mut, 'started twice');
        continue;
      }
      sagas.set(r.sagaId, { sagaId: r.sagaId, saga: r.saga, input: r.input, status: 'running', step: 0, attempts: 0, outputs: {}, error: null, records: 1, problems: [] });
      continue;
    }
    let m = sagas.get(r.sagaId);
    if (m === undefined) {
      m = { sagaId: r.sagaId, saga: '?', input: null, status: 'running', step: 0, attempts: 0, outputs: {}, error: null, records: 0, problems: [] };
      note(m, `${r.kind} record before any started record`);
      sagas.set(r.sagaId, m);
    }
    m.records++;
    if (m.status === 'committed' || m.status === 'compensated') {
      note(m, `${r.kind} record after the saga finished`);
      continue;
    }
    switch (r.kind) {
      case 'invoked':
        m.step = r.step;
        m.attempts = r.attempt;
        break;
      case 'succeeded':
        m.attempts = 0;
        if (r.phase === 'action') {
          m.outputs[String(r.step)] = r.output;
          m.step = r.step + 1;
        } else m.step = r.step - 1;
        break;
      case 'failed':
        m.status = 'compensating';
        m.error = r.error;
        m.attempts = 0;
        m.step = r.step;
        break;
      case 'finished':
        m.status = r.outcome;
        m.attempts = 0;
        break;
    }
  }
  return [...sagas.values()];
}
