// Transactions, range reads and range deletes of the kv model, after Synod's KV store (etcd v3):
// compares decided against the state before the txn, branch operations run in order with reads
// seeing earlier writes, and every result the client saw matched against what the model computes.
// Revision numbers are not modelled (a partition cannot know the global revision): see docs/checker.md.
import type { JsonValue } from '../../core/index.js';
import { canonicalJson, isRecord } from '../json.js';
import { byCodeUnits, type KvDraft, type KvEntry } from './kv-state.js';

/** Keys in [start, end) and/or under `prefix`, minus those starting with `exclude` (as the store's selectors). */
export interface KeyRange {
  readonly prefix?: string;
  readonly start?: string;
  readonly end?: string;
  readonly exclude?: string;
}

export type CompareTarget = 'value' | 'version' | 'createRevision' | 'modRevision' | 'lease';
export type CompareOp = '=' | '!=' | '<' | '>';

export interface TxnCompare {
  readonly key: string;
  readonly target: CompareTarget;
  readonly cmp: CompareOp;
  readonly value: JsonValue;
}

export type TxnStep =
  | { readonly op: 'put'; readonly key: string; readonly value: string; readonly prevKv: boolean }
  | { readonly op: 'delete'; readonly key: string; readonly prevKv: boolean }
  | { readonly op: 'deleteRange'; readonly range: KeyRange; readonly prevKv: boolean }
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'range'; readonly range: KeyRange; readonly limit: number }
  | { readonly op: 'txn'; readonly txn: TxnSpec };

export interface TxnSpec {
  readonly compare: readonly TxnCompare[];
  readonly success: readonly TxnStep[];
  readonly failure: readonly TxnStep[];
}

/** The store's default number of items of a range. */
export const DEFAULT_RANGE_LIMIT = 1000;
/** Bounds recursion over untrusted input (the store's own format bound is 16). */
const MAX_NESTING = 16;

/** A shape the kv model does not accept; the model turns it into CheckError BAD_OP naming the operation. */
export class KvShapeError extends Error {}

function bad(why: string): never {
  throw new KvShapeError(why);
}

export function inRange(key: string, r: KeyRange): boolean {
  if (r.prefix !== undefined && !key.startsWith(r.prefix)) return false;
  if (r.exclude !== undefined && key.startsWith(r.exclude)) return false;
  if (r.start !== undefined && key < r.start) return false;
  if (r.end !== undefined && key >= r.end) return false;
  return true;
}

function optionalString(input: { [key: string]: JsonValue }, name: string, what: string): string | undefined {
  const v = input[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') bad(`${what} "${name}" must be a string`);
  return v;
}

function requiredKey(input: { [key: string]: JsonValue }, what: string): string {
  const key = input['key'];
  if (typeof key !== 'string') bad(`${what} needs a string "key"`);
  return key;
}

function flag(input: { [key: string]: JsonValue }, name: string): boolean {
  return input[name] === true;
}

/** A delete's selector: `[key, end)` or `prefix`, minus `exclude`; null for a delete of one key. */
export function parseDeleteRange(input: { [key: string]: JsonValue }): KeyRange | null {
  const prefix = optionalString(input, 'prefix', 'delete');
  const end = optionalString(input, 'end', 'delete');
  const exclude = optionalString(input, 'exclude', 'delete');
  if (prefix !== undefined) return exclude === undefined ? { prefix } : { prefix, exclude };
  if (end === undefined) return null;
  const start = requiredKey(input, 'delete');
  return exclude === undefined ? { start, end } : { start, end, exclude };
}

/** A range read's selector and limit. `revision` (a read of the past) is the caller's to refuse. */
export function parseRange(input: { [key: string]: JsonValue }): { range: KeyRange; limit: number } {
  const range: { prefix?: string; start?: string; end?: string; exclude?: string } = {};
  for (const name of ['prefix', 'start', 'end', 'exclude'] as const) {
    const v = optionalString(input, name, 'range');
    if (v !== undefined) range[name] = v;
  }
  const limit = input['limit'] ?? DEFAULT_RANGE_LIMIT;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) bad('range "limit" must be an integer >= 1');
  return { range, limit };
}

const TARGETS: readonly string[] = ['value', 'version', 'createRevision', 'modRevision', 'lease'];
const CMPS: readonly string[] = ['=', '!=', '<', '>'];

