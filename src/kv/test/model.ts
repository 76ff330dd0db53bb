// A reference model of the KV for the property tests, as plain as can be: the whole state copied
// at every revision, every change in one list, txns run on a copy. It shares no code with the
// store but the request types and canonical JSON, so agreement means something.
import type { JsonValue } from '../../core/index.js';
import { canonicalJson, type Compare, type KvItem, type TxnOp, type TxnRequest } from '../requests.js';

type Item = { value: JsonValue; version: number; createRevision: number; modRevision: number; lease: number };
type State = Map<string, Item>;
type Change = { revision: number; key: string; type: 'put' | 'delete'; kv: KvItem; prevKv: KvItem | null };
type Obj = { [key: string]: JsonValue };

function itemOf(key: string, i: Item): KvItem {
  const base = { key, value: i.value, version: i.version, createRevision: i.createRevision, modRevision: i.modRevision };
  return i.lease === 0 ? base : { ...base, lease: i.lease };
}

function getFields(i: Item | undefined): Obj {
  if (i === undefined) return { value: null, version: 0, createRevision: 0, modRevision: 0 };
  const base: Obj = { value: i.value, version: i.version, createRevision: i.createRevision, modRevision: i.modRevision };
  if (i.lease !== 0) base['lease'] = i.lease;
  return base;
}

/** Keys a delete covers. */
function deleteCovers(op: Obj, key: string): boolean {
  if (typeof op['prefix'] === 'string') return key.startsWith(op['prefix']) && !(typeof op['exclude'] === 'string' && key.startsWith(op['exclude']));
  if (typeof op['end'] === 'string') return key >= (op['key'] as string) && key < op['end'] && !(typeof op['exclude'] === 'string' && key.startsWith(op['exclude']));
  return key === op['key'];
}

function inRange(key: string, q: Obj): boolean {
  if (typeof q['prefix'] === 'string' && !key.startsWith(q['prefix'])) return false;
  if (typeof q['exclude'] === 'string' && key.startsWith(q['exclude'])) return false;
  if (typeof q['start'] === 'string' && key < q['start']) return false;
  if (typeof q['end'] === 'string' && key >= q['end']) return false;
  return true;
}

export class KvModel {
  /** states[r]: every key at revision r. */
  states: State[] = [new Map()];
  changes: Change[] = [];
  leases = new Map<number, number>();
  compactRevision = 0;
  /** The first revision a changes pull may start from. */
  changesFloor = 0;

  constructor(private readonly retain = 0) {}

  get revision(): number {
    return this.states.length - 1;
  }

  private get now(): State {
    return this.states[this.revision] as State;
  }

