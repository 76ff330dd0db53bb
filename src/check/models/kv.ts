// A key-value map. Single-key operations make every key its own partition whose state is just the
// canonical JSON of the key's value ("null": absent). Multi-key transactions, ranges and version
// compares join keys into one partition whose state holds every live key with its version (kv-state.ts).
import type { JsonValue, Operation } from '../../core/index.js';
import { canonicalJson, isRecord } from '../json.js';
import { CheckError } from '../errors.js';
import type { Model, PreparedCall, SessionEffect } from '../model.js';
import { casResultOf, stepCas, type CasResult } from './register.js';
import { KvDraft, KvMap } from './kv-state.js';
import { KvShapeError, inRange, parseDeleteRange, parseRange, parseTxnSpec, runTxn, txnKeys, type KeyRange, type TxnSpec } from './kv-txn.js';

export type KvCall =
  | { readonly kind: 'get'; readonly key: string; readonly value: string }
  | { readonly kind: 'put'; readonly key: string; readonly value: string }
  /** `suffix` is the (raw, not JSON) string concatenated onto the key's string value. */
  | { readonly kind: 'append'; readonly key: string; readonly suffix: string }
  | { readonly kind: 'cas'; readonly key: string; readonly from: string; readonly to: string; readonly result: CasResult }
  /** `expected` is the canonical value the client saw after incrementing, or null when not seen. */
  | { readonly kind: 'incr'; readonly key: string; readonly by: number; readonly expected: string | null }
  /** Swaps when the key's version equals `version` (0: absent). */
  | { readonly kind: 'casVersion'; readonly key: string; readonly version: number; readonly value: string; readonly result: CasResult }
  /** `seen`: the `{succeeded, results}` the client saw, undefined when unseen. */
  | { readonly kind: 'txn'; readonly key: string; readonly txn: TxnSpec; readonly seen: JsonValue | undefined }
  /** A range read; `seen` is its `[key, value]` pairs. */
  | { readonly kind: 'range'; readonly key: string; readonly range: KeyRange; readonly limit: number; readonly seen: readonly JsonValue[] }
  /** A delete of every key in a range or under a prefix, whose result is not checked. */
  | { readonly kind: 'deleteRange'; readonly key: string; readonly range: KeyRange };

/**
 * A partition's state: the canonical value of its one key while only single-key, value-only
 * operations touch it (the fast path, as before transactions), else every live key with its version.
 */
export type KvState = string | KvMap;

const ABSENT = 'null';
/** Calls that need versions or several keys, hence the map state. */
const MAP_KINDS: ReadonlySet<KvCall['kind']> = new Set(['casVersion', 'txn', 'range', 'deleteRange']);

function badOp(op: Operation, why: string): CheckError {
  return new CheckError('BAD_OP', `operation ${op.index}: kv ${op.f} ${why}`);
}

function inputRecord(op: Operation): { [key: string]: JsonValue } {
  if (!isRecord(op.input)) throw badOp(op, 'input must be an object');
  return op.input;
}

function inputObject(op: Operation): { [key: string]: JsonValue } {
  const input = inputRecord(op);
  const key = input['key'];
  if (typeof key !== 'string') throw badOp(op, 'input.key must be a string');
  return input;
}

function field(op: Operation, input: { [key: string]: JsonValue }, name: string): JsonValue {
  const value = input[name];
  if (value === undefined) throw badOp(op, `input.${name} is missing`);
  return value;
}

function prepareIncr(op: Operation, key: string, input: { [key: string]: JsonValue }): KvCall {
  const by = input['by'] ?? 1;
  if (typeof by !== 'number') throw badOp(op, 'input.by must be a number');
  const seen = op.outcome === 'ok' && op.output !== null;
  if (seen && typeof op.output !== 'number') throw badOp(op, 'output must be the new number (or null)');
  return { kind: 'incr', key, by, expected: seen ? canonicalJson(op.output) : null };
}

function prepareAppend(op: Operation, key: string, input: { [key: string]: JsonValue }): KvCall {
  const suffix = field(op, input, 'value');
  if (typeof suffix !== 'string') throw badOp(op, 'input.value must be a string');
  return { kind: 'append', key, suffix };
}

function prepareCasVersion(op: Operation, key: string, input: { [key: string]: JsonValue }): KvCall {
  const version = field(op, input, 'version');
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) throw badOp(op, 'input.version must be an integer >= 0');
  return { kind: 'casVersion', key, version, value: canonicalJson(field(op, input, 'value')), result: casResultOf(op) };
}