function parseCompare(raw: JsonValue): TxnCompare {
  if (!isRecord(raw)) bad('a compare must be an object');
  const key = requiredKey(raw, 'a compare');
  const target = raw['target'];
  const cmp = raw['cmp'];
  const value = raw['value'];
  if (typeof target !== 'string' || !TARGETS.includes(target)) bad(`compare "target" must be one of ${TARGETS.join(', ')}`);
  if (typeof cmp !== 'string' || !CMPS.includes(cmp)) bad(`compare "cmp" must be one of ${CMPS.join(' ')}`);
  if (value === undefined) bad('a compare needs a "value"');
  if (target !== 'value' && !(typeof value === 'number' && Number.isSafeInteger(value) && value >= 0)) bad(`a compare of ${target} needs an integer "value" >= 0`);
  // the model keeps no global revision: only whether a key exists says anything of its revisions
  if ((target === 'createRevision' || target === 'modRevision') && value !== 0) {
    bad(`compares of ${target} are modelled against 0 only (the kv model keeps no global revision)`);
  }
  return { key, target: target as CompareTarget, cmp: cmp as CompareOp, value };
}

function parseStep(raw: JsonValue, depth: number): TxnStep {
  if (!isRecord(raw)) bad('a txn operation must be an object');
  switch (raw['op']) {
    case 'put': {
      const key = requiredKey(raw, 'put');
      const value = raw['value'];
      if (value === undefined) bad('put needs a "value"');
      const lease = raw['lease'];
      if (lease !== undefined && lease !== 0) bad('puts with a lease are not modelled (the kv model has no leases)');
      return { op: 'put', key, value: canonicalJson(value), prevKv: flag(raw, 'prevKv') };
    }
    case 'delete': {
      const range = parseDeleteRange(raw);
      return range === null ? { op: 'delete', key: requiredKey(raw, 'delete'), prevKv: flag(raw, 'prevKv') } : { op: 'deleteRange', range, prevKv: flag(raw, 'prevKv') };
    }
    case 'get':
      if (raw['revision'] !== undefined && raw['revision'] !== 0) bad('a get in a txn reads at the txn\'s revision: it takes no "revision"');
      return { op: 'get', key: requiredKey(raw, 'get') };
    case 'range':
      if (raw['revision'] !== undefined && raw['revision'] !== 0) bad('a range in a txn reads at the txn\'s revision: it takes no "revision"');
      return { op: 'range', ...parseRange(raw) };
    case 'txn':
      return { op: 'txn', txn: parseTxnSpec(raw, depth + 1) };
    default:
      return bad(`a txn operation's "op" must be put, delete, get, range or txn, not ${JSON.stringify(raw['op'] ?? null)}`);
  }
}

function list(input: { [key: string]: JsonValue }, name: string): readonly JsonValue[] {
  const v = input[name] ?? [];
  if (!Array.isArray(v)) bad(`txn "${name}" must be an array`);
  return v;
}

/** A txn request as the history records it (`{compare?, success?, failure?}`, as sent to the store). */
export function parseTxnSpec(input: JsonValue, depth = 1): TxnSpec {
  if (!isRecord(input)) bad('txn input must be an object');
  if (depth > MAX_NESTING) bad(`txns nested deeper than ${MAX_NESTING}`);
  return {
    compare: list(input, 'compare').map(parseCompare),
    success: list(input, 'success').map((s) => parseStep(s, depth)),
    failure: list(input, 'failure').map((s) => parseStep(s, depth)),
  };
}

/** Every key a txn names, both branches and nested txns included, in order of first mention (bounded by the spec's size). */
export function txnKeys(spec: TxnSpec, into: string[] = [], ranges: KeyRange[] = []): { keys: string[]; ranges: KeyRange[] } {
  const add = (key: string): void => {
    if (!into.includes(key)) into.push(key);
  };
  for (const c of spec.compare) add(c.key);
  for (const step of [...spec.success, ...spec.failure]) {
    if (step.op === 'txn') txnKeys(step.txn, into, ranges);
    else if (step.op === 'deleteRange' || step.op === 'range') ranges.push(step.range);
    else add(step.key);
  }
  return { keys: into, ranges };
}

// ---------------------------------------------------------------- compares