  /**
   * Runs `request` (already decoded: well formed) and returns the result the store must give.
   * `index` is the log index.
   */
  run(request: Obj, index: number): JsonValue {
    const r = this.revision;
    switch (request['op']) {
      case 'get':
        return this.read(request, (state) => ({ revision: this.revision, ...getFields(state.get(request['key'] as string)) }));
      case 'range':
        return this.read(request, (state) => {
          const keys = [...state.keys()].filter((k) => inRange(k, request)).sort();
          const limit = (request['limit'] as number | undefined) ?? 1000;
          return { revision: this.revision, items: keys.slice(0, limit).map((k) => itemOf(k, state.get(k) as Item)), more: keys.length > limit };
        });
      case 'put': {
        const lease = (request['lease'] as number | undefined) ?? 0;
        if (lease !== 0 && request['value'] !== null && !this.leases.has(lease)) return { revision: r, error: 'lease-not-found', id: lease };
        return this.write((w) => ({ ...this.putIn(w, request) }));
      }
      case 'delete':
        return this.write((w) => this.deleteIn(w, request));
      case 'cas': {
        const cur = this.now.get(request['key'] as string);
        if (canonicalJson(cur?.value ?? null) !== canonicalJson(request['from'] as JsonValue)) return { revision: r, swapped: false, version: cur?.version ?? 0 };
        return this.write((w) => ({ swapped: true, version: this.putIn(w, { key: request['key'] as string, value: request['to'] as JsonValue, ignoreLease: true })['version'] as number }));
      }
      case 'casVersion': {
        const cur = this.now.get(request['key'] as string);
        if ((cur?.version ?? 0) !== request['version']) return { revision: r, swapped: false, version: cur?.version ?? 0 };
        return this.write((w) => ({ swapped: true, version: this.putIn(w, { key: request['key'] as string, value: request['value'] as JsonValue, ignoreLease: true })['version'] as number }));
      }
      case 'incr': {
        const cur = this.now.get(request['key'] as string)?.value ?? 0;
        if (typeof cur !== 'number') return { revision: r, error: 'not-a-number' };
        const value = cur + ((request['by'] as number | undefined) ?? 1);
        return this.write((w) => ({ value, version: this.putIn(w, { key: request['key'] as string, value, ignoreLease: true })['version'] as number }));
      }
      case 'txn':
        return this.txn(request as unknown as TxnRequest);
      case 'compact': {
        const c = request['revision'] as number;
        if (c > r) return { revision: r, error: 'future-revision' };
        if (c <= this.compactRevision) return { revision: r, error: 'compacted', compactRevision: this.compactRevision };
        this.compactRevision = c;
        this.changesFloor = Math.max(this.changesFloor, c);
        return { revision: r, compactRevision: c };
      }
      case 'leaseGrant': {
        const asked = request['id'] as number | undefined;
        if (asked !== undefined && this.leases.has(asked)) return { revision: r, error: 'lease-exists', id: asked };
        let id = asked ?? Math.max(1, index);
        while (this.leases.has(id)) id++;
        this.leases.set(id, request['ttlMs'] as number);
        return { revision: r, id, ttlMs: request['ttlMs'] as number };
      }
      case 'leaseRevoke': {
        const id = request['id'] as number;
        if (!this.leases.has(id)) return { revision: r, error: 'lease-not-found', id };
        const result = this.write((w) => {
          let deleted = 0;
          for (const [key, item] of [...w.state]) {
            if (item.lease !== id) continue;
            this.deleteKey(w, key);
            deleted++;
          }
          return { deleted };
        });
        this.leases.delete(id);
        return result;
      }
      case 'leaseTimeToLive': {
        const id = request['id'] as number;
        const ttlMs = this.leases.get(id);
        if (ttlMs === undefined) return { revision: r, error: 'lease-not-found', id };
        const keys = [...this.now].filter(([, i]) => i.lease === id).map(([k]) => k).sort();
        return request['keys'] === true ? { revision: r, id, ttlMs, keys } : { revision: r, id, ttlMs };
      }
      case 'leaseList': {
        const ids = [...this.leases.keys()].filter((id) => id > ((request['after'] as number | undefined) ?? 0)).sort((a, b) => a - b);
        const limit = (request['limit'] as number | undefined) ?? 1000;
        return { revision: r, leases: ids.slice(0, limit).map((id) => ({ id, ttlMs: this.leases.get(id) as number })), more: ids.length > limit };
      }
      default:
        throw new Error(`model: no op ${String(request['op'])}`);
    }
  }

  /** Every change a watcher of `q` sees from `from` on (the store pages them; this is all of them). */
  changesFor(q: Obj, from: number): JsonValue[] | 'compacted' {
    if (from < this.changesFloor || from < this.compactRevision) return 'compacted';
    const selected = this.changes.filter((c) => {
      if (c.revision < from) return false;
      if (typeof q['prefix'] === 'string' && !c.key.startsWith(q['prefix'])) return false;
      if (typeof q['exclude'] === 'string' && c.key.startsWith(q['exclude'])) return false;
      if (typeof q['prefix'] !== 'string') {
        if (typeof q['end'] === 'string') {
          if (c.key < (q['key'] as string) || c.key >= q['end']) return false;
        } else if (c.key !== q['key']) return false;
      }
      if (c.type === 'put' && q['noPut'] === true) return false;
      if (c.type === 'delete' && q['noDelete'] === true) return false;
      return true;
    });
    return selected.map((c): JsonValue => (q['prevKv'] === true && c.prevKv !== null ? { type: c.type, kv: c.kv, prevKv: c.prevKv, revision: c.revision } : { type: c.type, kv: c.kv, revision: c.revision }));
  }

  private read(request: Obj, answer: (state: State) => JsonValue): JsonValue {
    const at = (request['revision'] as number | undefined) ?? 0;
    if (at > this.revision) return { revision: this.revision, error: 'future-revision' };
    if (at !== 0 && at !== this.revision && at < this.compactRevision) return { revision: this.revision, error: 'compacted', compactRevision: this.compactRevision };
    return answer(at === 0 ? this.now : (this.states[at] as State));
  }

