// The replicated key-value state machine: get, put, delete, compare-and-set on value or version,
// increment and range/prefix listing, with a global revision that grows with every change and
// per-key create/mod revisions and versions (etcd-like). Pure and deterministic: no clocks, no I/O.
import type { Decoded, JsonValue, StateMachine } from '../core/index.js';
import { keyProblem, valueProblem } from './limits.js';

export type KvCommand =
  /** `value: null` deletes, as in the checker's kv model. */
  | { readonly op: 'put'; readonly key: string; readonly value: JsonValue }
  | { readonly op: 'delete'; readonly key: string }
  /** Swaps when the current value equals `from` (null: only when absent). `to: null` deletes. */
  | { readonly op: 'cas'; readonly key: string; readonly from: JsonValue; readonly to: JsonValue }
  /** Swaps when the key's version equals `version` (0: only when absent). `value: null` deletes. */
  | { readonly op: 'casVersion'; readonly key: string; readonly version: number; readonly value: JsonValue }
  /** Adds `by` (default 1) to a number; an absent key counts as 0. */
  | { readonly op: 'incr'; readonly key: string; readonly by?: number };

export type KvQuery =
  | { readonly op: 'get'; readonly key: string }
  /** Keys in [start, end) or with `prefix`, sorted, at most `limit` (default 1000). */
  /** `exclude`: keys starting with it are skipped (the API hides the cluster's own "_synod/" keys). */
  | { readonly op: 'range'; readonly start?: string; readonly end?: string; readonly prefix?: string; readonly exclude?: string; readonly limit?: number };

export type KvRequest = KvCommand | KvQuery;

// a type, not an interface: results must be JSON values (an interface has no index signature)
export type KvItem = {
  readonly key: string;
  readonly value: JsonValue;
  /** 1 when created, +1 on every change; a deleted key starts again at 1. */
  readonly version: number;
  readonly createRevision: number;
  readonly modRevision: number;
};

export type KvResult =
  | { readonly revision: number; readonly version: number } // put
  | { readonly revision: number; readonly deleted: boolean } // delete
  | { readonly revision: number; readonly swapped: boolean; readonly version: number } // cas, casVersion
  | { readonly revision: number; readonly value: number; readonly version: number } // incr
  | { readonly revision: number; readonly error: 'not-a-number' } // incr of a non-number
  | { readonly revision: number; readonly value: JsonValue; readonly version: number; readonly createRevision: number; readonly modRevision: number } // get
  | { readonly revision: number; readonly items: KvItem[]; readonly more: boolean } // range
  | { readonly error: 'bad-request'; readonly message: string };

export type KvErrorCode = 'BAD_SNAPSHOT';

export class KvError extends Error {
  constructor(
    readonly code: KvErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'KvError';
  }
}

const DEFAULT_RANGE_LIMIT = 1000;
const MAX_RANGE_LIMIT = 100_000;

interface Stored {
  value: JsonValue;
  version: number;
  createRevision: number;
  modRevision: number;
}

/** JSON with object keys sorted: equal values give equal text. */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as JsonValue)}`).join(',')}}`;
}

function isRecord(value: unknown): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(r: { [key: string]: JsonValue }, name: string): string | null {
  const v = r[name];
  return v === undefined || typeof v === 'string' ? null : `${name} must be a string`;
}

/** A command or query as JSON, for a request to a Raft node (optional fields left out when absent). */
export function kvRequestToJson(request: KvRequest): JsonValue {
  const out: { [key: string]: JsonValue } = {};
  for (const [name, value] of Object.entries(request) as [string, JsonValue | undefined][]) if (value !== undefined) out[name] = value;
  return out;
}

/** Why the leader would refuse `raw` as a command (malformed, or past the limits); null when it would take it. */
export function kvCommandProblem(raw: JsonValue): string | null {
  const decoded = decodeKvRequest(raw);
  if (!decoded.ok) return decoded.problem;
  return decoded.value.op === 'get' || decoded.value.op === 'range' ? null : kvLimitProblem(decoded.value);
}

