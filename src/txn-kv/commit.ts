// Two-phase commit across independent Synod Raft KV groups, with the coordinator's log replicated:
// each shard prepares with one KV txn (locks + intent, atomically), the decision is a write-once
// key in the decisions group, and phase two applies it with one txn per shard. Any process can
// finish a transaction from what the groups hold (recovery.ts), so no crash blocks it.
import { randomBytes } from 'node:crypto';
import type { JsonValue } from '../core/index.js';
import type { Compare, TxnOp } from '../kv/index.js';
import type { SynodClient, TxnOpResult } from '../client/index.js';
import { assertInvariant } from '../core/assert.js';
import { TxnKvError } from './errors.js';
import { decisionKey, intentKey, lockKey, outcomeKey, TXN_PREFIX, type ShardSet } from './shards.js';

/** Writes one transaction may hold at most (each costs a lock, a compare and a put on its shard). */
export const MAX_WRITES = 32;
const MAX_TXN_ID_LENGTH = 64;

/** One key to write on one shard: `value: null` deletes it; `expectModRevision` makes it conditional (0: absent). */
export interface ShardWrite {
  readonly shard: string;
  readonly key: string;
  readonly value: JsonValue;
  readonly expectModRevision?: number;
}

export type TxnOutcome = 'commit' | 'abort';

/** What a shard's intent record holds: enough for anyone to finish the transaction. */
export interface Intent {
  readonly id: string;
  readonly preparedAtMs: number;
  readonly shards: readonly string[];
  readonly decisions: string;
  readonly writes: readonly (readonly [string, JsonValue])[];
}

/** What the decisions group holds per transaction until every shard applied it. */
export interface Decision {
  readonly outcome: TxnOutcome;
  readonly decidedAtMs: number;
  readonly shards: readonly string[];
}

/** The points a transaction passes, for tests and tools that stop or observe it there. */
export type CommitStep = 'begin' | 'prepared' | 'decided' | 'applied';

export interface CommitOptions {
  readonly txnId?: string;
  /** Called (and awaited) at each step, with the transaction's id. */
  readonly onStep?: (step: CommitStep, txnId: string) => void | Promise<void>;
  /** Keep `_txn/outcome/ID` on each shard (what a checker reads back); off by default. */
  readonly recordOutcome?: boolean;
  readonly nowMs?: () => number;
}

/** A shard's answer to prepare: yes, or no with why. */
export type Vote = { readonly shard: string; readonly yes: true } | { readonly shard: string; readonly yes: false; readonly reason: string };

export interface CommitResult {
  readonly txnId: string;
  readonly outcome: TxnOutcome;
  readonly votes: readonly Vote[];
  /** Shards phase two did not reach (recovery applies the outcome there). */
  readonly unapplied: readonly string[];
}

/** A fresh transaction id: time-ordered, unique without coordination. */
export function newTxnId(nowMs: number): string {
  return `${nowMs.toString(36)}-${randomBytes(8).toString('hex')}`;
}

/** Runs one transaction over `shards` to its decision; the decision holds even if this process dies right after. */
export async function commitAcross(set: ShardSet, writes: readonly ShardWrite[], options: CommitOptions = {}): Promise<CommitResult> {
  const nowMs = options.nowMs ?? Date.now;
  const txnId = options.txnId ?? newTxnId(nowMs());
  checkTxn(set, writes, txnId);
  const byShard = groupByShard(writes);
  const shards = [...byShard.keys()];
  await options.onStep?.('begin', txnId);
  const intent = (shard: string): Intent => ({ id: txnId, preparedAtMs: nowMs(), shards, decisions: set.decisions, writes: (byShard.get(shard) ?? []).map((w) => [w.key, w.value] as const) });
  const votes = await Promise.all(shards.map((shard) => prepare(set.client(shard), shard, txnId, byShard.get(shard) ?? [], intent(shard))));
  await options.onStep?.('prepared', txnId);
  const wanted: TxnOutcome = votes.every((v) => v.yes) ? 'commit' : 'abort';
  const outcome = await decide(set.decisionClient(), txnId, { outcome: wanted, decidedAtMs: nowMs(), shards });
  // a recovery that found this transaction in doubt may have decided abort first: its decision stands
  assertInvariant(outcome === 'abort' || wanted === 'commit', () => `txn ${txnId}: decided commit without every vote yes`);
  await options.onStep?.('decided', txnId);
  const unapplied = await applyEverywhere(set, txnId, outcome, shards, options.recordOutcome === true);
  await options.onStep?.('applied', txnId);
  return { txnId, outcome, votes, unapplied };
}

