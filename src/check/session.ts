// Session guarantees over per-process order: read-your-writes and monotonic reads for models that
// read and write values. A read is flagged only when real-time order proves every write of its
// value was overwritten first, so a flagged pair is never allowed by any linearization.
import type { History, Operation } from '../core/index.js';
import { CheckError } from './errors.js';
import type { Model, SessionEffect } from './model.js';

export type SessionGuarantee = 'read-your-writes' | 'monotonic-reads';

export interface SessionViolation {
  readonly guarantee: SessionGuarantee;
  readonly process: string;
  readonly key: string;
  /** `Operation.index` of the process's own write (read-your-writes) or its earlier read (monotonic reads). */
  readonly earlier: number;
  /** `Operation.index` of the read that went back in time. */
  readonly later: number;
  readonly message: string;
}

export interface SessionResult {
  readonly ok: boolean;
  readonly violations: readonly SessionViolation[];
}

/** Every key starts out as null (no value), written by a write before all time. */
const INITIAL = 'null';

/** When the writes of each value could have taken effect: from the earliest invoke to the last completion. */
class WriteWindows {
  private readonly earliest = new Map<string, number>();
  private readonly latest = new Map<string, number>();

  add(key: string, value: string | null, op: Operation): void {
    const id = `${key}\u0000${value ?? '\u0001'}`;
    const completeMs = op.outcome === 'unknown' ? Infinity : op.completeMs;
    this.earliest.set(id, Math.min(this.earliest.get(id) ?? Infinity, op.invokeMs));
    this.latest.set(id, Math.max(this.latest.get(id) ?? -Infinity, completeMs));
  }

  /** The earliest invoke of any write that may have written `value` (+Infinity: none). */
  firstInvokeMs(key: string, value: string): number {
    const initial = value === INITIAL ? -Infinity : Infinity;
    return Math.min(initial, this.earliest.get(`${key}\u0000${value}`) ?? Infinity, this.earliest.get(`${key}\u0000\u0001`) ?? Infinity);
  }

  /** The last completion of any write that may have written `value` (-Infinity: none after the start). */
  lastCompleteMs(key: string, value: string): number {
    return Math.max(this.latest.get(`${key}\u0000${value}`) ?? -Infinity, this.latest.get(`${key}\u0000\u0001`) ?? -Infinity);
  }

  /** False for values nobody could have written: those are linearizability's business, not a session's. */
  couldBeWritten(key: string, value: string): boolean {
    return this.firstInvokeMs(key, value) < Infinity;
  }
}

interface Effected {
  readonly op: Operation;
  readonly effect: SessionEffect;
}

interface Witness {
  readonly op: Operation;
  readonly value: string;
  readonly sinceMs: number;
}

class ProcessSession {
  private readonly ownWrite = new Map<string, Witness | null>();
  private readonly strongestRead = new Map<string, Witness>();

  constructor(
    private readonly windows: WriteWindows,
    private readonly found: SessionViolation[],
  ) {}

  see({ op, effect }: Effected): void {
    if (effect.kind === 'write') {
      if (op.outcome === 'ok') this.ownWrite.set(effect.key, effect.value === null ? null : { op, value: effect.value, sinceMs: op.invokeMs });
      return;
    }
    if (!this.windows.couldBeWritten(effect.key, effect.value)) return;
    this.checkReadYourWrites(op, effect.key, effect.value);
    this.checkMonotonicReads(op, effect.key, effect.value);
  }

  private checkReadYourWrites(read: Operation, key: string, value: string): void {
    const write = this.ownWrite.get(key);
    if (write === undefined || write === null || write.value === value) return;
    if (this.windows.lastCompleteMs(key, value) >= write.sinceMs) return;
    this.report('read-your-writes', key, write.op, read, `read ${value} although every write of it completed before its own write of ${write.value}`);
  }

  private checkMonotonicReads(read: Operation, key: string, value: string): void {
    const earlier = this.strongestRead.get(key);
    if (earlier !== undefined && earlier.value !== value && this.windows.lastCompleteMs(key, value) < earlier.sinceMs) {
      this.report('monotonic-reads', key, earlier.op, read, `read ${value} after reading ${earlier.value}, which was written after every write of ${value}`);
    }
    const sinceMs = this.windows.firstInvokeMs(key, value);
    if (sinceMs < read.completeMs && sinceMs > (earlier?.sinceMs ?? -Infinity)) this.strongestRead.set(key, { op: read, value, sinceMs });
  }

  private report(guarantee: SessionGuarantee, key: string, earlier: Operation, later: Operation, why: string): void {
    this.found.push({ guarantee, process: later.process, key, earlier: earlier.index, later: later.index, message: `${guarantee}: process ${later.process} ${why}` });
  }
}

function effectsOf<S, C>(history: History, model: Model<S, C>): Effected[] {
  const sessionEffect = model.sessionEffect;
  if (sessionEffect === undefined) throw new CheckError('UNSUPPORTED', `model ${model.name} has no session guarantees to check`);
  const effected: Effected[] = [];
  for (const op of history.ops) {
    const effect = sessionEffect.call(model, op);
    if (effect !== null) effected.push({ op, effect });
  }
  return effected;
}

/** Checks read-your-writes and monotonic reads for every process, reporting each offending pair. */
export function checkSessions<S, C>(history: History, model: Model<S, C>): SessionResult {
  const effected = effectsOf(history, model);
  const windows = new WriteWindows();
  for (const { op, effect } of effected) if (effect.kind === 'write') windows.add(effect.key, effect.value, op);
  const byProcess = new Map<string, Effected[]>();
  for (const item of effected) {
    const list = byProcess.get(item.op.process) ?? [];
    list.push(item);
    byProcess.set(item.op.process, list);
  }
  const violations: SessionViolation[] = [];
  for (const items of byProcess.values()) {
    const session = new ProcessSession(windows, violations);
    items.sort((a, b) => a.op.invokeMs - b.op.invokeMs || a.op.index - b.op.index);
    for (const item of items) session.see(item);
  }
  return { ok: violations.length === 0, violations };
}
