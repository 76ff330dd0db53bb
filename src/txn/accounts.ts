// The data a participant guards: account balances with one exclusive lock per key, taken all
// at once for a transaction under wait-die. Shared by the participants of every commit protocol
// here; the protocol decides when to lock, apply and release.
import { assertInvariant } from '../core/index.js';
import type { Outcome, TxnId, Write } from './messages.js';

/** What asking for a transaction's locks came to. */
export type LockResult = 'locked' | 'wait' | 'die' | 'insufficient';

export class LockedAccounts {
  private readonly balances = new Map<string, number>();
  /** key → the transaction holding its lock, and that transaction's timestamp. */
  private readonly locks = new Map<string, { readonly txn: TxnId; readonly ts: number }>();

  constructor(
    private readonly where: string,
    accounts: readonly string[],
    initialBalance: number,
  ) {
    for (const key of accounts) this.balances.set(key, initialBalance);
  }

  owns(writes: readonly Write[]): boolean {
    return writes.every((w) => this.balances.has(w.key));
  }

  /**
   * Wait-die: a transaction asking for a lock held by a younger one (higher timestamp) waits; one
   * asking for a lock held by an older one dies. Waits only go from older to younger, so no cycle
   * of waits forms, at one participant or across several. With every lock free, they are taken
   * and the balances checked under them ('insufficient': one would go negative; nothing is held).
   */
  acquire(txn: TxnId, ts: number, writes: readonly Write[]): LockResult {
    let mustWait = false;
    for (const w of writes) {
      const holder = this.locks.get(w.key);
      if (holder === undefined || holder.txn === txn) continue;
      if (holder.ts < ts) return 'die';
      mustWait = true;
    }
    if (mustWait) return 'wait';
    const after = new Map<string, number>();
    for (const w of writes) after.set(w.key, (after.get(w.key) ?? (this.balances.get(w.key) as number)) + w.delta);
    if ([...after.values()].some((v) => v < 0)) return 'insufficient';
    this.hold(txn, ts, writes);
    return 'locked';
  }

  /** Takes the locks unconditionally (replay of a prepared record). */
  hold(txn: TxnId, ts: number, writes: readonly Write[]): void {
    for (const w of writes) {
      const holder = this.locks.get(w.key);
      assertInvariant(holder === undefined || holder.txn === txn, () => `${this.where}: ${w.key} locked by ${holder?.txn} and ${txn} at once`);
      this.locks.set(w.key, { txn, ts });
    }
  }

  /** Ends a transaction that held its locks: applies a commit, releases the locks. */
  finish(txn: TxnId, writes: readonly Write[], outcome: Outcome): void {
    for (const w of writes) if (this.locks.get(w.key)?.txn === txn) this.locks.delete(w.key);
    if (outcome !== 'commit') return;
    for (const w of writes) {
      const next = (this.balances.get(w.key) ?? 0) + w.delta;
      assertInvariant(next >= 0, () => `${this.where}: committing ${txn} takes ${w.key} to ${next}`);
      this.balances.set(w.key, next);
    }
  }

  balance(key: string): number | undefined {
    return this.balances.get(key);
  }

  total(): number {
    let sum = 0;
    for (const v of this.balances.values()) sum += v;
    return sum;
  }

  get lockCount(): number {
    return this.locks.size;
  }

  entries(): [string, number][] {
    return [...this.balances.entries()];
  }

  /** Replaces every balance and drops every lock (replay of a snapshot). */
  reset(balances: readonly (readonly [string, number])[]): void {
    this.balances.clear();
    this.locks.clear();
    for (const [k, v] of balances) this.balances.set(k, v);
  }
}
