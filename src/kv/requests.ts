// The KV's requests and results as types, and their decoding from untrusted JSON: every field
// checked and copied out once, so the state machine sees only well-formed requests. Structure is
// checked at decode (the same on the leader and at apply, forever); size limits at admission only.
import type { Decoded, JsonValue } from '../core/index.js';
import {
  MAX_CHANGES_EVENTS,
  MAX_LEASE_TTL_MS,
  MAX_TXN_BYTES,
  MAX_TXN_DEPTH,
  MAX_TXN_OPS,
  TXN_FORMAT_MAX_DEPTH,
  TXN_FORMAT_MAX_OPS,
  keyProblem,
  utf8Length,
  valueProblem,
  MAX_KEY_BYTES,
} from './limits.js';

// ================================================================ requests

/** `value: null` deletes, as in the checker's kv model. `lease` attaches the key (it must exist); without it a put detaches. */
export type PutRequest = {
  readonly op: 'put';
  readonly key: string;
  readonly value: JsonValue;
  readonly lease?: number;
  /** Keep the key's current lease (etcd's ignore_lease); not with `lease`. */
  readonly ignoreLease?: boolean;
  /** Return the key's previous item as `prevKv`. */
  readonly prevKv?: boolean;
};

/** One key (result `deleted: boolean`), or every key in [key, end) or under `prefix` (result `deleted: count`). */
export type DeleteRequest =
  | { readonly op: 'delete'; readonly key: string; readonly prevKv?: boolean }
  | { readonly op: 'delete'; readonly key: string; readonly end: string; readonly exclude?: string; readonly prevKv?: boolean }
  | { readonly op: 'delete'; readonly prefix: string; readonly exclude?: string; readonly prevKv?: boolean };

/** `revision`: read as of that past revision (0 or absent: now). */
export type GetRequest = { readonly op: 'get'; readonly key: string; readonly revision?: number };

/** Keys in [start, end) and/or with `prefix`, sorted, at most `limit` (default 1000). */
export type RangeRequest = {
  readonly op: 'range';
  readonly start?: string;
  readonly end?: string;
  readonly prefix?: string;
  /** Keys starting with it are skipped (the API hides the cluster's own "_synod/" keys). */
  readonly exclude?: string;
  readonly limit?: number;
  readonly revision?: number;
};

export type CompareTarget = 'value' | 'version' | 'createRevision' | 'modRevision' | 'lease';
export type CompareOp = '=' | '!=' | '<' | '>';
/** `value` of the key `target` compared with `value` by `cmp`; an absent key has value null and 0 for the rest. */
export type Compare = { readonly key: string; readonly target: CompareTarget; readonly cmp: CompareOp; readonly value: JsonValue };

/**
 * A lease granted inside a txn, so that one write can grant a lease and put keys under it (a
 * lock's acquire). The id is the caller's (the ops after it name the lease by it): when a lease
 * with that id exists, the whole txn fails with `lease-exists` and nothing applies.
 */
export type TxnLeaseGrant = { readonly op: 'leaseGrant'; readonly ttlMs: number; readonly id: number };

/** What a txn branch may hold: writes, lease grants, reads at the txn's own revision, and nested txns. */
export type TxnOp = PutRequest | DeleteRequest | GetRequest | RangeRequest | TxnLeaseGrant | TxnRequest;

export type TxnRequest = {
  readonly op: 'txn';
  readonly compare: readonly Compare[];
  readonly success: readonly TxnOp[];
  readonly failure: readonly TxnOp[];
};

