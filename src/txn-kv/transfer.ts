// A transfer between two accounts (keys holding a balance) on any shards, as one multi-shard
// transaction: read both, write both conditionally on what was read; a conflict (a lock or a
// changed balance) aborts, and the transfer is tried again after a random pause, a bounded number of times.
import { setTimeout as sleep } from 'node:timers/promises';
import { commitAcross, type CommitOptions, type CommitResult } from './commit.js';
import { TxnKvError } from './errors.js';
import type { ShardSet } from './shards.js';

/** An account: a key on a shard whose value is a balance (an integer; absent is 0). */
export interface AccountRef {
  readonly shard: string;
  readonly key: string;
}

export interface TransferOptions extends CommitOptions {
  /** Attempts at most when transactions conflict; default 20. */
  readonly attempts?: number;
  /** Upper bound of the random pause between attempts; default 50 ms. */
  readonly backoffMs?: number;
  /** Called with each attempt's result (conflicts included). */
  readonly onAttempt?: (result: CommitResult) => void;
}

export type TransferResult =
  | { readonly kind: 'committed'; readonly txnId: string; readonly attempts: number }
  | { readonly kind: 'insufficient'; readonly balance: number; readonly attempts: number }
  | { readonly kind: 'conflicted'; readonly attempts: number; readonly lastReason: string };

/** Parses `shard:key`. */
export function parseAccount(text: string): AccountRef {
  const at = text.indexOf(':');
  if (at <= 0 || at === text.length - 1) throw new TxnKvError('BAD_TXN', `an account is SHARD:KEY (got ${JSON.stringify(text.slice(0, 80))})`);
  return { shard: text.slice(0, at), key: text.slice(at + 1) };
}

/** Moves `amount` from one account to the other, atomically across their shards. */
export async function transfer(set: ShardSet, from: AccountRef, to: AccountRef, amount: number, options: TransferOptions = {}): Promise<TransferResult> {
  if (!Number.isSafeInteger(amount) || amount <= 0) throw new TxnKvError('BAD_TXN', `the amount must be a positive integer (got ${amount})`);
  if (from.shard === to.shard && from.key === to.key) throw new TxnKvError('BAD_TXN', 'a transfer needs two different accounts');
  const attempts = options.attempts ?? 20;
  const backoffMs = options.backoffMs ?? 50;
  let lastReason = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const [a, b] = await Promise.all([set.client(from.shard).get(from.key), set.client(to.shard).get(to.key)]);
    const fromBalance = balanceOf(a.value, from);
    const toBalance = balanceOf(b.value, to);
    if (fromBalance < amount) return { kind: 'insufficient', balance: fromBalance, attempts: attempt };
    const { txnId: _ignored, ...commitOptions } = options;
    const result = await commitAcross(
      set,
      [
        { shard: from.shard, key: from.key, value: fromBalance - amount, expectModRevision: a.modRevision },
        { shard: to.shard, key: to.key, value: toBalance + amount, expectModRevision: b.modRevision },
      ],
      commitOptions,
    );
    options.onAttempt?.(result);
    if (result.outcome === 'commit') return { kind: 'committed', txnId: result.txnId, attempts: attempt };
    lastReason = result.votes.find((v) => !v.yes && 'reason' in v)?.reason ?? 'aborted';
    await sleep(Math.floor(Math.random() * backoffMs) + 1);
  }
  return { kind: 'conflicted', attempts, lastReason };
}

function balanceOf(value: unknown, account: AccountRef): number {
  if (value === null || value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new TxnKvError('BAD_TXN', `${account.shard}:${account.key} holds ${JSON.stringify(value).slice(0, 80)}, not a balance (an integer)`);
  return value;
}