/** Decodes a KV command or query from JSON: its fields copied out once checked, so nothing is cast. */
export function decodeKvRequest(raw: JsonValue): Decoded<KvRequest> {
  const problem = kvRequestProblem(raw);
  if (problem !== null) return { ok: false, problem };
  const r = raw as { [key: string]: JsonValue };
  const key = r['key'] as string;
  const text = (name: string): string | undefined => (typeof r[name] === 'string' ? (r[name] as string) : undefined);
  const op = r['op'];
  let value: KvRequest;
  switch (op) {
    case 'get':
    case 'delete':
      value = { op, key };
      break;
    case 'put':
      value = { op, key, value: r['value'] as JsonValue };
      break;
    case 'cas':
      value = { op, key, from: r['from'] as JsonValue, to: r['to'] as JsonValue };
      break;
    case 'casVersion':
      value = { op, key, version: r['version'] as number, value: r['value'] as JsonValue };
      break;
    case 'incr':
      value = typeof r['by'] === 'number' ? { op, key, by: r['by'] } : { op, key };
      break;
    default: {
      const range: { op: 'range'; start?: string; end?: string; prefix?: string; exclude?: string; limit?: number } = { op: 'range' };
      for (const name of ['start', 'end', 'prefix', 'exclude'] as const) {
        const v = text(name);
        if (v !== undefined) range[name] = v;
      }
      if (typeof r['limit'] === 'number') range.limit = r['limit'];
      value = range;
    }
  }
  return { ok: true, value };
}

/** Why `request` is not a well-formed KV command or query; null when it is. */
export function kvRequestProblem(request: JsonValue): string | null {
  if (!isRecord(request)) return 'a kv request must be an object with an "op"';
  const op = request['op'];
  const needsKey = op === 'get' || op === 'put' || op === 'delete' || op === 'cas' || op === 'casVersion' || op === 'incr';
  if (needsKey && typeof request['key'] !== 'string') return `${String(op)} needs a string "key"`;
  switch (op) {
    case 'get':
    case 'delete':
      return null;
    case 'put':
      return request['value'] === undefined ? 'put needs a "value"' : null;
    case 'cas':
      return request['from'] === undefined || request['to'] === undefined ? 'cas needs "from" and "to"' : null;
    case 'casVersion': {
      const version = request['version'];
      if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) return 'casVersion needs an integer "version" >= 0';
      return request['value'] === undefined ? 'casVersion needs a "value"' : null;
    }
    case 'incr': {
      const by = request['by'];
      return by === undefined || (typeof by === 'number' && Number.isFinite(by)) ? null : 'incr "by" must be a finite number';
    }
    case 'range': {
      const limit = request['limit'];
      if (limit !== undefined && (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > MAX_RANGE_LIMIT)) {
        return `range "limit" must be an integer in [1, ${MAX_RANGE_LIMIT}]`;
      }
      return optionalString(request, 'start') ?? optionalString(request, 'end') ?? optionalString(request, 'prefix') ?? optionalString(request, 'exclude');
    }
    default:
      return `unknown kv op ${JSON.stringify(op ?? null)} (known: get, put, delete, cas, casVersion, incr, range)`;
  }
}

export class KvStore implements StateMachine<KvRequest, KvQuery, KvResult> {
  private readonly data = new Map<string, Stored>();
  private revisionValue = 0;

  /** The global revision: the number of changes applied so far. */
  get revision(): number {
    return this.revisionValue;
  }

  get size(): number {
    return this.data.size;
  }

  /** Commands, and reads sent through the log (answered like queries). */
  decodeCommand(raw: JsonValue): Decoded<KvRequest> {
    return decodeKvRequest(raw);
  }

  decodeQuery(raw: JsonValue): Decoded<KvQuery> {
    const decoded = decodeKvRequest(raw);
    if (!decoded.ok) return decoded;
    const request = decoded.value;
    return request.op === 'get' || request.op === 'range' ? { ok: true, value: request } : { ok: false, problem: `${request.op} changes state; send it as a command` };
  }

  admitCommand(command: KvRequest): string | null {
    return command.op === 'get' || command.op === 'range' ? null : kvLimitProblem(command);
  }

  apply(command: KvRequest, _index: number): KvResult {
    return this.execute(command);
  }

  query(query: KvQuery): KvResult {
    return this.execute(query);
  }

  execute(request: KvRequest): KvResult {
    switch (request.op) {
      case 'get':
        return this.get(request.key);
      case 'range':
        return this.range(request);
      case 'put':
        return this.put(request.key, request.value);
      case 'delete': {
        const deleted = this.remove(request.key);
        return { revision: this.revisionValue, deleted };
      }
      case 'cas': {
        const current = this.data.get(request.key)?.value ?? null;
        if (canonicalJson(current) !== canonicalJson(request.from)) return { revision: this.revisionValue, swapped: false, version: this.versionOf(request.key) };
        return this.swap(request.key, request.to);
      }
      case 'casVersion':
        if (this.versionOf(request.key) !== request.version) return { revision: this.revisionValue, swapped: false, version: this.versionOf(request.key) };
        return this.swap(request.key, request.value);
      case 'incr':
        return this.increment(request.key, request.by ?? 1);
    }
  }