export type KvCommand =
  | PutRequest
  | DeleteRequest
  /** Swaps when the current value equals `from` (null: only when absent). `to: null` deletes. */
  | { readonly op: 'cas'; readonly key: string; readonly from: JsonValue; readonly to: JsonValue }
  /** Swaps when the key's version equals `version` (0: only when absent). `value: null` deletes. */
  | { readonly op: 'casVersion'; readonly key: string; readonly version: number; readonly value: JsonValue }
  /** Adds `by` (default 1) to a number; an absent key counts as 0. */
  | { readonly op: 'incr'; readonly key: string; readonly by?: number }
  | TxnRequest
  /** Forgets the history before `revision`. */
  | { readonly op: 'compact'; readonly revision: number }
  /** Without `id`, the lease takes the log index of its entry (or the next free id above it). */
  | { readonly op: 'leaseGrant'; readonly ttlMs: number; readonly id?: number }
  | { readonly op: 'leaseRevoke'; readonly id: number };

/**
 * The change log from `fromRevision` (0: from now on) for one key, [key, end) or a prefix: what
 * hosts pull to serve watchers (see KvStore.changesSince).
 */
export type ChangesRequest = {
  readonly op: 'changes';
  readonly key?: string;
  readonly end?: string;
  readonly prefix?: string;
  readonly exclude?: string;
  readonly fromRevision: number;
  readonly maxEvents?: number;
  readonly prevKv?: boolean;
  readonly noPut?: boolean;
  readonly noDelete?: boolean;
};

export type KvQuery =
  | GetRequest
  | RangeRequest
  | ChangesRequest
  | { readonly op: 'leaseTimeToLive'; readonly id: number; readonly keys?: boolean }
  /** Leases with an id above `after`, in id order, at most `limit` (default 1000). */
  | { readonly op: 'leaseList'; readonly after?: number; readonly limit?: number };

export type KvRequest = KvCommand | KvQuery;

// ================================================================ results

// types, not interfaces: results must be JSON values (an interface has no index signature)
export type KvItem = {
  readonly key: string;
  readonly value: JsonValue;
  /** 1 when created, +1 on every change; a deleted key starts again at 1. */
  readonly version: number;
  readonly createRevision: number;
  readonly modRevision: number;
  /** The attached lease; absent when none (so results without leases are what they were before leases). */
  readonly lease?: number;
};

/** One change of the change log. A delete's `kv` has the key, value null, version 0 and modRevision = the delete's revision. */
export type KvEvent = {
  readonly type: 'put' | 'delete';
  readonly kv: KvItem;
  /** The key's item before this change (when asked for and the key existed). */
  readonly prevKv?: KvItem;
  readonly revision: number;
};

export type LeaseInfo = { readonly id: number; readonly ttlMs: number };

export type KvResult =
  | { readonly revision: number; readonly version: number; readonly prevKv?: KvItem | null } // put
  | { readonly revision: number; readonly deleted: boolean; readonly prevKv?: KvItem | null } // delete of one key
  | { readonly revision: number; readonly deleted: number; readonly prevKvs?: KvItem[] } // delete of a range or prefix, leaseRevoke
  | { readonly revision: number; readonly swapped: boolean; readonly version: number } // cas, casVersion
  | { readonly revision: number; readonly value: number; readonly version: number } // incr
  | { readonly revision: number; readonly value: JsonValue; readonly version: number; readonly createRevision: number; readonly modRevision: number; readonly lease?: number } // get
  | { readonly revision: number; readonly items: KvItem[]; readonly more: boolean } // range
  | { readonly revision: number; readonly succeeded: boolean; readonly results: KvResult[] } // txn
  | { readonly revision: number; readonly compactRevision: number } // compact
  | { readonly revision: number; readonly id: number; readonly ttlMs: number; readonly remainingMs?: number; readonly keys?: string[] } // leaseGrant, leaseTimeToLive; the leader's leaseKeepAlive and leaseTimeToLive add remainingMs
  | { readonly revision: number; readonly leases: LeaseInfo[]; readonly more: boolean } // leaseList
  | { readonly revision: number; readonly events: KvEvent[]; readonly nextRevision: number } // changes
  | { readonly revision: number; readonly error: 'not-a-number' } // incr of a non-number
  | { readonly revision: number; readonly error: 'compacted'; readonly compactRevision: number }
  | { readonly revision: number; readonly error: 'future-revision' }
  | { readonly revision: number; readonly error: 'lease-not-found' | 'lease-exists' | 'lease-expired'; readonly id: number }
  | { readonly revision: number; readonly error: 'too-many-leases' }
  | { readonly error: 'bad-request'; readonly message: string };