  // ---------------------------------------------------------------- writes

  /** A write command on a copy of the state: one new revision if anything changed. */
  private write(run: (w: Work) => Obj): JsonValue {
    const w: Work = { state: new Map(this.now), changed: new Map() };
    const body = run(w);
    return { revision: this.commit(w), ...body };
  }

  private commit(w: Work): number {
    if (w.changed.size === 0) return this.revision;
    const revision = this.revision + 1;
    for (const key of [...w.changed.keys()].sort()) {
      const before = this.now.get(key);
      const after = w.state.get(key);
      const prevKv = before === undefined ? null : itemOf(key, before);
      if (after === undefined) this.changes.push({ revision, key, type: 'delete', kv: { key, value: null, version: 0, createRevision: 0, modRevision: revision }, prevKv });
      else this.changes.push({ revision, key, type: 'put', kv: itemOf(key, after), prevKv });
    }
    this.states.push(w.state);
    if (this.retain > 0 && revision % Math.max(1, Math.floor(this.retain / 10)) === 0 && revision - this.retain > this.compactRevision) {
      this.compactRevision = revision - this.retain;
      this.changesFloor = Math.max(this.changesFloor, this.compactRevision);
    }
    return revision;
  }

  private putIn(w: Work, op: { key?: JsonValue; value?: JsonValue; lease?: JsonValue; ignoreLease?: JsonValue; prevKv?: JsonValue }): Obj {
    const key = op.key as string;
    const cur = w.state.get(key);
    const prev: Obj = op.prevKv === true ? { prevKv: cur === undefined ? null : itemOf(key, cur) } : {};
    if (op.value === null) {
      if (cur !== undefined) this.deleteKey(w, key);
      return { version: 0, ...prev };
    }
    const revision = this.revision + 1;
    const lease = op.ignoreLease === true ? (cur?.lease ?? 0) : ((op.lease as number | undefined) ?? 0);
    const next = cur === undefined ? { value: op.value as JsonValue, version: 1, createRevision: revision, modRevision: revision, lease } : { value: op.value as JsonValue, version: cur.version + 1, createRevision: cur.createRevision, modRevision: revision, lease };
    w.state.set(key, next);
    w.changed.set(key, true);
    return { version: next.version, ...prev };
  }

  private deleteKey(w: Work, key: string): void {
    w.state.delete(key);
    w.changed.set(key, true);
  }

  private deleteIn(w: Work, op: Obj): Obj {
    if (typeof op['prefix'] !== 'string' && typeof op['end'] !== 'string') {
      const key = op['key'] as string;
      const cur = w.state.get(key);
      if (cur !== undefined) this.deleteKey(w, key);
      return op['prevKv'] === true ? { deleted: cur !== undefined, prevKv: cur === undefined ? null : itemOf(key, cur) } : { deleted: cur !== undefined };
    }
    const doomed = [...w.state.keys()].filter((k) => deleteCovers(op, k)).sort();
    const prevKvs = doomed.map((k) => itemOf(k, w.state.get(k) as Item));
    for (const k of doomed) this.deleteKey(w, k);
    return op['prevKv'] === true ? { deleted: doomed.length, prevKvs } : { deleted: doomed.length };
  }

  // ---------------------------------------------------------------- txn

  private holds(c: Compare, state: State): boolean {
    const i = state.get(c.key);
    const actual: JsonValue = c.target === 'value' ? (i?.value ?? null) : (i?.[c.target] ?? 0);
    const eq = canonicalJson(actual) === canonicalJson(c.value);
    if (c.cmp === '=') return eq;
    if (c.cmp === '!=') return !eq;
    const both = (typeof actual === 'number' && typeof c.value === 'number') || (typeof actual === 'string' && typeof c.value === 'string');
    if (!both) return false;
    return c.cmp === '<' ? (actual as number) < (c.value as number) : (actual as number) > (c.value as number);
  }

  /** The ops a txn runs, with the branch of every nested txn chosen against the state before it. */
  private choose(t: TxnRequest, before: State): { succeeded: boolean; ops: { op: TxnOp; inner?: ReturnType<KvModel['choose']> }[] } {
    const succeeded = t.compare.every((c) => this.holds(c, before));
    const ops = (succeeded ? t.success : t.failure).map((op) => (op.op === 'txn' ? { op, inner: this.choose(op, before) } : { op }));
    return { succeeded, ops };
  }

