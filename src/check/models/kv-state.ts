// The kv model's state where one value per partition is not enough (multi-key transactions,
// ranges, version compares): every live key of the partition with its value (canonical JSON) and
// version, kept with a canonical text so that equal states intern alike.
import type { JsonValue } from '../../core/index.js';

/** One live key: its value as canonical JSON (never "null": null means absent) and its version (>= 1). */
export interface KvEntry {
  readonly value: string;
  readonly version: number;
}

/** Live keys of a partition; absent keys are not in it. Never changed once made. */
export class KvMap {
  private constructor(
    readonly entries: ReadonlyMap<string, KvEntry>,
    /** `"key":value@version` for every key in sorted order: equal for equal maps only. */
    readonly text: string,
  ) {}

  static readonly EMPTY = new KvMap(new Map(), '');

  static of(entries: ReadonlyMap<string, KvEntry>): KvMap {
    const keys = [...entries.keys()].sort(byCodeUnits);
    const text = keys.map((k) => `${JSON.stringify(k)}:${(entries.get(k) as KvEntry).value}@${(entries.get(k) as KvEntry).version}`).join(',');
    return new KvMap(entries, text);
  }

  get(key: string): KvEntry | undefined {
    return this.entries.get(key);
  }

  /** The value of `key` as canonical JSON, "null" when absent. */
  valueOf(key: string): string {
    return this.entries.get(key)?.value ?? 'null';
  }

  toJson(): JsonValue {
    const out: { [key: string]: JsonValue } = {};
    for (const key of [...this.entries.keys()].sort(byCodeUnits)) {
      const entry = this.entries.get(key) as KvEntry;
      out[key] = { value: JSON.parse(entry.value) as JsonValue, version: entry.version };
    }
    return out;
  }
}

/** Keys sort by UTF-16 code units, as the store sorts them. */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A map being changed by one call: a copy made at the first write, so a read-only call (or a
 * refused one) allocates nothing.
 */
export class KvDraft {
  private changed: Map<string, KvEntry> | null = null;

  constructor(readonly before: KvMap) {}

  get(key: string): KvEntry | undefined {
    return (this.changed ?? this.before.entries).get(key);
  }

  /** Every live key now, unsorted. */
  keys(): IterableIterator<string> {
    return (this.changed ?? this.before.entries).keys();
  }

  /** A put of canonical `value` ("null" deletes); the version after it (0 when deleted or absent). */
  put(key: string, value: string): number {
    const current = this.get(key);
    if (value === 'null') {
      if (current !== undefined) this.writable().delete(key);
      return 0;
    }
    const version = (current?.version ?? 0) + 1;
    this.writable().set(key, { value, version });
    return version;
  }

  /** The map after the call; the same object when nothing changed. */
  done(): KvMap {
    return this.changed === null ? this.before : KvMap.of(this.changed);
  }

  private writable(): Map<string, KvEntry> {
    this.changed ??= new Map(this.before.entries);
    return this.changed;
  }
}