export const DEFAULT_RANGE_LIMIT = 1000;
export const MAX_RANGE_LIMIT = 100_000;

const QUERY_OPS = ['get', 'range', 'changes', 'leaseTimeToLive', 'leaseList'] as const;
const KNOWN_OPS = 'get, put, delete, cas, casVersion, incr, range, txn, compact, leaseGrant, leaseRevoke, leaseTimeToLive, leaseList, changes';
const COMPARE_TARGETS: readonly string[] = ['value', 'version', 'createRevision', 'modRevision', 'lease'];
const COMPARE_OPS: readonly string[] = ['=', '!=', '<', '>'];

export function isQuery(request: KvRequest): request is KvQuery {
  return (QUERY_OPS as readonly string[]).includes(request.op);
}

// ================================================================ helpers

/** JSON with object keys sorted: equal values give equal text. */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as JsonValue)}`).join(',')}}`;
}

type JsonRecord = { [key: string]: JsonValue };

/** A value from a request, short enough for a message (a request may hold a huge or deeply nested one). */
function shown(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value);
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}

function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The first key after every key that starts with `prefix`; undefined when there is none ("" or only U+FFFF). */
export function prefixEnd(prefix: string): string | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const c = prefix.charCodeAt(i);
    if (c < 0xffff) return prefix.slice(0, i) + String.fromCharCode(c + 1);
  }
  return undefined;
}

/** A command or query as JSON, for a request to a Raft node (optional fields left out when absent). */
export function kvRequestToJson(request: KvRequest): JsonValue {
  return withoutUndefined(request as unknown as { [key: string]: JsonValue | undefined | readonly unknown[] });
}

function withoutUndefined(request: { [key: string]: unknown }): JsonValue {
  const out: JsonRecord = {};
  for (const [name, value] of Object.entries(request)) {
    if (value === undefined) continue;
    // a txn's branches hold requests too; everything else is JSON already
    out[name] = Array.isArray(value) && (name === 'success' || name === 'failure') ? value.map((op) => withoutUndefined(op as { [key: string]: unknown })) : (value as JsonValue);
  }
  return out;
}

// ================================================================ decoding

/** Why `request` is not a well-formed KV command or query; null when it is. */
export function kvRequestProblem(request: JsonValue): string | null {
  const decoded = decodeKvRequest(request);
  return decoded.ok ? null : decoded.problem;
}

/** Decodes a KV command or query from JSON: its fields copied out once checked, so nothing is cast. Total: never throws. */
export function decodeKvRequest(raw: JsonValue): Decoded<KvRequest> {
  try {
    return { ok: true, value: decodeRequest(raw) };
  } catch (err) {
    if (err instanceof Refusal) return { ok: false, problem: err.message };
    throw err;
  }
}

/** Why the leader would refuse `raw` as a command (malformed, or past the limits); null when it would take it. */
export function kvCommandProblem(raw: JsonValue): string | null {
  const decoded = decodeKvRequest(raw);
  if (!decoded.ok) return decoded.problem;
  return isQuery(decoded.value) ? null : kvLimitProblem(decoded.value);
}

/** A malformed request; caught at the decoder's surface only (it never escapes decodeKvRequest). */
class Refusal extends Error {}

function refuse(message: string): never {
  throw new Refusal(message);
}