  private versionOf(key: string): number {
    return this.data.get(key)?.version ?? 0;
  }

  private get(key: string): KvResult {
    const s = this.data.get(key);
    if (s === undefined) return { revision: this.revisionValue, value: null, version: 0, createRevision: 0, modRevision: 0 };
    return { revision: this.revisionValue, value: s.value, version: s.version, createRevision: s.createRevision, modRevision: s.modRevision };
  }

  private range(q: Extract<KvQuery, { op: 'range' }>): KvResult {
    const limit = q.limit ?? DEFAULT_RANGE_LIMIT;
    const keys = [...this.data.keys()].filter((k) => inRange(k, q)).sort();
    const items = keys.slice(0, limit).map((key) => {
      const s = this.data.get(key) as Stored;
      return { key, value: s.value, version: s.version, createRevision: s.createRevision, modRevision: s.modRevision };
    });
    return { revision: this.revisionValue, items, more: keys.length > limit };
  }

  /** Writes a value (null deletes); every write is a change, so it takes a new revision. */
  private put(key: string, value: JsonValue): KvResult {
    if (value === null) {
      this.remove(key);
      return { revision: this.revisionValue, version: 0 };
    }
    const revision = ++this.revisionValue;
    const s = this.data.get(key);
    if (s === undefined) {
      this.data.set(key, { value, version: 1, createRevision: revision, modRevision: revision });
      return { revision, version: 1 };
    }
    s.value = value;
    s.version++;
    s.modRevision = revision;
    return { revision, version: s.version };
  }

  private remove(key: string): boolean {
    if (!this.data.delete(key)) return false;
    this.revisionValue++;
    return true;
  }

  private swap(key: string, value: JsonValue): KvResult {
    const r = this.put(key, value) as { revision: number; version: number };
    return { revision: r.revision, swapped: true, version: r.version };
  }

  private increment(key: string, by: number): KvResult {
    const current = this.data.get(key)?.value ?? 0;
    if (typeof current !== 'number') return { revision: this.revisionValue, error: 'not-a-number' };
    const value = current + by;
    const r = this.put(key, value) as { revision: number; version: number };
    return { revision: r.revision, value, version: r.version };
  }

  snapshot(): JsonValue {
    const keys = [...this.data.keys()].sort();
    return {
      revision: this.revisionValue,
      items: keys.map((key) => {
        const s = this.data.get(key) as Stored;
        return [key, s.value, s.version, s.createRevision, s.modRevision];
      }),
    };
  }

  restore(data: JsonValue): void {
    if (!isRecord(data) || typeof data['revision'] !== 'number' || !Array.isArray(data['items'])) {
      throw new KvError('BAD_SNAPSHOT', 'a kv snapshot must be {revision, items}');
    }
    this.data.clear();
    for (const row of data['items']) {
      if (!Array.isArray(row) || row.length !== 5 || typeof row[0] !== 'string' || typeof row[2] !== 'number' || typeof row[3] !== 'number' || typeof row[4] !== 'number') {
        throw new KvError('BAD_SNAPSHOT', `bad kv snapshot item ${JSON.stringify(row)}`);
      }
      this.data.set(row[0], { value: row[1] as JsonValue, version: row[2], createRevision: row[3], modRevision: row[4] });
    }
    this.revisionValue = data['revision'];
  }
}

/**
 * Why a well-formed command exceeds the limits (limits.ts); null when it does not. Checked when a
 * command is proposed, not when it is applied: an entry already in a log applies the same way on
 * every node whatever limits a later version sets.
 */
export function kvLimitProblem(command: KvCommand): string | null {
  const key = keyProblem(command.key);
  if (key !== null) return key;
  switch (command.op) {
    case 'put':
    case 'casVersion':
      return valueProblem(command.value);
    case 'cas':
      return valueProblem(command.from, '"from"') ?? valueProblem(command.to, '"to"');
    default:
      return null;
  }
}

function inRange(key: string, q: { readonly start?: string; readonly end?: string; readonly prefix?: string; readonly exclude?: string }): boolean {
  if (q.prefix !== undefined && !key.startsWith(q.prefix)) return false;
  if (q.exclude !== undefined && key.startsWith(q.exclude)) return false;
  if (q.start !== undefined && key < q.start) return false;
  if (q.end !== undefined && key >= q.end) return false;
  return true;
}