  private txn(t: TxnRequest): JsonValue {
    const before = this.now;
    const plan = this.choose(t, before);
    // grants of the txn, in the order they would run: a put may name a lease granted before it
    const granted = new Set<number>();
    const problem = (p: ReturnType<KvModel['choose']>): Obj | null => {
      for (const { op, inner } of p.ops) {
        if (op.op === 'put' && op.lease !== undefined && op.value !== null && !this.leases.has(op.lease) && !granted.has(op.lease)) return { error: 'lease-not-found', id: op.lease };
        if (op.op === 'leaseGrant') {
          if (this.leases.has(op.id) || granted.has(op.id)) return { error: 'lease-exists', id: op.id };
          granted.add(op.id);
        }
        if (inner !== undefined) {
          const m = problem(inner);
          if (m !== null) return m;
        }
      }
      return null;
    };
    const refused = problem(plan);
    if (refused !== null) return { revision: this.revision, ...refused };
    const w: Work = { state: new Map(before), changed: new Map() };
    const run = (p: ReturnType<KvModel['choose']>): Obj => ({
      succeeded: p.succeeded,
      results: p.ops.map(({ op, inner }): JsonValue => {
        const o = op as unknown as Obj;
        switch (op.op) {
          case 'put':
            return this.putIn(w, o);
          case 'delete':
            return this.deleteIn(w, o);
          case 'get':
            return getFields(w.state.get(op.key));
          case 'range': {
            const keys = [...w.state.keys()].filter((k) => inRange(k, o)).sort();
            const limit = op.limit ?? 1000;
            return { items: keys.slice(0, limit).map((k) => itemOf(k, w.state.get(k) as Item)), more: keys.length > limit };
          }
          case 'leaseGrant':
            this.leases.set(op.id, op.ttlMs);
            return { id: op.id, ttlMs: op.ttlMs };
          case 'txn':
            return run(inner as ReturnType<KvModel['choose']>);
        }
      }),
    });
    const body = run(plan);
    const revision = this.commit(w);
    const stamp = (b: Obj): Obj => (Array.isArray(b['results']) && b['succeeded'] !== undefined ? { revision, succeeded: b['succeeded'], results: (b['results'] as Obj[]).map(stamp) } : { revision, ...b });
    return stamp(body);
  }
}

interface Work {
  state: State;
  changed: Map<string, true>;
}

/**
 * Whether some run of `txn` (any choice of branches) would write a key twice (two puts of it, or
 * a put and a delete covering it) or grant a lease twice. Found by listing the runs, not as the
 * decoder does.
 */
export function txnWritesTwice(txn: Obj): boolean {
  const runs = (ops: JsonValue[]): Obj[][] => {
    let out: Obj[][] = [[]];
    for (const raw of ops) {
      const op = raw as Obj;
      if (op['op'] === 'put' || op['op'] === 'delete' || op['op'] === 'leaseGrant') out = out.map((run) => [...run, op]);
      else if (op['op'] === 'txn') {
        const inner = [...runs((op['success'] as JsonValue[] | undefined) ?? []), ...runs((op['failure'] as JsonValue[] | undefined) ?? [])];
        out = out.flatMap((run) => inner.map((more) => [...run, ...more]));
      }
    }
    return out;
  };
  const clashes = (run: Obj[]): boolean => {
    for (let i = 0; i < run.length; i++) {
      for (let j = 0; j < run.length; j++) {
        if (i === j) continue;
        const a = run[i] as Obj;
        const b = run[j] as Obj;
        if (a['op'] === 'leaseGrant' && b['op'] === 'leaseGrant' && a['id'] === b['id']) return true;
        if (a['op'] !== 'put') continue;
        if (b['op'] === 'put' && b['key'] === a['key']) return true;
        if (b['op'] === 'delete' && deleteCovers({ ...b, exclude: null }, a['key'] as string)) return true;
      }
    }
    return false;
  };
  const branches = [(txn['success'] as JsonValue[] | undefined) ?? [], (txn['failure'] as JsonValue[] | undefined) ?? []];
  return branches.some((branch) => runs(branch).some(clashes));
}

