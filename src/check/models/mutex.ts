// A mutex (or lease) lock with fencing tokens. One holder at a time, and every grant must carry a
// token above every token granted before it; a lock name in the input partitions independent locks.
import type { JsonValue, Operation } from '../../core/index.js';
import { isRecord } from '../json.js';
import { CheckError } from '../errors.js';
import type { Model, PreparedCall } from '../model.js';

export interface MutexState {
  /** The process holding the lock, or null when it is free. */
  readonly holder: string | null;
  /** The holder's token; null when free, or when the grant's token was not seen. */
  readonly holderToken: number | null;
  /** The highest token granted so far (-Infinity before the first). */
  readonly maxToken: number;
}

export type MutexCall =
  /** `token` null: the grant's token was not seen (unknown outcome, or a lock without tokens). */
  | { readonly kind: 'acquire'; readonly process: string; readonly token: number | null }
  | { readonly kind: 'release'; readonly process: string; readonly token: number | null };

function badOp(op: Operation, why: string): CheckError {
  return new CheckError('BAD_OP', `operation ${op.index}: mutex ${op.f} ${why}`);
}

function inputFields(op: Operation): { lock: string; token: JsonValue } {
  if (op.input === null) return { lock: '', token: null };
  if (!isRecord(op.input)) throw badOp(op, 'input must be null or an object {lock?, token?}');
  const lock = op.input['lock'] ?? '';
  if (typeof lock !== 'string') throw badOp(op, 'input.lock must be a string');
  return { lock, token: op.input['token'] ?? null };
}

function tokenOf(op: Operation, value: JsonValue, where: string): number | null {
  if (value === null) return null;
  if (typeof value !== 'number') throw badOp(op, `${where} must be a number token (or null)`);
  return value;
}

function prepareMutexCall(op: Operation): PreparedCall<MutexCall> {
  const { lock, token } = inputFields(op);
  switch (op.f) {
    case 'acquire': {
      const granted = op.outcome === 'ok' ? tokenOf(op, op.output, 'output') : null;
      return { key: lock, call: { kind: 'acquire', process: op.process, token: granted } };
    }
    case 'release':
      return { key: lock, call: { kind: 'release', process: op.process, token: tokenOf(op, token, 'input.token') } };
    default:
      throw badOp(op, 'is not an operation of mutex (acquire, release)');
  }
}

function stepAcquire(state: MutexState, call: MutexCall): MutexState | undefined {
  if (state.holder !== null) return undefined;
  if (call.token === null) return { holder: call.process, holderToken: null, maxToken: state.maxToken };
  if (call.token <= state.maxToken) return undefined;
  return { holder: call.process, holderToken: call.token, maxToken: call.token };
}

function stepRelease(state: MutexState, call: MutexCall): MutexState | undefined {
  if (state.holder !== call.process) return undefined;
  if (call.token !== null && state.holderToken !== null && call.token !== state.holderToken) return undefined;
  return { holder: null, holderToken: null, maxToken: state.maxToken };
}

export const mutexModel: Model<MutexState, MutexCall> = {
  name: 'mutex',
  prepare: (op) => (op.outcome === 'fail' ? null : prepareMutexCall(op)),
  initial: () => ({ holder: null, holderToken: null, maxToken: -Infinity }),
  step: (state, call) => (call.kind === 'acquire' ? stepAcquire(state, call) : stepRelease(state, call)),
  stateKey: (s) => `${s.maxToken}|${s.holderToken ?? ''}|${s.holder === null ? '' : JSON.stringify(s.holder)}`,
  stateToJson: (s) => ({
    holder: s.holder,
    holderToken: s.holderToken,
    maxToken: Number.isFinite(s.maxToken) ? s.maxToken : null,
  }),
};
