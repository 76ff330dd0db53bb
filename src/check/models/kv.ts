// A key-value map. Keys are independent, so every key is its own partition and a state is just
// the canonical JSON of one key's value ("null": absent). Inputs are small JSON objects naming the key.
import type { JsonValue, Operation } from '../../core/index.js';
import { canonicalJson, isRecord } from '../json.js';
import { CheckError } from '../errors.js';
import type { Model, PreparedCall, SessionEffect } from '../model.js';
import { casResultOf, stepCas, type CasResult } from './register.js';

export type KvCall =
  | { readonly kind: 'get'; readonly value: string }
  | { readonly kind: 'put'; readonly value: string }
  /** `suffix` is the (raw, not JSON) string concatenated onto the key's string value. */
  | { readonly kind: 'append'; readonly suffix: string }
  | { readonly kind: 'cas'; readonly from: string; readonly to: string; readonly result: CasResult }
  /** `expected` is the canonical value the client saw after incrementing, or null when not seen. */
  | { readonly kind: 'incr'; readonly by: number; readonly expected: string | null };

const ABSENT = 'null';

function badOp(op: Operation, why: string): CheckError {
  return new CheckError('BAD_OP', `operation ${op.index}: kv ${op.f} ${why}`);
}

function inputObject(op: Operation): { [key: string]: JsonValue } {
  if (!isRecord(op.input)) throw badOp(op, 'input must be an object with a "key"');
  const key = op.input['key'];
  if (typeof key !== 'string') throw badOp(op, 'input.key must be a string');
  return op.input;
}

function field(op: Operation, input: { [key: string]: JsonValue }, name: string): JsonValue {
  const value = input[name];
  if (value === undefined) throw badOp(op, `input.${name} is missing`);
  return value;
}

function prepareIncr(op: Operation, input: { [key: string]: JsonValue }): KvCall {
  const by = input['by'] ?? 1;
  if (typeof by !== 'number') throw badOp(op, 'input.by must be a number');
  const seen = op.outcome === 'ok' && op.output !== null;
  if (seen && typeof op.output !== 'number') throw badOp(op, 'output must be the new number (or null)');
  return { kind: 'incr', by, expected: seen ? canonicalJson(op.output) : null };
}

function prepareAppend(op: Operation, input: { [key: string]: JsonValue }): KvCall {
  const suffix = field(op, input, 'value');
  if (typeof suffix !== 'string') throw badOp(op, 'input.value must be a string');
  return { kind: 'append', suffix };
}

function prepareKvCall(op: Operation): KvCall | null {
  const input = inputObject(op);
  switch (op.f) {
    case 'get':
      return op.outcome === 'ok' ? { kind: 'get', value: canonicalJson(op.output) } : null;
    case 'put':
      return { kind: 'put', value: canonicalJson(field(op, input, 'value')) };
    case 'delete':
      return { kind: 'put', value: ABSENT };
    case 'cas':
      return {
        kind: 'cas',
        from: canonicalJson(field(op, input, 'from')),
        to: canonicalJson(field(op, input, 'to')),
        result: casResultOf(op),
      };
    case 'incr':
      return prepareIncr(op, input);
    case 'append':
      return prepareAppend(op, input);
    default:
      throw badOp(op, 'is not an operation of kv (get, put, delete, cas, incr, append)');
  }
}

function stepIncr(state: string, by: number, expected: string | null): string | undefined {
  const current = state === ABSENT ? 0 : (JSON.parse(state) as JsonValue);
  if (typeof current !== 'number') return undefined;
  const next = canonicalJson(current + by);
  return expected === null || expected === next ? next : undefined;
}

/** String concatenation; an absent key counts as "", and appending "" changes nothing (not even creating the key). */
function stepAppend(state: string, suffix: string): string | undefined {
  if (suffix === '') return state;
  if (state === ABSENT) return JSON.stringify(suffix);
  // a canonical JSON string is "…": join the texts without parsing (what is inside stays valid JSON)
  return state.charCodeAt(0) === 0x22 ? state.slice(0, -1) + JSON.stringify(suffix).slice(1) : undefined;
}

function kvSessionEffect(op: Operation): SessionEffect | null {
  if (op.outcome === 'fail') return null;
  const call = prepareKvCall(op);
  if (call === null) return null;
  const key = inputObject(op)['key'] as string;
  switch (call.kind) {
    case 'get':
      return { kind: 'read', key, value: call.value };
    case 'put':
      return { kind: 'write', key, value: call.value };
    case 'cas':
      return call.result === 'refused' ? null : { kind: 'write', key, value: call.to };
    case 'incr':
      return { kind: 'write', key, value: call.expected };
    case 'append':
      return { kind: 'write', key, value: null };
  }
}

export const kvModel: Model<string, KvCall> = {
  name: 'kv',
  prepare(op: Operation): PreparedCall<KvCall> | null {
    if (op.outcome === 'fail') return null;
    const call = prepareKvCall(op);
    return call === null ? null : { key: inputObject(op)['key'] as string, call };
  },
  observeFailure(op: Operation): PreparedCall<KvCall> | null {
    if (op.f !== 'cas') return null;
    const call = prepareKvCall({ ...op, outcome: 'ok', output: false });
    return call === null ? null : { key: inputObject(op)['key'] as string, call };
  },
  initial: () => ABSENT,
  step(state: string, call: KvCall): string | undefined {
    switch (call.kind) {
      case 'get':
        return state === call.value ? state : undefined;
      case 'put':
        return call.value;
      case 'cas':
        return stepCas(state, call.from, call.to, call.result);
      case 'incr':
        return stepIncr(state, call.by, call.expected);
      case 'append':
        return stepAppend(state, call.suffix);
    }
  },
  stateKey: (state) => state,
  stateToJson: (state) => JSON.parse(state) as JsonValue,
  sessionEffect: kvSessionEffect,
  plainEffect: (op) => {
    const effect = kvSessionEffect(op);
    return op.f === 'get' || op.f === 'put' || op.f === 'delete' ? effect : null;
  },
};