/** -1, 0 or 1 for two numbers or two strings; NaN (every comparison false) otherwise, as the store orders values. */
function ordered(a: JsonValue, b: JsonValue): number {
  if ((typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string')) return a < b ? -1 : a > b ? 1 : 0;
  return NaN;
}

function holds(order: number, cmp: CompareOp): boolean {
  switch (cmp) {
    case '=':
      return order === 0;
    case '!=':
      return order !== 0;
    case '<':
      return order < 0;
    case '>':
      return order > 0;
  }
}

/** Whether compare `c` holds for `entry` (undefined: absent, so value null and 0 for the rest). */
function compareHolds(c: TxnCompare, entry: KvEntry | undefined): boolean {
  switch (c.target) {
    case 'value': {
      const actual = entry?.value ?? 'null';
      if (c.cmp === '=' || c.cmp === '!=') return (actual === canonicalJson(c.value)) === (c.cmp === '=');
      return holds(ordered(JSON.parse(actual) as JsonValue, c.value), c.cmp);
    }
    case 'version':
      return holds(Math.sign((entry?.version ?? 0) - (c.value as number)), c.cmp);
    case 'createRevision':
    case 'modRevision':
      // only against 0 (parseCompare): a live key's revisions are positive, an absent key's 0
      return holds(entry === undefined ? 0 : 1, c.cmp);
    case 'lease':
      // no key has a lease in a history the model accepts
      return holds(Math.sign(0 - (c.value as number)), c.cmp);
  }
}

// ---------------------------------------------------------------- running a txn

/** What a result the client saw must say of an item: key, value and version; revisions positive. */
function itemMatches(seen: JsonValue | undefined, key: string, entry: KvEntry): boolean {
  if (seen === undefined || !isRecord(seen)) return false;
  return seen['key'] === key && revisionsMatch(seen, entry) && canonicalJson(seen['value'] ?? null) === entry.value && seen['version'] === entry.version && seen['lease'] === undefined;
}

/** createRevision and modRevision: 0 for an absent key, positive integers for a live one (their exact numbers are not modelled). */
function revisionsMatch(seen: { [key: string]: JsonValue }, entry: KvEntry | undefined): boolean {
  const create = seen['createRevision'];
  const mod = seen['modRevision'];
  if (entry === undefined) return create === 0 && mod === 0;
  return typeof create === 'number' && typeof mod === 'number' && create >= 1 && mod >= create;
}

function prevKvMatches(seen: { [key: string]: JsonValue }, key: string, before: KvEntry | undefined): boolean {
  const prev = seen['prevKv'];
  return before === undefined ? prev === null : itemMatches(prev, key, before);
}

function liveInRange(draft: KvDraft, range: KeyRange): string[] {
  const keys: string[] = [];
  for (const key of draft.keys()) if (inRange(key, range)) keys.push(key);
  return keys.sort(byCodeUnits);
}

/**
 * Runs one txn (or nested txn) on `draft`: its branch decided by compares against `draft.before`
 * (the state before the whole top-level txn, as the store plans every compare first), its
 * operations in order. `seen` is the `{succeeded, results}` the client saw, or undefined when
 * unseen. False when what was seen cannot be the outcome of this txn in this state.
 */
export function runTxn(draft: KvDraft, spec: TxnSpec, seen: JsonValue | undefined): boolean {
  const succeeded = spec.compare.every((c) => compareHolds(c, draft.before.get(c.key)));
  if (seen !== undefined && (!isRecord(seen) || seen['succeeded'] !== succeeded)) return false;
  const steps = succeeded ? spec.success : spec.failure;
  const results = seen === undefined ? undefined : (seen as { [key: string]: JsonValue })['results'];
  if (results !== undefined && (!Array.isArray(results) || results.length !== steps.length)) return false;
  for (let i = 0; i < steps.length; i++) {
    const result = results === undefined ? undefined : (results as JsonValue[])[i];
    if (!runStep(draft, steps[i]!, result)) return false;
  }
  return true;
}

function runStep(draft: KvDraft, step: TxnStep, seen: JsonValue | undefined): boolean {
  if (seen !== undefined && !isRecord(seen)) return false;
  const r = seen as { [key: string]: JsonValue } | undefined;
  switch (step.op) {
    case 'put': {
      const before = draft.get(step.key);
      const version = draft.put(step.key, step.value);
      return r === undefined || (r['version'] === version && (!step.prevKv || prevKvMatches(r, step.key, before)));
    }
    case 'delete': {
      const before = draft.get(step.key);
      draft.put(step.key, 'null');
      return r === undefined || (r['deleted'] === (before !== undefined) && (!step.prevKv || prevKvMatches(r, step.key, before)));
    }
    case 'deleteRange': {
      const doomed = liveInRange(draft, step.range);
      const items = doomed.map((key) => [key, draft.get(key) as KvEntry] as const);
      for (const key of doomed) draft.put(key, 'null');
      if (r === undefined) return true;
      if (r['deleted'] !== doomed.length) return false;
      if (!step.prevKv) return true;
      const prevKvs = r['prevKvs'];
      return Array.isArray(prevKvs) && prevKvs.length === items.length && items.every(([key, entry], k) => itemMatches(prevKvs[k], key, entry));
    }
    case 'get': {
      if (r === undefined) return true;
      const entry = draft.get(step.key);
      const value = canonicalJson(r['value'] ?? null);
      return value === (entry?.value ?? 'null') && r['version'] === (entry?.version ?? 0) && revisionsMatch(r, entry) && r['lease'] === undefined;
    }
    case 'range': {
      if (r === undefined) return true;
      const live = liveInRange(draft, step.range);
      const items = r['items'];
      const shown = live.slice(0, step.limit);
      if (!Array.isArray(items) || items.length !== shown.length || r['more'] !== live.length > step.limit) return false;
      return shown.every((key, k) => itemMatches(items[k], key, draft.get(key) as KvEntry));
    }
    case 'txn':
      return runTxn(draft, step.txn, seen);
  }
}