function checkTxn(set: ShardSet, writes: readonly ShardWrite[], txnId: string): void {
  if (writes.length === 0) throw new TxnKvError('BAD_TXN', 'a transaction needs at least one write');
  if (writes.length > MAX_WRITES) throw new TxnKvError('BAD_TXN', `a transaction holds at most ${MAX_WRITES} writes (${writes.length} given)`);
  if (txnId.length === 0 || txnId.length > MAX_TXN_ID_LENGTH || !/^[A-Za-z0-9._-]+$/.test(txnId)) throw new TxnKvError('BAD_TXN', `a transaction id is 1-${MAX_TXN_ID_LENGTH} letters, digits, ".", "-" or "_"`);
  const seen = new Set<string>();
  for (const w of writes) {
    set.client(w.shard); // UNKNOWN_SHARD
    if (w.key.length === 0 || w.key.startsWith(TXN_PREFIX)) throw new TxnKvError('BAD_TXN', `key ${JSON.stringify(w.key.slice(0, 80))}: empty, or under the protocol's own ${TXN_PREFIX}`);
    const id = `${w.shard}\u0000${w.key}`;
    if (seen.has(id)) throw new TxnKvError('BAD_TXN', `key ${JSON.stringify(w.key.slice(0, 80))} is written twice on shard ${w.shard}`);
    seen.add(id);
  }
}

function groupByShard(writes: readonly ShardWrite[]): Map<string, ShardWrite[]> {
  const byShard = new Map<string, ShardWrite[]>();
  for (const w of writes) {
    const list = byShard.get(w.shard) ?? [];
    list.push(w);
    byShard.set(w.shard, list);
  }
  return byShard;
}

/**
 * Phase one on one shard: locks every key and records the intent in one txn, if no key is locked,
 * each conditional key is at its expected revision and the intent is not there yet. No-wait: a
 * locked key is a no vote (so no transaction ever waits for another, and no deadlock can form).
 */
async function prepare(client: SynodClient, shard: string, txnId: string, writes: readonly ShardWrite[], intent: Intent): Promise<Vote> {
  const compare: Compare[] = [{ key: intentKey(txnId, shard), target: 'createRevision', cmp: '=', value: 0 }];
  for (const w of writes) {
    compare.push({ key: lockKey(w.key), target: 'createRevision', cmp: '=', value: 0 });
    if (w.expectModRevision !== undefined) compare.push({ key: w.key, target: 'modRevision', cmp: '=', value: w.expectModRevision });
  }
  const success: TxnOp[] = [...writes.map((w): TxnOp => ({ op: 'put', key: lockKey(w.key), value: txnId })), { op: 'put', key: intentKey(txnId, shard), value: intent as unknown as JsonValue }];
  const failure: TxnOp[] = [{ op: 'get', key: intentKey(txnId, shard) }, ...writes.map((w): TxnOp => ({ op: 'get', key: lockKey(w.key) }))];
  try {
    const answer = await client.txn({ compare, success, failure });
    if (answer.succeeded) return { shard, yes: true };
    // an earlier attempt of this very prepare applied (its answer was lost): that is a yes
    if (isIntentOf(answer.results[0], txnId)) return { shard, yes: true };
    const locked = answer.results.slice(1).find((r) => r['value'] !== null && r['value'] !== undefined);
    return { shard, yes: false, reason: locked === undefined ? 'a key changed since it was read' : `a key is locked by ${String(locked['value'])}` };
  } catch (err) {
    // it may have applied: the abort that follows removes its intent and locks wherever they are
    return { shard, yes: false, reason: `no answer: ${(err as Error).message}` };
  }
}

function isIntentOf(result: TxnOpResult | undefined, txnId: string): boolean {
  const value = result?.['value'];
  return typeof value === 'object' && value !== null && !Array.isArray(value) && value['id'] === txnId;
}