/** The history records a range's result as `[key, value]` pairs (RaftCluster's historyOutputOf). */
function prepareRange(op: Operation): PreparedCall<KvCall> | null {
  const input = inputRecord(op);
  // a read of a past revision says nothing of the present; a read with an unknown outcome nothing at all
  if ((input['revision'] !== undefined && input['revision'] !== 0) || op.outcome !== 'ok') return null;
  const { range, limit } = parseRange(input);
  const seen = op.output;
  if (!Array.isArray(seen) || !seen.every((item) => Array.isArray(item) && item.length === 2 && typeof item[0] === 'string')) {
    throw badOp(op, 'output must be the [key, value] pairs read');
  }
  return { key: rangeLabel(range), keys: [], covers: (k) => inRange(k, range), call: { kind: 'range', key: rangeLabel(range), range, limit, seen } };
}

/** The name of a call over a range that names no key: a key inside the range, so it joins what the range covers anyway. */
function rangeLabel(range: KeyRange): string {
  return range.prefix ?? range.start ?? '';
}

function prepareTxn(op: Operation): PreparedCall<KvCall> | null {
  const txn = parseTxnSpec(op.input);
  const { keys, ranges } = txnKeys(txn);
  const seen = op.outcome === 'ok' && op.output !== null ? op.output : undefined;
  if (seen !== undefined && !(isRecord(seen) && typeof seen['succeeded'] === 'boolean' && Array.isArray(seen['results']))) {
    throw badOp(op, 'output must be {succeeded, results} (or null when not seen)');
  }
  // a txn that can write nothing and whose results were not seen constrains nothing
  if (seen === undefined && !txnMayWrite(txn)) return null;
  const key = keys[0] ?? (ranges[0] === undefined ? '' : rangeLabel(ranges[0]));
  const covers = ranges.length === 0 ? undefined : (k: string): boolean => ranges.some((r) => inRange(k, r));
  return { key, keys, ...(covers === undefined ? {} : { covers }), call: { kind: 'txn', key, txn, seen } };
}

function txnMayWrite(spec: TxnSpec): boolean {
  return [...spec.success, ...spec.failure].some((s) => s.op === 'put' || s.op === 'delete' || s.op === 'deleteRange' || (s.op === 'txn' && txnMayWrite(s.txn)));
}

/** Calls over several keys, or over ranges. */
function prepareMultiKey(op: Operation): PreparedCall<KvCall> | null {
  try {
    switch (op.f) {
      case 'txn':
        return prepareTxn(op);
      case 'range':
        return prepareRange(op);
      case 'deleteRange': {
        const range = parseDeleteRange(inputRecord(op));
        if (range === null) throw badOp(op, 'needs an "end" or a "prefix"');
        return { key: rangeLabel(range), keys: [], covers: (k) => inRange(k, range), call: { kind: 'deleteRange', key: rangeLabel(range), range } };
      }
      default:
        return null;
    }
  } catch (err) {
    if (err instanceof KvShapeError) throw badOp(op, err.message);
    throw err;
  }
}

const MULTI_KEY_OPS: ReadonlySet<string> = new Set(['txn', 'range', 'deleteRange']);

function prepareKvCall(op: Operation): KvCall | null {
  const input = inputObject(op);
  const key = input['key'] as string;
  switch (op.f) {
    case 'get':
      return op.outcome === 'ok' ? { kind: 'get', key, value: canonicalJson(op.output) } : null;
    case 'put':
      return { kind: 'put', key, value: canonicalJson(field(op, input, 'value')) };
    case 'delete':
      return { kind: 'put', key, value: ABSENT };
    case 'cas':
      return {
        kind: 'cas',
        key,
        from: canonicalJson(field(op, input, 'from')),
        to: canonicalJson(field(op, input, 'to')),
        result: casResultOf(op),
      };
    case 'incr':
      return prepareIncr(op, key, input);
    case 'append':
      return prepareAppend(op, key, input);
    case 'casVersion':
      return prepareCasVersion(op, key, input);
    default:
      throw badOp(op, 'is not an operation of kv (get, put, delete, cas, incr, append, casVersion, txn, range, deleteRange, getAt)');
  }
}

function prepareAny(op: Operation): PreparedCall<KvCall> | null {
  // a read of a past revision (RaftCluster records it as getAt) says nothing of the present state
  if (op.f === 'getAt') return null;
  if (MULTI_KEY_OPS.has(op.f)) return prepareMultiKey(op);
  const call = prepareKvCall(op);
  return call === null ? null : { key: call.key, call };
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

/** One call on a single key's value (the fast path). */
function stepValue(state: string, call: KvCall): string | undefined {
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
    default:
      // initialFor gives the map state to every partition holding one of the other kinds
      throw new RangeError(`kv model: ${call.kind} stepped on a single-value state`);
  }
}

