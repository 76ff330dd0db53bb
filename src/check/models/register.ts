// A single read/write/compare-and-set register. States are the canonical JSON of the value held
// (null: no value yet), so comparing values is comparing strings and every state interns cheaply.
import type { JsonValue, Operation } from '../../core/index.js';
import { canonicalJson } from '../json.js';
import { CheckError } from '../errors.js';
import type { Model, PreparedCall, SessionEffect } from '../model.js';

/** How a cas was seen to end: it swapped, it was refused because the value differed, or unknown. */
export type CasResult = 'swapped' | 'refused' | 'unknown';

export type RegisterCall =
  | { readonly kind: 'read'; readonly value: string }
  | { readonly kind: 'write'; readonly value: string }
  | { readonly kind: 'cas'; readonly from: string; readonly to: string; readonly result: CasResult };

const NO_VALUE = 'null';

export function parseCasInput(op: Operation): { from: string; to: string } {
  const input = op.input;
  if (!Array.isArray(input) || input.length !== 2) {
    throw new CheckError('BAD_OP', `operation ${op.index}: cas input must be [from, to]`);
  }
  return { from: canonicalJson(input[0] ?? null), to: canonicalJson(input[1] ?? null) };
}

/** An ok cas whose output is literally false was seen to be refused; any other ok cas swapped. */
export function casResultOf(op: Operation): CasResult {
  if (op.outcome === 'unknown') return 'unknown';
  return op.output === false ? 'refused' : 'swapped';
}

export function stepCas(state: string, from: string, to: string, result: CasResult): string | undefined {
  if (result === 'refused') return state === from ? undefined : state;
  return state === from ? to : undefined;
}

function prepareRegisterCall(op: Operation): RegisterCall | null {
  switch (op.f) {
    case 'read':
      return op.outcome === 'ok' ? { kind: 'read', value: canonicalJson(op.output) } : null;
    case 'write':
      return { kind: 'write', value: canonicalJson(op.input) };
    case 'cas':
      return { kind: 'cas', ...parseCasInput(op), result: casResultOf(op) };
    default:
      throw new CheckError('BAD_OP', `operation ${op.index}: register has no operation "${op.f}" (read, write, cas)`);
  }
}

function registerSessionEffect(op: Operation): SessionEffect | null {
  if (op.outcome === 'fail') return null;
  const call = prepareRegisterCall(op);
  if (call === null) return null;
  if (call.kind === 'read') return { kind: 'read', key: '', value: call.value };
  if (call.kind === 'write') return { kind: 'write', key: '', value: call.value };
  return call.result === 'refused' ? null : { kind: 'write', key: '', value: call.to };
}

export const registerModel: Model<string, RegisterCall> = {
  name: 'register',
  prepare(op: Operation): PreparedCall<RegisterCall> | null {
    if (op.outcome === 'fail') return null;
    const call = prepareRegisterCall(op);
    return call === null ? null : { key: '', call };
  },
  observeFailure(op: Operation): PreparedCall<RegisterCall> | null {
    return op.f === 'cas' ? { key: '', call: { kind: 'cas', ...parseCasInput(op), result: 'refused' } } : null;
  },
  initial: () => NO_VALUE,
  step(state: string, call: RegisterCall): string | undefined {
    switch (call.kind) {
      case 'read':
        return state === call.value ? state : undefined;
      case 'write':
        return call.value;
      case 'cas':
        return stepCas(state, call.from, call.to, call.result);
    }
  },
  stateKey: (state) => state,
  stateToJson: (state) => JSON.parse(state) as JsonValue,
  sessionEffect: registerSessionEffect,
  plainEffect: (op) => (op.f === 'read' || op.f === 'write' ? registerSessionEffect(op) : null),
};
