// The narrow store interface the etcd-style recipes (lock, semaphore, read-write lock, election)
// are written against once: leases, a small txn, a range of a prefix ordered by create revision,
// and watches. Synod's KV (synod-kv.ts) and etcd (etcd-kv.ts) satisfy it.

/** A lease id as a decimal string: etcd's are 64-bit, beyond a JavaScript number's exact range. */
export type LeaseId = string;

/** A live key under a recipe's prefix. */
export interface KvEntry {
  readonly key: string;
  readonly value: string;
  /** The revision that created this generation of the key: the recipes' fencing token. */
  readonly createRevision: number;
  /** The attached lease ("0": none). */
  readonly lease: LeaseId;
}

/** A compare of a txn: the key's createRevision or version against a number (an absent key has 0 for both). */
export interface KvCompare {
  readonly key: string;
  readonly target: 'createRevision' | 'version';
  readonly cmp: '=' | '!=' | '<' | '>';
  readonly value: number;
}

export type KvOp =
  /** A put attached to `lease` (it must exist, else the txn fails with LEASE_LOST); lease "0": none, the key stays until deleted. */
  | { readonly op: 'put'; readonly key: string; readonly value: string; readonly lease: LeaseId }
  | { readonly op: 'delete'; readonly key: string }
  /** Every key under `prefix`, at the txn's revision, ordered by create revision. */
  | { readonly op: 'range'; readonly prefix: string };

export interface KvTxn {
  readonly compare: readonly KvCompare[];
  readonly success: readonly KvOp[];
  readonly failure: readonly KvOp[];
}

export interface KvTxnResult {
  readonly succeeded: boolean;
  /** The revision the txn ended at. */
  readonly revision: number;
  /** The entries of each range op of the branch that ran, in the order of the ops. */
  readonly ranges: readonly (readonly KvEntry[])[];
}

export interface KvRange {
  readonly revision: number;
  /** Ordered by create revision, oldest first. */
  readonly entries: readonly KvEntry[];
}

/** One change seen by a prefix watch. */
export interface KvChange {
  readonly type: 'put' | 'delete';
  readonly key: string;
  /** The value put ("" for a delete). */
  readonly value: string;
  /** The key's create revision (0 for a delete). */
  readonly createRevision: number;
  readonly revision: number;
}

/**
 * What a wait for a delete found: the key was deleted (at `revision`; with `line`, the keys under
 * the prefix the caller named, read at that revision or later by the node that saw the delete),
 * the watch could not tell (re-read), or the signal aborted.
 */
export type DeleteWait = { readonly kind: 'deleted'; readonly revision: number; readonly line?: KvRange } | { readonly kind: 'unknown' } | { readonly kind: 'aborted' };

export interface LeaseKv {
  /** 'synod', 'etcd'. */
  readonly backend: string;
  /**
   * A lease of at least `ttlMs` (etcd rounds up to whole seconds, at least its minimum): the id
   * and the TTL the server granted. BAD_REQUEST when the server refuses the TTL.
   */
  leaseGrant(ttlMs: number): Promise<{ readonly id: LeaseId; readonly ttlMs: number }>;
  /** Renews the lease once: its granted TTL and the time left by the server's clock. LEASE_LOST when it is gone. */
  leaseKeepAlive(id: LeaseId): Promise<{ readonly ttlMs: number; readonly remainingMs: number }>;
  /** Revokes the lease and deletes its keys; LEASE_LOST when it was already gone. */
  leaseRevoke(id: LeaseId): Promise<void>;
  txn(txn: KvTxn): Promise<KvTxnResult>;
  /**
   * Grants a lease of at least `ttlMs` and runs the txn `txnOf` builds with its id, in one write,
   * where the backend can (Synod: a txn that grants the lease first, whichever branch runs). A
   * backend without it (etcd) leaves it out, and the recipes grant, then run the txn: one write
   * more. When the write fails, the adapter has already tried to revoke the lease it chose.
   */
  grantWithTxn?(ttlMs: number, txnOf: (id: LeaseId) => KvTxn): Promise<{ readonly lease: { readonly id: LeaseId; readonly ttlMs: number }; readonly result: KvTxnResult }>;
  /**
   * The live keys under `prefix`: linearizable, or with `atLeastRevision` any committed state at
   * that revision or later (a serializable read where it is new enough, else a linearizable one).
   */
  range(prefix: string, atLeastRevision?: number): Promise<KvRange>;
  /**
   * Waits for a delete of `key` at `fromRevision` or later. With `linePrefix`, a backend that can
   * (Synod) hands back the keys under it as of the delete or later, in the same answer: the
   * waiter's re-read of its line comes free. One that cannot (etcd) leaves `line` out.
   */
  waitDelete(key: string, fromRevision: number, signal: AbortSignal, linePrefix?: string): Promise<DeleteWait>;
  /**
   * The changes under `prefix` from `fromRevision` on, one revision's changes per item, until
   * `signal` aborts (the iteration ends) or the watch fails (it throws; re-read and watch again).
   */
  watchPrefix(prefix: string, fromRevision: number, signal: AbortSignal): AsyncIterable<readonly KvChange[]>;
  /** Closes what the adapter opened (a client it was given is left open). */
  close(): Promise<void>;
}

/**
 * A range read for LeaseKv.range with `atLeastRevision`: the node's own state (`read(true)`, no
 * quorum round) when it is at that revision or later, else a linearizable read (`read(false)`).
 */
export async function readAtLeast<A>(read: (serializable: boolean) => Promise<A>, revisionOf: (answer: A) => number, atLeastRevision: number | undefined): Promise<A> {
  if (atLeastRevision !== undefined) {
    const local = await read(true);
    if (revisionOf(local) >= atLeastRevision) return local;
  }
  return read(false);
}

/** At most this many contenders (holders and waiters) per name: a range reads them all. */
export const MAX_CONTENDERS = 10_000;

export function byCreateRevision(a: KvEntry, b: KvEntry): number {
  return a.createRevision - b.createRevision;
}