function decodeRequest(raw: JsonValue): KvRequest {
  if (!isRecord(raw)) refuse('a kv request must be an object with an "op"');
  const op = raw['op'];
  switch (op) {
    case 'get':
      return decodeGet(raw, true);
    case 'range':
      return decodeRange(raw, true);
    case 'put':
      return decodePut(raw);
    case 'delete':
      return decodeDelete(raw);
    case 'cas':
      needKey(raw, op);
      if (raw['from'] === undefined || raw['to'] === undefined) refuse('cas needs "from" and "to"');
      return { op, key: raw['key'] as string, from: raw['from'], to: raw['to'] };
    case 'casVersion': {
      needKey(raw, op);
      const version = raw['version'];
      if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) refuse('casVersion needs an integer "version" >= 0');
      if (raw['value'] === undefined) refuse('casVersion needs a "value"');
      return { op, key: raw['key'] as string, version, value: raw['value'] };
    }
    case 'incr': {
      needKey(raw, op);
      const by = raw['by'];
      if (by !== undefined && !(typeof by === 'number' && Number.isFinite(by))) refuse('incr "by" must be a finite number');
      return by === undefined ? { op, key: raw['key'] as string } : { op, key: raw['key'] as string, by };
    }
    case 'txn':
      return decodeTxn(raw, { depth: 1, ops: 0 });
    case 'compact':
      return { op, revision: integer(raw, 'revision', 1, 'compact') as number };
    case 'leaseGrant': {
      const ttlMs = integer(raw, 'ttlMs', 1, 'leaseGrant') as number;
      const id = integer(raw, 'id', 1, 'leaseGrant', true);
      return id === undefined ? { op, ttlMs } : { op, ttlMs, id };
    }
    case 'leaseRevoke':
      return { op, id: integer(raw, 'id', 1, 'leaseRevoke') as number };
    case 'leaseTimeToLive': {
      const id = integer(raw, 'id', 1, op) as number;
      const keys = flag(raw, 'keys', op);
      return keys === undefined ? { op, id } : { op, id, keys };
    }
    case 'leaseList': {
      const out: { op: 'leaseList'; after?: number; limit?: number } = { op };
      const after = integer(raw, 'after', 0, op, true);
      if (after !== undefined) out.after = after;
      const limit = integer(raw, 'limit', 1, op, true);
      if (limit !== undefined) {
        if (limit > MAX_RANGE_LIMIT) refuse(`leaseList "limit" must be an integer in [1, ${MAX_RANGE_LIMIT}]`);
        out.limit = limit;
      }
      return out;
    }
    case 'changes':
      return decodeChanges(raw);
    default:
      return refuse(`unknown kv op ${shown(op)} (known: ${KNOWN_OPS})`);
  }
}

function needKey(r: JsonRecord, op: string): void {
  if (typeof r['key'] !== 'string') refuse(`${op} needs a string "key"`);
}

function optionalString(r: JsonRecord, name: string): string | undefined {
  const v = r[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') refuse(`${name} must be a string`);
  return v;
}

/** An integer field >= `min` (safe: no NaN, no fraction, no 2^53); undefined only when optional and absent. */
function integer(r: JsonRecord, name: string, min: number, op: string, optional = false): number | undefined {
  const v = r[name];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) refuse(optional ? `${op} "${name}" must be an integer >= ${min}` : `${op} needs an integer "${name}" >= ${min}`);
  return v;
}

