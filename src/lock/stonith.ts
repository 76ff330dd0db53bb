// STONITH for lock holders: each holder records a target (what to power off to stop it) next to
// its grant, and a new holder powers off every earlier holder that left a record BEFORE it runs
// its work, so a holder paused past its lease cannot wake up and act beside its successor.
import type { AcquireOptions, Lock, LockGrant } from './api.js';
import { isLockError, LockError } from './errors.js';
import type { LeaseKv } from './lease-kv.js';
import { usingLock } from './using.js';

/** What a holder left behind: its grant's token and holder, and the target that stops it. */
export interface StonithRecord {
  readonly token: number;
  readonly holder: string;
  /** Opaque to the lock: a supervisor's registration id, a host name, a power-switch outlet. */
  readonly target: string;
}

/** Where holders keep their records; they must outlive the holder's lease (that is when they are read). */
export interface StonithRecords {
  /** The records of `name`, lowest token first. */
  list(name: string): Promise<readonly StonithRecord[]>;
  put(name: string, record: StonithRecord): Promise<void>;
  remove(name: string, token: number): Promise<void>;
}

export interface StonithOptions {
  readonly records: StonithRecords;
  /** This holder's target, recorded for its successors. */
  readonly target: string;
  /**
   * Powers off an earlier holder's target. It must resolve only once that holder can no longer
   * act (a target already off counts as done) and throw otherwise: the new holder then stops
   * with STONITH_FAILED instead of running its work.
   */
  readonly powerOff: (target: string, record: StonithRecord) => Promise<void>;
}

/** At most this many records are read per name (a holder removes its own; a successor removes the ones it powered off). */
export const MAX_STONITH_RECORDS = 1000;
const TOKEN_DIGITS = 16;

/** STONITH records in a LeaseKv (Synod or etcd): one key per holder, `<prefix><name>/<token>`, without a lease. */
export class KvStonithRecords implements StonithRecords {
  private readonly prefix: string;

  constructor(
    private readonly kv: LeaseKv,
    options: { readonly keyPrefix?: string } = {},
  ) {
    this.prefix = options.keyPrefix ?? 'synod-stonith/';
  }

  private nameKey(name: string): string {
    return `${this.prefix}${encodeURIComponent(name)}/`;
  }

  /** Tokens zero-padded, so the keys sort as the tokens do. */
  private recordKey(name: string, token: number): string {
    return `${this.nameKey(name)}${String(token).padStart(TOKEN_DIGITS, '0')}`;
  }

  async list(name: string): Promise<readonly StonithRecord[]> {
    const range = await this.kv.range(this.nameKey(name));
    const records: StonithRecord[] = [];
    for (const entry of range.entries.slice(0, MAX_STONITH_RECORDS)) {
      const record = parseRecord(entry.value);
      if (record !== undefined) records.push(record);
    }
    return records.sort((a, b) => a.token - b.token);
  }

  async put(name: string, record: StonithRecord): Promise<void> {
    await this.kv.txn({ compare: [], success: [{ op: 'put', key: this.recordKey(name, record.token), value: JSON.stringify(record), lease: '0' }], failure: [] });
  }

  async remove(name: string, token: number): Promise<void> {
    await this.kv.txn({ compare: [], success: [{ op: 'delete', key: this.recordKey(name, token) }], failure: [] });
  }
}

function parseRecord(text: string): StonithRecord | undefined {
  try {
    const r = JSON.parse(text) as Partial<StonithRecord>;
    if (typeof r.token === 'number' && Number.isSafeInteger(r.token) && typeof r.holder === 'string' && typeof r.target === 'string') return { token: r.token, holder: r.holder, target: r.target };
  } catch {
    // not ours: skip it
  }
  return undefined;
}

/**
 * What a new holder does before its work, in this order: (1) power off every earlier holder that
 * left a record (lowest token first) and remove its record; (2) record its own target; (3) extend
 * its grant. The extend after the write proves the lease was still alive when the record was
 * written, so any later holder (which can only be granted after this lease is gone) will see it.
 * Throws STONITH_FAILED when a power-off fails, LEASE_LOST when a later holder's record is there
 * or the extend finds the lease gone; in either case the caller must not run its work.
 */
export async function takeOverWithStonith(lock: Lock<number>, grant: LockGrant<number>, stonith: StonithOptions): Promise<LockGrant<number>> {
  const records = await stonith.records.list(grant.name);
  for (const record of records) {
    if (record.token > grant.token) throw new LockError('LEASE_LOST', `${JSON.stringify(grant.name)}: a later holder (token ${record.token}) has already taken over`, lock.backend);
    if (record.token === grant.token) continue;
    try {
      await stonith.powerOff(record.target, record);
    } catch (err) {
      throw new LockError('STONITH_FAILED', `${JSON.stringify(grant.name)}: could not power off the previous holder (token ${record.token}, target ${JSON.stringify(record.target)}): ${(err as Error).message}`, lock.backend, { cause: err });
    }
    await stonith.records.remove(grant.name, record.token);
  }
  await stonith.records.put(grant.name, { token: grant.token, holder: grant.holder, target: stonith.target });
  try {
    return await lock.extend(grant);
  } catch (err) {
    // the record may not be seen by the holder after us: remove it, and do not go on
    if (isLockError(err, 'LEASE_LOST')) await stonith.records.remove(grant.name, grant.token).catch(() => undefined);
    throw err;
  }
}

/**
 * `usingLock` with STONITH: acquires, takes over (takeOverWithStonith) and only then calls `fn`;
 * once `fn` has settled, removes this holder's record (it is no longer acting) and releases.
 */
export async function usingLockWithStonith<R>(lock: Lock<number>, name: string, options: AcquireOptions, stonith: StonithOptions, fn: (grant: LockGrant<number>, signal: AbortSignal) => Promise<R>): Promise<R> {
  if (lock.fencing !== true) throw new LockError('UNSUPPORTED', 'STONITH needs fencing tokens to order the holders', lock.backend);
  return usingLock(lock, name, options, async (grant, signal) => {
    await takeOverWithStonith(lock, grant, stonith);
    try {
      return await fn(grant, signal);
    } finally {
      await stonith.records.remove(name, grant.token).catch(() => undefined);
    }
  });
}
