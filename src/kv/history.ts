// The retained history of one key: every change (put or delete) with its revision, kept in
// parallel arrays (revisions, values, leases) and searched by binary search. Versions and create
// revisions are derived from where each generation (create ... delete) starts, not stored per change.
import { assertInvariant, type JsonValue } from '../core/index.js';
import type { KvItem } from './requests.js';
import { lowerBound } from './sorted-keys.js';

/** What a delete leaves in a key's history. */
export const TOMBSTONE: unique symbol = Symbol('tombstone');
export type Slot = JsonValue | typeof TOMBSTONE;

export class KeyHistory {
  /** Revision of every retained change, ascending: one change per revision at most. */
  revs: number[];
  /** The value each change wrote, TOMBSTONE for a delete; parallel to `revs`. */
  values: Slot[];
  /** The lease of each change (0: none), parallel to `revs`; null while no retained change had one. */
  leases: number[] | null = null;
  /** Indexes of the tombstones in `revs`, ascending; null while there is none (most keys are never deleted). */
  tombstones: number[] | null = null;
  /** Version and create revision of the change at index 0 when it is a put: compaction may have cut the start of its generation. */
  firstVersion: number;
  firstCreate: number;
  /** The key now: version 0 when deleted; kept here so that a write costs no search. */
  version: number;
  createRevision: number;

  /** A key created by a put of `value` at `revision` (or restored from a snapshot with its version and create revision). */
  constructor(
    readonly key: string,
    revision: number,
    value: JsonValue,
    lease: number,
    version = 1,
    createRevision = revision,
  ) {
    this.revs = [revision];
    this.values = [value];
    if (lease !== 0) this.leases = [lease];
    this.firstVersion = version;
    this.firstCreate = createRevision;
    this.version = version;
    this.createRevision = createRevision;
  }

  get live(): boolean {
    return this.version > 0;
  }

  get lastRevision(): number {
    return this.revs[this.revs.length - 1] as number;
  }

  /** The key's lease now (0: none or deleted). */
  get lease(): number {
    return this.leases === null ? 0 : (this.leases[this.leases.length - 1] as number);
  }

  put(revision: number, value: JsonValue, lease: number): void {
    this.append(revision, value, lease);
    if (this.version === 0) {
      this.version = 1;
      this.createRevision = revision;
    } else this.version++;
  }

  remove(revision: number): void {
    assertInvariant(this.live, () => `kv: delete of ${JSON.stringify(this.key)}, which is already deleted`);
    const index = this.revs.length;
    this.append(revision, TOMBSTONE, 0);
    (this.tombstones ??= []).push(index);
    this.version = 0;
    this.createRevision = 0;
  }

  private append(revision: number, slot: Slot, lease: number): void {
    // tested first so that the hot path builds no message closure
    if (revision <= this.lastRevision) assertInvariant(false, () => `kv: ${JSON.stringify(this.key)} changed twice at revision ${revision} (last change ${this.lastRevision})`);
    if (this.leases === null && lease !== 0) this.leases = new Array<number>(this.revs.length).fill(0);
    this.revs.push(revision);
    this.values.push(slot);
    this.leases?.push(lease);
  }

  /** Index of the last change at or before `revision`; -1 when the key's retained history starts after it. */
  indexAt(revision: number): number {
    const revs = this.revs;
    let lo = 0;
    let hi = revs.length; // answer in [lo - 1, hi - 1]
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((revs[mid] as number) <= revision) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** Index of the change at exactly `revision`; -1 when there is none. */
  indexOf(revision: number): number {
    const i = this.indexAt(revision);
    return i >= 0 && this.revs[i] === revision ? i : -1;
  }

  isPut(index: number): boolean {
    return this.values[index] !== TOMBSTONE;
  }

  /** The item the put at `index` left (its version and create revision derived from its generation). */
  itemAt(index: number): KvItem {
    assertInvariant(index >= 0 && index < this.revs.length && this.isPut(index), () => `kv: no put at index ${index} of ${JSON.stringify(this.key)}`);
    const lease = this.leases === null ? 0 : (this.leases[index] as number);
    const modRevision = this.revs[index] as number;
    const [version, createRevision] = index === this.revs.length - 1 ? [this.version, this.createRevision] : this.derived(index);
    const item = { key: this.key, value: this.values[index] as JsonValue, version, createRevision, modRevision };
    return lease === 0 ? item : { ...item, lease };
  }

  /** Version and create revision of the put at `index`, from where its generation starts. */
  private derived(index: number): [number, number] {
    const start = this.generationStart(index);
    if (start === 0) return [this.firstVersion + index, this.firstCreate];
    return [index - start + 1, this.revs[start] as number];
  }

  /**
   * A key's retained history as a snapshot holds it (checked by the caller): changes in order,
   * TOMBSTONE for deletes, leases per change or null, and the version and create revision of the
   * first change (a put).
   */
  static fromChanges(key: string, revs: number[], values: Slot[], leases: number[] | null, firstVersion: number, firstCreate: number): KeyHistory {
    const h = new KeyHistory(key, revs[0] as number, values[0] as JsonValue, 0, firstVersion, firstCreate);
    h.revs = revs;
    h.values = values;
    h.leases = leases !== null && leases.some((l) => l !== 0) ? leases : null;
    const tombstones: number[] = [];
    values.forEach((v, i) => {
      if (v === TOMBSTONE) tombstones.push(i);
    });
    h.tombstones = tombstones.length === 0 ? null : tombstones;
    const last = revs.length - 1;
    if (values[last] === TOMBSTONE) {
      h.version = 0;
      h.createRevision = 0;
    } else [h.version, h.createRevision] = h.derived(last);
    return h;
  }

  /** Index of the first change of the generation holding `index`: just after the last tombstone before it. */
  private generationStart(index: number): number {
    const t = this.tombstones;
    if (t === null || (t[0] as number) > index) return 0;
    return (t[lowerBound(t, index) - 1] as number) + 1;
  }

  /**
   * Forgets what no read at `revision` or later needs: every change before it except the last one
   * before it when that is a put (reads at `revision` see it, and it is the prevKv of the next
   * change). True when nothing is left: the key was deleted before `revision` and not written since.
   */
  compact(revision: number): boolean {
    const n = this.revs.length;
    const firstKept = this.indexAt(revision - 1) + 1; // first change at or after `revision`
    let from = firstKept;
    if (firstKept > 0 && this.isPut(firstKept - 1)) from = firstKept - 1;
    if (from >= n) return true;
    if (from === 0) return false;
    if (this.isPut(from)) {
      const item = this.itemAt(from);
      this.firstVersion = item.version;
      this.firstCreate = item.createRevision;
    }
    if (from >= 32 && from >= n - from) {
      // most of a long history goes: fresh arrays give its memory back (a spliced array keeps its capacity)
      this.revs = this.revs.slice(from);
      this.values = this.values.slice(from);
      this.leases = this.leases === null ? null : this.leases.slice(from);
    } else {
      // a few changes go: cut them off in place (V8 moves the array's start, copying nothing);
      // fresh arrays here made every compacted key reallocate at its next put, and the garbage
      // collector took half the time of a store with auto-compaction
      this.revs.splice(0, from);
      this.values.splice(0, from);
      this.leases?.splice(0, from);
    }
    if (this.leases !== null && this.leases.every((l) => l === 0)) this.leases = null;
    if (this.tombstones !== null) {
      const kept = this.tombstones.filter((i) => i >= from).map((i) => i - from);
      this.tombstones = kept.length === 0 ? null : kept;
    }
    return false;
  }
}