function flag(r: JsonRecord, name: string, op: string): boolean | undefined {
  const v = r[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') refuse(`${op} "${name}" must be true or false`);
  return v;
}

function revisionOf(r: JsonRecord, op: string, allowed: boolean): number | undefined {
  if (r['revision'] === undefined) return undefined;
  if (!allowed) refuse(`${op} in a txn reads at the txn's revision: it takes no "revision"`);
  return integer(r, 'revision', 0, op, true);
}

function decodeGet(r: JsonRecord, standalone: boolean): GetRequest {
  needKey(r, 'get');
  const revision = revisionOf(r, 'get', standalone);
  return revision === undefined ? { op: 'get', key: r['key'] as string } : { op: 'get', key: r['key'] as string, revision };
}

function decodeRange(r: JsonRecord, standalone: boolean): RangeRequest {
  const limit = r['limit'];
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > MAX_RANGE_LIMIT)) {
    refuse(`range "limit" must be an integer in [1, ${MAX_RANGE_LIMIT}]`);
  }
  const range: { op: 'range'; start?: string; end?: string; prefix?: string; exclude?: string; limit?: number; revision?: number } = { op: 'range' };
  // checked in this order so that the messages are those of the first version
  for (const name of ['start', 'end', 'prefix', 'exclude'] as const) {
    const v = optionalString(r, name);
    if (v !== undefined) range[name] = v;
  }
  if (typeof limit === 'number') range.limit = limit;
  const revision = revisionOf(r, 'range', standalone);
  if (revision !== undefined) range.revision = revision;
  return range;
}

function decodePut(r: JsonRecord): PutRequest {
  needKey(r, 'put');
  if (r['value'] === undefined) refuse('put needs a "value"');
  const out: { op: 'put'; key: string; value: JsonValue; lease?: number; ignoreLease?: boolean; prevKv?: boolean } = { op: 'put', key: r['key'] as string, value: r['value'] };
  const lease = integer(r, 'lease', 0, 'put', true);
  const ignoreLease = flag(r, 'ignoreLease', 'put');
  if (lease !== undefined && lease !== 0 && ignoreLease === true) refuse('put takes "lease" or "ignoreLease", not both');
  // lease 0 means none, as in etcd: left out so that the request reads the same either way
  if (lease !== undefined && lease !== 0) out.lease = lease;
  if (ignoreLease !== undefined) out.ignoreLease = ignoreLease;
  const prevKv = flag(r, 'prevKv', 'put');
  if (prevKv !== undefined) out.prevKv = prevKv;
  return out;
}

function decodeDelete(r: JsonRecord): DeleteRequest {
  const key = optionalString(r, 'key');
  const end = optionalString(r, 'end');
  const prefix = optionalString(r, 'prefix');
  const exclude = optionalString(r, 'exclude');
  const prevKv = flag(r, 'prevKv', 'delete');
  const extra = prevKv === undefined ? {} : { prevKv };
  if (prefix !== undefined) {
    if (key !== undefined || end !== undefined) refuse('delete takes a "key" (with an optional "end") or a "prefix", not both');
    return exclude === undefined ? { op: 'delete', prefix, ...extra } : { op: 'delete', prefix, exclude, ...extra };
  }
  if (key === undefined) refuse('delete needs a string "key" (or a "prefix")');
  if (end === undefined) {
    if (exclude !== undefined) refuse('delete "exclude" goes with a range ("end") or a "prefix"');
    return { op: 'delete', key, ...extra };
  }
  if (end < key) refuse('delete "end" must not sort before "key" (the range is [key, end))');
  return exclude === undefined ? { op: 'delete', key, end, ...extra } : { op: 'delete', key, end, exclude, ...extra };
}

