// A LeaseKv that passes every call on and notes what its client asked: the writes by kind, the
// ranges, the keys it waited on, and the revision of the last read of a line (the state a
// client's admission was decided on). For the queue tests and the randomized lock runs.
import type { DeleteWait, KvChange, KvRange, KvTxn, KvTxnResult, LeaseId, LeaseKv } from '../lease-kv.js';

export class ObservedKv implements LeaseKv {
  readonly watched: string[] = [];
  ranges = 0;
  /** Deletes seen with the line attached (a re-read the backend saved the client). */
  linesWithDelete = 0;
  /** Requests that write, by kind: a lock pair costs what these add up to. */
  readonly writes = { leaseGrant: 0, txn: 0, grantWithTxn: 0, leaseRevoke: 0 };
  /** The revision of the last txn or range answered (a joining txn's, or a waiter's re-read). */
  lastLineRevision = 0;
  /** Present only when the inner store has it: the queue takes its one-write path exactly when the backend offers it. */
  readonly grantWithTxn?: LeaseKv['grantWithTxn'];

  constructor(readonly inner: LeaseKv) {
    const both = inner.grantWithTxn?.bind(inner);
    if (both !== undefined) {
      this.grantWithTxn = async (ttlMs, txnOf) => {
        this.writes.grantWithTxn++;
        const r = await both(ttlMs, txnOf);
        this.lastLineRevision = r.result.revision;
        return r;
      };
    }
  }
  get backend(): string {
    return this.inner.backend;
  }
  leaseGrant(ttlMs: number): Promise<{ id: LeaseId; ttlMs: number }> {
    this.writes.leaseGrant++;
    return this.inner.leaseGrant(ttlMs);
  }
  leaseKeepAlive(id: LeaseId): Promise<{ ttlMs: number; remainingMs: number }> {
    return this.inner.leaseKeepAlive(id);
  }
  leaseRevoke(id: LeaseId): Promise<void> {
    this.writes.leaseRevoke++;
    return this.inner.leaseRevoke(id);
  }
  async txn(txn: KvTxn): Promise<KvTxnResult> {
    this.writes.txn++;
    const r = await this.inner.txn(txn);
    this.lastLineRevision = r.revision;
    return r;
  }
  async range(prefix: string, atLeastRevision?: number): Promise<KvRange> {
    this.ranges++;
    const r = await this.inner.range(prefix, atLeastRevision);
    this.lastLineRevision = r.revision;
    return r;
  }
  async waitDelete(key: string, fromRevision: number, signal: AbortSignal, linePrefix?: string): Promise<DeleteWait> {
    this.watched.push(key);
    const seen = await this.inner.waitDelete(key, fromRevision, signal, linePrefix);
    if (seen.kind === 'deleted' && seen.line !== undefined) {
      this.linesWithDelete++;
      this.lastLineRevision = seen.line.revision;
    }
    return seen;
  }
  watchPrefix(prefix: string, fromRevision: number, signal: AbortSignal): AsyncIterable<readonly KvChange[]> {
    return this.inner.watchPrefix(prefix, fromRevision, signal);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