/** The value-level effect of a single-key call on the map: its new value ("null" deletes), the same value (no write), or undefined (impossible). */
function writeOf(map: KvMap, call: KvCall): { readonly write: boolean; readonly value: string } | undefined {
  const current = map.valueOf(call.key);
  switch (call.kind) {
    case 'get':
      return current === call.value ? { write: false, value: current } : undefined;
    case 'put':
      return { write: true, value: call.value };
    case 'cas': {
      if (call.result === 'refused') return current === call.from ? undefined : { write: false, value: current };
      return current === call.from ? { write: true, value: call.to } : undefined;
    }
    case 'incr': {
      const next = stepIncr(current, call.by, call.expected);
      return next === undefined ? undefined : { write: true, value: next };
    }
    case 'append': {
      if (call.suffix === '') return { write: false, value: current };
      const next = stepAppend(current, call.suffix);
      return next === undefined ? undefined : { write: true, value: next };
    }
    case 'casVersion': {
      const matches = (map.get(call.key)?.version ?? 0) === call.version;
      if (call.result === 'refused') return matches ? undefined : { write: false, value: current };
      return matches ? { write: true, value: call.value } : undefined;
    }
    default:
      throw new RangeError(`kv model: ${call.kind} is not a single-key call`);
  }
}

/** One call on the map state. */
function stepMap(map: KvMap, call: KvCall): KvMap | undefined {
  const draft = new KvDraft(map);
  switch (call.kind) {
    case 'txn':
      return runTxn(draft, call.txn, call.seen) ? draft.done() : undefined;
    case 'deleteRange':
      for (const key of [...draft.keys()]) if (inRange(key, call.range)) draft.put(key, ABSENT);
      return draft.done();
    case 'range': {
      const live = [...draft.keys()].filter((k) => inRange(k, call.range)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).slice(0, call.limit);
      if (live.length !== call.seen.length) return undefined;
      const same = live.every((key, k) => {
        const pair = call.seen[k] as JsonValue[];
        return pair[0] === key && canonicalJson(pair[1] ?? null) === map.valueOf(key);
      });
      return same ? map : undefined;
    }
    default: {
      const effect = writeOf(map, call);
      if (effect === undefined) return undefined;
      if (!effect.write) return map;
      draft.put(call.key, effect.value);
      return draft.done();
    }
  }
}

/** Whether a partition's calls need the map state: some call needs versions or ranges, or they name more than one key. */
function needsMap(calls: readonly KvCall[]): boolean {
  const first = calls[0]?.key;
  return calls.some((c) => MAP_KINDS.has(c.kind) || c.key !== first);
}

function kvSessionEffect(op: Operation): SessionEffect | null {
  if (op.outcome === 'fail') return null;
  // a write of several keys at once (or of keys not named) is not one session effect
  if (op.f === 'txn' || op.f === 'deleteRange') throw new CheckError('UNSUPPORTED', `session checks do not know kv ${op.f} (operation ${op.index})`);
  const prepared = prepareAny(op);
  if (prepared === null) return null;
  const call = prepared.call;
  switch (call.kind) {
    case 'get':
      return { kind: 'read', key: call.key, value: call.value };
    case 'put':
      return { kind: 'write', key: call.key, value: call.value };
    case 'cas':
      return call.result === 'refused' ? null : { kind: 'write', key: call.key, value: call.to };
    case 'casVersion':
      return call.result === 'refused' ? null : { kind: 'write', key: call.key, value: call.value };
    case 'incr':
      return { kind: 'write', key: call.key, value: call.expected };
    case 'append':
      return { kind: 'write', key: call.key, value: null };
    default:
      // a range read of several keys: leaving a read out only makes the session checks weaker
      return null;
  }
}

export const kvModel: Model<KvState, KvCall> = {
  name: 'kv',
  prepare(op: Operation): PreparedCall<KvCall> | null {
    if (op.outcome === 'fail') return null;
    return prepareAny(op);
  },
  observeFailure(op: Operation): PreparedCall<KvCall> | null {
    if (op.f !== 'cas') return null;
    const call = prepareKvCall({ ...op, outcome: 'ok', output: false });
    return call === null ? null : { key: call.key, call };
  },
  initial: () => ABSENT,
  initialFor: (_key, calls) => (needsMap(calls) ? KvMap.EMPTY : ABSENT),
  step(state: KvState, call: KvCall): KvState | undefined {
    return typeof state === 'string' ? stepValue(state, call) : stepMap(state, call);
  },
  stateKey: (state) => (typeof state === 'string' ? state : `{${state.text}}`),
  stateToJson: (state) => (typeof state === 'string' ? (JSON.parse(state) as JsonValue) : state.toJson()),
  sessionEffect: kvSessionEffect,
  plainEffect: (op) => {
    if (op.f !== 'get' && op.f !== 'put' && op.f !== 'delete') return null;
    return kvSessionEffect(op);
  },
};