function decodeChanges(r: JsonRecord): ChangesRequest {
  const key = optionalString(r, 'key');
  const end = optionalString(r, 'end');
  const prefix = optionalString(r, 'prefix');
  const exclude = optionalString(r, 'exclude');
  if (prefix !== undefined && (key !== undefined || end !== undefined)) refuse('changes takes a "key" (with an optional "end") or a "prefix", not both');
  if (prefix === undefined && key === undefined) refuse('changes needs a "key" (with an optional "end") or a "prefix"');
  if (end !== undefined && key !== undefined && end < key) refuse('changes "end" must not sort before "key" (the range is [key, end))');
  const out: {
    op: 'changes'; key?: string; end?: string; prefix?: string; exclude?: string; fromRevision: number; maxEvents?: number; prevKv?: boolean; noPut?: boolean; noDelete?: boolean;
  } = { op: 'changes', fromRevision: integer(r, 'fromRevision', 0, 'changes') as number };
  if (key !== undefined) out.key = key;
  if (end !== undefined) out.end = end;
  if (prefix !== undefined) out.prefix = prefix;
  if (exclude !== undefined) out.exclude = exclude;
  const maxEvents = integer(r, 'maxEvents', 1, 'changes', true);
  if (maxEvents !== undefined) {
    if (maxEvents > MAX_CHANGES_EVENTS) refuse(`changes "maxEvents" must be an integer in [1, ${MAX_CHANGES_EVENTS}]`);
    out.maxEvents = maxEvents;
  }
  for (const name of ['prevKv', 'noPut', 'noDelete'] as const) {
    const v = flag(r, name, 'changes');
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** Ops and compares decoded so far in one txn (all levels), and the current depth. */
interface TxnCount {
  readonly depth: number;
  ops: number;
}

function decodeTxn(r: JsonRecord, count: TxnCount): TxnRequest {
  if (count.depth > TXN_FORMAT_MAX_DEPTH) refuse(`txns nest deeper than ${TXN_FORMAT_MAX_DEPTH} levels`);
  const list = (name: string): readonly JsonValue[] => {
    const v = r[name];
    if (v === undefined) return [];
    if (!Array.isArray(v)) refuse(`txn "${name}" must be an array`);
    // counted before walking, so a huge list costs nothing
    count.ops += v.length;
    if (count.ops > TXN_FORMAT_MAX_OPS) refuse(`a txn holds more than ${TXN_FORMAT_MAX_OPS} compares and operations`);
    return v;
  };
  const compare = list('compare').map(decodeCompare);
  const success = list('success').map((op) => decodeTxnOp(op, count));
  const failure = list('failure').map((op) => decodeTxnOp(op, count));
  for (const [name, branch] of [['success', success], ['failure', failure]] as const) {
    const clash = writeClash(branch);
    if (clash !== null) refuse(`txn "${name}" writes ${clash} twice (a txn may write each key once)`);
    const granted = grantClash(branch);
    if (granted !== null) refuse(`txn "${name}" grants lease ${granted} twice`);
  }
  return { op: 'txn', compare, success, failure };
}

function decodeCompare(raw: JsonValue): Compare {
  if (!isRecord(raw)) refuse('a txn compare must be an object {key, target, cmp, value}');
  needKey(raw, 'compare');
  const target = raw['target'];
  if (typeof target !== 'string' || !COMPARE_TARGETS.includes(target)) refuse(`compare "target" must be one of ${COMPARE_TARGETS.join(', ')}`);
  const cmp = raw['cmp'];
  if (typeof cmp !== 'string' || !COMPARE_OPS.includes(cmp)) refuse(`compare "cmp" must be one of ${COMPARE_OPS.join(' ')}`);
  const value = raw['value'];
  if (value === undefined) refuse('compare needs a "value"');
  if (target === 'value') {
    if ((cmp === '<' || cmp === '>') && typeof value !== 'number' && typeof value !== 'string') refuse(`compare "${cmp}" on a value needs a number or a string (other values compare with = and != only)`);
  } else if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    refuse(`compare on ${target} needs an integer "value" >= 0`);
  }
  return { key: raw['key'] as string, target: target as CompareTarget, cmp: cmp as CompareOp, value };
}

function decodeTxnOp(raw: JsonValue, count: TxnCount): TxnOp {
  if (!isRecord(raw)) refuse('a txn operation must be an object with an "op"');
  switch (raw['op']) {
    case 'put':
      return decodePut(raw);
    case 'delete':
      return decodeDelete(raw);
    case 'get':
      return decodeGet(raw, false);
    case 'range':
      return decodeRange(raw, false);
    case 'leaseGrant': {
      const ttlMs = integer(raw, 'ttlMs', 1, 'leaseGrant') as number;
      if (raw['id'] === undefined) refuse('a leaseGrant in a txn needs an integer "id" >= 1 (the operations after it name the lease by it)');
      return { op: 'leaseGrant', ttlMs, id: integer(raw, 'id', 1, 'leaseGrant') as number };
    }
    case 'txn': {
      const inner: TxnCount = { depth: count.depth + 1, ops: count.ops };
      const txn = decodeTxn(raw, inner);
      count.ops = inner.ops;
      return txn;
    }
    default:
      return refuse(`a txn operation is put, delete, get, range, leaseGrant or txn, not ${shown(raw['op'])}`);
  }
}

/** The keys and key ranges a write touches: a put's key, a delete's key or [start, end) (end undefined: no upper bound). */
type Written = { readonly put: string } | { readonly start: string; readonly end: string | undefined; readonly point: boolean };

function writtenBy(op: PutRequest | DeleteRequest): Written {
  if (op.op === 'put') return { put: op.key };
  if ('prefix' in op) return { start: op.prefix, end: prefixEnd(op.prefix), point: false };
  if ('end' in op) return { start: op.key, end: op.end, point: false };
  return { start: op.key, end: undefined, point: true };
}

function contains(range: Extract<Written, { start: string }>, key: string): boolean {
  if (range.point) return key === range.start;
  return key >= range.start && (range.end === undefined || key < range.end);
}

/**
 * The key a branch would write twice in one run, quoted, or null. Two writes clash when one is a
 * put and the other writes its key (puts of one key, or a put inside a delete's range), as in
 * etcd; deletes may overlap (the second finds nothing). A nested txn's success and failure never
 * both run, so they may write the same keys, but neither may clash with the rest of the branch.
 */
function writeClash(branch: readonly TxnOp[]): string | null {
  // every write of the branch with the index of the operation it comes from
  const writes: { readonly w: Written; readonly from: number }[] = [];
  const collect = (ops: readonly TxnOp[], from: number): void => {
    for (const op of ops) {
      if (op.op === 'put' || op.op === 'delete') writes.push({ w: writtenBy(op), from });
      else if (op.op === 'txn') {
        collect(op.success, from);
        collect(op.failure, from);
      }
    }
  };
  branch.forEach((op, i) => collect([op], i));
  const puts = writes.filter((x) => 'put' in x.w) as { readonly w: { readonly put: string }; readonly from: number }[];
  const deletes = writes.filter((x) => 'start' in x.w) as { readonly w: Extract<Written, { start: string }>; readonly from: number }[];
  const putFrom = new Map<string, number>();
  for (const p of puts) {
    const seen = putFrom.get(p.w.put);
    if (seen !== undefined && seen !== p.from) return shown(p.w.put);
    putFrom.set(p.w.put, p.from);
  }
  // at most TXN_FORMAT_MAX_OPS writes: puts x deletes stays small
  for (const p of puts) for (const d of deletes) if (d.from !== p.from && contains(d.w, p.w.put)) return shown(p.w.put);
  return null;
}

/** A lease id that two grants of one run of a branch name (a nested txn's two branches never both run), or null. */
function grantClash(branch: readonly TxnOp[]): number | null {
  const from = new Map<number, number>();
  const collect = (ops: readonly TxnOp[], i: number): number | null => {
    for (const op of ops) {
      if (op.op === 'leaseGrant') {
        const seen = from.get(op.id);
        if (seen !== undefined && seen !== i) return op.id;
        from.set(op.id, i);
      } else if (op.op === 'txn') {
        const clash = collect(op.success, i) ?? collect(op.failure, i);
        if (clash !== null) return clash;
      }
    }
    return null;
  };
  for (let i = 0; i < branch.length; i++) {
    const clash = collect([branch[i] as TxnOp], i);
    if (clash !== null) return clash;
  }
  return null;
}

/** The lease grants a txn may run: every grant in either branch, nested ones included (an upper bound for admission). */
export function txnGrantCount(txn: TxnRequest): number {
  let count = 0;
  for (const op of [...txn.success, ...txn.failure]) {
    if (op.op === 'leaseGrant') count++;
    else if (op.op === 'txn') count += txnGrantCount(op);
  }
  return count;
}

// ================================================================ admission

/**
 * Why a well-formed command exceeds the limits (limits.ts); null when it does not. Checked when a
 * command is proposed, not when it is applied: an entry already in a log applies the same way on
 * every node whatever limits a later version sets.
 */
export function kvLimitProblem(command: KvCommand): string | null {
  switch (command.op) {
    case 'put':
      return keyProblem(command.key) ?? valueProblem(command.value);
    case 'casVersion':
      return keyProblem(command.key) ?? valueProblem(command.value);
    case 'cas':
      return keyProblem(command.key) ?? valueProblem(command.from, '"from"') ?? valueProblem(command.to, '"to"');
    case 'incr':
      return keyProblem(command.key);
    case 'delete':
      return deleteLimitProblem(command);
    case 'txn':
      return txnLimitProblem(command);
    case 'leaseGrant':
      return command.ttlMs > MAX_LEASE_TTL_MS ? `a lease may last at most ${MAX_LEASE_TTL_MS} ms` : null;
    case 'compact':
    case 'leaseRevoke':
      return null;
  }
}

function boundProblem(text: string, name: string): string | null {
  const bytes = utf8Length(text);
  return bytes > MAX_KEY_BYTES ? `"${name}" may have at most ${MAX_KEY_BYTES} bytes in UTF-8, this one has ${bytes}` : null;
}

function deleteLimitProblem(command: DeleteRequest): string | null {
  if ('prefix' in command) return boundProblem(command.prefix, 'prefix') ?? boundProblem(command.exclude ?? '', 'exclude');
  const key = keyProblem(command.key);
  if (key !== null || !('end' in command)) return key;
  return boundProblem(command.end, 'end') ?? boundProblem(command.exclude ?? '', 'exclude');
}

function txnLimitProblem(txn: TxnRequest): string | null {
  let ops = 0;
  const walk = (t: TxnRequest, depth: number): string | null => {
    if (depth > MAX_TXN_DEPTH) return `txns may nest at most ${MAX_TXN_DEPTH} levels deep`;
    ops += t.compare.length + t.success.length + t.failure.length;
    if (ops > MAX_TXN_OPS) return `a txn may hold at most ${MAX_TXN_OPS} compares and operations (over all nested txns)`;
    for (const c of t.compare) {
      const problem = keyProblem(c.key) ?? valueProblem(c.value, 'a compare value');
      if (problem !== null) return problem;
    }
    for (const op of [...t.success, ...t.failure]) {
      let problem: string | null = null;
      if (op.op === 'txn') problem = walk(op, depth + 1);
      else if (op.op === 'put') problem = keyProblem(op.key) ?? valueProblem(op.value);
      else if (op.op === 'delete') problem = deleteLimitProblem(op);
      else if (op.op === 'get') problem = keyProblem(op.key);
      else if (op.op === 'leaseGrant' && op.ttlMs > MAX_LEASE_TTL_MS) problem = `a lease may last at most ${MAX_LEASE_TTL_MS} ms`;
      if (problem !== null) return problem;
    }
    return null;
  };
  // the walk first: it bounds every value's depth, so that encoding the whole txn cannot overflow the stack
  const problem = walk(txn, 1);
  if (problem !== null) return problem;
  const bytes = utf8Length(JSON.stringify(kvRequestToJson(txn)));
  return bytes > MAX_TXN_BYTES ? `a txn may be at most ${MAX_TXN_BYTES} bytes as JSON, this one is ${bytes}` : null;
}
