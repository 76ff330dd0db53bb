// The KV snapshot as JSON, both ways. The live keys keep the layout of the versions before
// history (`items`), so those versions could still read the current state; the retained history,
// compaction point and lease table sit beside it. Parsing checks everything and throws BAD_SNAPSHOT.
import type { JsonValue } from '../core/index.js';
import { KvError } from './errors.js';
import { KeyHistory, TOMBSTONE, type Slot } from './history.js';

/** What a snapshot holds, as the store rebuilds itself from it. */
export interface StoreState {
  readonly revision: number;
  readonly compactRevision: number;
  readonly changesFrom: number;
  /** Sorted by key. */
  readonly records: readonly KeyHistory[];
  /** Lease id to TTL in milliseconds. */
  readonly leases: ReadonlyMap<number, number>;
}

/**
 * `{revision, items, compactRevision, changesFrom?, history, leases}`:
 * - items: `[key, value, version, createRevision, modRevision]` of every live key, sorted;
 * - history: `[key, firstVersion, firstCreate, revisions, values, leases | 0]` of every key with
 *   retained changes before its current one (or deleted, not yet compacted away), sorted: its
 *   changes except the current put (which is in items), a delete as its revision negated, values
 *   of the puts only, leases per change;
 * - leases: `[id, ttlMs, keys]` in id order, keys sorted (the current lease of every live key);
 * - changesFrom: only when not compactRevision (after a restore from a pre-history snapshot).
 * Fresh arrays throughout; values are shared, and the store never changes a value in place.
 */
export function snapshotOf(state: StoreState): JsonValue {
  const items: JsonValue[] = [];
  const history: JsonValue[] = [];
  const attached = new Map<number, string[]>();
  for (const record of state.records) {
    const n = record.revs.length;
    const past = record.live ? n - 1 : n;
    if (record.live) {
      const item = record.itemAt(n - 1);
      items.push([item.key, item.value, item.version, item.createRevision, item.modRevision]);
      if (record.lease !== 0) {
        const keys = attached.get(record.lease) ?? [];
        keys.push(record.key);
        attached.set(record.lease, keys);
      }
    }
    if (past === 0) continue;
    const revs: number[] = [];
    const values: JsonValue[] = [];
    for (let i = 0; i < past; i++) {
      const slot = record.values[i] as Slot;
      if (slot === TOMBSTONE) revs.push(-(record.revs[i] as number));
      else {
        revs.push(record.revs[i] as number);
        values.push(slot);
      }
    }
    const leases = record.leases === null || record.leases.slice(0, past).every((l) => l === 0) ? 0 : record.leases.slice(0, past);
    history.push([record.key, record.firstVersion, record.firstCreate, revs, values, leases]);
  }
  const leases: JsonValue[] = [...state.leases.entries()].sort((a, b) => a[0] - b[0]).map(([id, ttlMs]) => [id, ttlMs, attached.get(id) ?? []]);
  const out: { [key: string]: JsonValue } = { revision: state.revision, items, compactRevision: state.compactRevision };
  if (state.changesFrom !== state.compactRevision) out['changesFrom'] = state.changesFrom;
  out['history'] = history;
  out['leases'] = leases;
  return out;
}

function bad(message: string): never {
  throw new KvError('BAD_SNAPSHOT', message);
}

function isRecord(value: unknown): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function count(value: JsonValue | undefined, min: number, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) bad(`${what} must be an integer >= ${min}, not ${JSON.stringify(value ?? null)}`);
  return value;
}

/** A live key's current state: an item row. */
interface Item {
  readonly value: JsonValue;
  readonly version: number;
  readonly createRevision: number;
  readonly modRevision: number;
}