/**
 * Writes the decision once, if no decision is there yet; answers the one that is there. Whoever
 * writes first (the coordinator, or a recovery that found the transaction in doubt) decides.
 */
export async function decide(decisions: SynodClient, txnId: string, want: Decision): Promise<TxnOutcome> {
  const key = decisionKey(txnId);
  try {
    const answer = await decisions.txn({
      compare: [{ key, target: 'createRevision', cmp: '=', value: 0 }],
      success: [{ op: 'put', key, value: want as unknown as JsonValue }],
      failure: [{ op: 'get', key }],
    });
    if (answer.succeeded) return want.outcome;
    const existing = decisionOf(answer.results[0]?.['value']);
    if (existing === undefined) throw new TxnKvError('OUTCOME_UNKNOWN', `txn ${txnId}: the decision key holds no decision`, txnId);
    return existing.outcome;
  } catch (err) {
    if (err instanceof TxnKvError) throw err;
    throw new TxnKvError('OUTCOME_UNKNOWN', `txn ${txnId}: the decision could not be written (${(err as Error).message}); recovery settles it`, txnId);
  }
}

/** The decision a value holds, if it is one. */
export function decisionOf(value: JsonValue | undefined): Decision | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const outcome = value['outcome'];
  const shards = value['shards'];
  if ((outcome !== 'commit' && outcome !== 'abort') || !Array.isArray(shards) || !shards.every((s) => typeof s === 'string')) return undefined;
  return { outcome, decidedAtMs: typeof value['decidedAtMs'] === 'number' ? value['decidedAtMs'] : 0, shards: shards as string[] };
}

/** The intent a value holds, if it is one. */
export function intentOf(value: JsonValue | undefined): Intent | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { id, preparedAtMs, shards, decisions, writes } = value;
  if (typeof id !== 'string' || typeof preparedAtMs !== 'number' || typeof decisions !== 'string' || !Array.isArray(shards) || !Array.isArray(writes)) return undefined;
  if (!shards.every((s) => typeof s === 'string')) return undefined;
  if (!writes.every((w) => Array.isArray(w) && w.length === 2 && typeof w[0] === 'string')) return undefined;
  return { id, preparedAtMs, shards: shards as string[], decisions, writes: writes as unknown as [string, JsonValue][] };
}

/** Phase two on every shard, then the decision is forgotten; shards it could not reach are returned. */
async function applyEverywhere(set: ShardSet, txnId: string, outcome: TxnOutcome, shards: readonly string[], recordOutcome: boolean): Promise<string[]> {
  const reached = await Promise.all(shards.map(async (shard) => ({ shard, ok: await applyOn(set.client(shard), shard, txnId, outcome, recordOutcome).then(() => true, () => false) })));
  const unapplied = reached.filter((r) => !r.ok).map((r) => r.shard);
  if (unapplied.length === 0) await set.decisionClient().delete(decisionKey(txnId)).catch(() => undefined);
  return unapplied;
}

/**
 * Phase two on one shard, from the intent it holds: commit writes the values, both outcomes drop
 * the locks and the intent, in one txn. Nothing to do when the intent is gone (applied already,
 * or never prepared). Idempotent, so the coordinator and any number of recoveries may race.
 */
export async function applyOn(client: SynodClient, shard: string, txnId: string, outcome: TxnOutcome, recordOutcome: boolean): Promise<'applied' | 'nothing'> {
  const key = intentKey(txnId, shard);
  const read = await client.get(key);
  const intent = intentOf(read.value);
  if (intent === undefined) return 'nothing';
  const ops: TxnOp[] = [];
  if (outcome === 'commit') for (const [k, v] of intent.writes) ops.push(v === null ? { op: 'delete', key: k } : { op: 'put', key: k, value: v });
  for (const [k] of intent.writes) ops.push({ op: 'delete', key: lockKey(k) });
  ops.push({ op: 'delete', key });
  if (recordOutcome) ops.push({ op: 'put', key: outcomeKey(txnId), value: outcome });
  const answer = await client.txn({ compare: [{ key, target: 'modRevision', cmp: '=', value: read.modRevision }], success: ops });
  return answer.succeeded ? 'applied' : 'nothing';
}
