// A simulated disk: append-only files of records with explicit fsync. A crash keeps only what
// was synced and, with some probability, leaves the last unsynced record torn (half written),
// which recovery must detect and cut off, as it would with a real write-ahead log.
import type { RandomStream } from './rng.js';

export interface DiskRecord<T> {
  readonly value: T;
  /** A record only partly written when the machine crashed; its contents cannot be trusted. */
  readonly torn: boolean;
}

export interface DiskOptions {
  /** Probability that a crash tears the last unsynced record instead of losing it whole. */
  readonly tornWriteRate: number;
}

interface File<T> {
  records: DiskRecord<T>[];
  /** Number of leading records that are durable. */
  syncedCount: number;
}

export class SimDisk<T> {
  private readonly files = new Map<string, File<T>>();
  bytesWritten = 0;
  syncs = 0;

  constructor(private readonly options: DiskOptions = { tornWriteRate: 0 }) {}

  private file(name: string): File<T> {
    let f = this.files.get(name);
    if (f === undefined) {
      f = { records: [], syncedCount: 0 };
      this.files.set(name, f);
    }
    return f;
  }

  append(name: string, value: T): number {
    const f = this.file(name);
    f.records.push({ value, torn: false });
    this.bytesWritten++;
    return f.records.length;
  }

  /** Makes every record written so far durable. */
  fsync(name: string): void {
    const f = this.file(name);
    f.syncedCount = f.records.length;
    this.syncs++;
  }

  /** Makes the first `count` records durable (an fsync that covered the writes before it was issued). */
  syncPrefix(name: string, count: number): void {
    const f = this.file(name);
    f.syncedCount = Math.max(f.syncedCount, Math.min(count, f.records.length));
    this.syncs++;
  }

  /** Drops durable records before `index` (0-based), e.g. once a snapshot supersedes them. */
  discardBefore(name: string, index: number): void {
    const f = this.file(name);
    const n = Math.min(index, f.syncedCount);
    f.records.splice(0, n);
    f.syncedCount -= n;
  }

  /** What a reader sees now (the page cache): synced and unsynced records alike. */
  read(name: string): readonly DiskRecord<T>[] {
    return this.file(name).records;
  }

  unsyncedCount(name: string): number {
    const f = this.file(name);
    return f.records.length - f.syncedCount;
  }

  /** Power loss: unsynced records vanish, the last one perhaps torn. Returns how many were lost. */
  crash(rng: RandomStream): number {
    let lost = 0;
    for (const f of this.files.values()) {
      const unsynced = f.records.length - f.syncedCount;
      if (unsynced === 0) continue;
      const first = f.records[f.syncedCount] as DiskRecord<T>;
      f.records.length = f.syncedCount;
      lost += unsynced;
      if (rng.chance(this.options.tornWriteRate)) {
        // The first unsynced write reached the platter half way: a torn tail.
        f.records.push({ value: first.value, torn: true });
        f.syncedCount++;
      }
    }
    return lost;
  }

  /** Recovery: cuts a torn tail off. Returns the number of records removed. */
  repair(name: string): number {
    const f = this.file(name);
    const firstTorn = f.records.findIndex((r) => r.torn);
    if (firstTorn < 0) return 0;
    const removed = f.records.length - firstTorn;
    f.records.length = firstTorn;
    f.syncedCount = Math.min(f.syncedCount, firstTorn);
    return removed;
  }
}