/** Reads a snapshot of this version or of the versions before history; throws KvError BAD_SNAPSHOT on anything else. */
export function parseSnapshot(data: JsonValue): StoreState {
  if (!isRecord(data) || typeof data['revision'] !== 'number' || !Array.isArray(data['items'])) bad('a kv snapshot must be {revision, items}');
  const revision = count(data['revision'], 0, 'the snapshot revision');
  const legacy = data['compactRevision'] === undefined;
  // before history, a snapshot held the state at its revision only: nothing older can be read, and
  // the changes at that revision are unknown (its deletes left no trace)
  const compactRevision = legacy ? revision : count(data['compactRevision'], 0, 'compactRevision');
  if (compactRevision > revision) bad(`compactRevision ${compactRevision} is past the revision ${revision}`);
  const changesFrom = legacy ? revision + 1 : data['changesFrom'] === undefined ? compactRevision : count(data['changesFrom'], 0, 'changesFrom');
  if (changesFrom < compactRevision || changesFrom > revision + 1) bad(`changesFrom ${changesFrom} is outside [${compactRevision}, ${revision + 1}]`);

  const items = new Map<string, Item>();
  for (const row of data['items']) {
    if (!Array.isArray(row) || row.length !== 5 || typeof row[0] !== 'string' || typeof row[2] !== 'number' || typeof row[3] !== 'number' || typeof row[4] !== 'number') {
      bad(`bad kv snapshot item ${JSON.stringify(row)}`);
    }
    const [key, value] = row as [string, JsonValue];
    const version = count(row[2], 1, `the version of ${JSON.stringify(key)}`);
    const createRevision = count(row[3], 1, `the createRevision of ${JSON.stringify(key)}`);
    const modRevision = count(row[4], createRevision, `the modRevision of ${JSON.stringify(key)}`);
    if (value === null) bad(`${JSON.stringify(key)} has the value null (null means absent)`);
    if (modRevision > revision) bad(`${JSON.stringify(key)} was changed at ${modRevision}, after the snapshot's revision ${revision}`);
    if ((version === 1) !== (createRevision === modRevision)) bad(`${JSON.stringify(key)}: version ${version} with createRevision ${createRevision} and modRevision ${modRevision}`);
    if (items.has(key)) bad(`${JSON.stringify(key)} is listed twice`);
    items.set(key, { value, version, createRevision, modRevision });
  }

  const leaseTtls = new Map<number, number>();
  const leaseOf = new Map<string, number>();
  const leaseRows = legacy ? [] : data['leases'];
  if (!Array.isArray(leaseRows)) bad('a kv snapshot with history must list its leases');
  for (const row of leaseRows) {
    if (!Array.isArray(row) || row.length !== 3 || !Array.isArray(row[2])) bad(`bad lease row ${JSON.stringify(row)}`);
    const id = count(row[0], 1, 'a lease id');
    const ttlMs = count(row[1], 1, `the TTL of lease ${id}`);
    if (leaseTtls.has(id)) bad(`lease ${id} is listed twice`);
    leaseTtls.set(id, ttlMs);
    for (const key of row[2]) {
      if (typeof key !== 'string' || !items.has(key)) bad(`lease ${id} holds ${JSON.stringify(key)}, which is not a live key`);
      if (leaseOf.has(key)) bad(`${JSON.stringify(key)} is attached to two leases`);
      leaseOf.set(key, id);
    }
  }

  const records = new Map<string, KeyHistory>();
  const historyRows = legacy ? [] : data['history'];
  if (!Array.isArray(historyRows)) bad('a kv snapshot with history must hold its history');
  for (const row of historyRows) {
    const record = parseHistoryRow(row, items, leaseOf, revision, compactRevision);
    if (records.has(record.key)) bad(`${JSON.stringify(record.key)} has two histories`);
    records.set(record.key, record);
  }
  for (const [key, item] of items) {
    if (!records.has(key)) records.set(key, new KeyHistory(key, item.modRevision, item.value, leaseOf.get(key) ?? 0, item.version, item.createRevision));
  }
  const sorted = [...records.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { revision, compactRevision, changesFrom, records: sorted, leases: leaseTtls };
}

/** One key's history row, with its current item (if live) as its last change. */
function parseHistoryRow(row: JsonValue, items: ReadonlyMap<string, Item>, leaseOf: ReadonlyMap<string, number>, revision: number, compactRevision: number): KeyHistory {
  if (!Array.isArray(row) || row.length !== 6 || typeof row[0] !== 'string' || !Array.isArray(row[3]) || !Array.isArray(row[4]) || !(row[5] === 0 || Array.isArray(row[5]))) {
    bad(`bad history row ${JSON.stringify(row).slice(0, 200)}`);
  }
  const key = row[0];
  const name = JSON.stringify(key);
  const firstVersion = count(row[1], 1, `the first version of ${name}`);
  const firstCreate = count(row[2], 1, `the first createRevision of ${name}`);
  const encoded = row[3];
  const puts = row[4];
  const leaseList = row[5] === 0 ? null : row[5];
  if (encoded.length === 0) bad(`the history of ${name} is empty`);
  if (leaseList !== null && leaseList.length !== encoded.length) bad(`the history of ${name} has ${leaseList.length} leases for ${encoded.length} changes`);
  const revs: number[] = [];
  const values: Slot[] = [];
  const leases: number[] = [];
  let nextPut = 0;
  for (let i = 0; i < encoded.length; i++) {
    const signed = encoded[i];
    if (typeof signed !== 'number' || !Number.isSafeInteger(signed) || signed === 0) bad(`${name}: bad revision ${JSON.stringify(signed ?? null)}`);
    const rev = Math.abs(signed);
    const put = signed > 0;
    if (rev > revision) bad(`${name} was changed at ${rev}, after the snapshot's revision ${revision}`);
    if (i > 0 && rev <= (revs[i - 1] as number)) bad(`${name}: revisions out of order`);
    // compaction keeps one change before its revision at most, the first, and never a delete
    if (rev < compactRevision && (i > 0 || !put)) bad(`${name} keeps changes from before the compaction at ${compactRevision}`);
    if (!put && (i === 0 || values[i - 1] === TOMBSTONE)) bad(`${name}: a delete of a key that did not exist`);
    const lease = leaseList === null ? 0 : count(leaseList[i], 0, `a lease of ${name}`);
    if (!put && lease !== 0) bad(`${name}: a delete with a lease`);
    if (put) {
      if (nextPut >= puts.length) bad(`${name}: fewer values than puts`);
      const value = puts[nextPut++] as JsonValue;
      if (value === null) bad(`${name} has the value null (null means absent)`);
      values.push(value);
    } else values.push(TOMBSTONE);
    revs.push(rev);
    leases.push(lease);
  }
  if (nextPut !== puts.length) bad(`${name}: more values than puts`);
  if (firstCreate > (revs[0] as number) || (firstVersion === 1) !== (firstCreate === revs[0])) bad(`${name}: first version ${firstVersion} with createRevision ${firstCreate} at revision ${revs[0]}`);
  const item = items.get(key);
  if (item === undefined) {
    if (values[values.length - 1] !== TOMBSTONE) bad(`${name} is not deleted, yet it is not among the items`);
    if ((revs[revs.length - 1] as number) < compactRevision) bad(`${name} was deleted before the compaction at ${compactRevision}, yet kept`);
    return KeyHistory.fromChanges(key, revs, values, leases, firstVersion, firstCreate);
  }
  if (item.modRevision <= (revs[revs.length - 1] as number)) bad(`${name}: its item is older than its history`);
  if (item.modRevision < compactRevision) bad(`${name} keeps changes from before the compaction at ${compactRevision}`);
  revs.push(item.modRevision);
  values.push(item.value);
  leases.push(leaseOf.get(key) ?? 0);
  const record = KeyHistory.fromChanges(key, revs, values, leases, firstVersion, firstCreate);
  if (record.version !== item.version || record.createRevision !== item.createRevision) {
    bad(`${name}: its item (version ${item.version}, createRevision ${item.createRevision}) does not follow from its history (${record.version}, ${record.createRevision})`);
  }
  return record;
}
