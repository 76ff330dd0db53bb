// Fenced resources: refuse a write whose fencing token is below the highest one seen. On Synod's
// KV and on etcd as one txn, on Redis as one Lua script (the fence key and the write change
// together, or neither does); elsewhere as a function over lockcore's checkFence (docs/locks.md).
import type { Etcd3, ICompare, IRequestOp, ITxnResponse } from 'etcd3';
import type { Redis } from 'ioredis';
import type { JsonValue, SynodClient, TxnOp, TxnOpResult } from '../client/index.js';
import { checkFence } from '../lockcore/index.js';
import { LockError } from './errors.js';
import { lockErrorOfEtcd } from './etcd-kv.js';
import { redisCallError, runScript } from './redis-connection.js';
import { FENCED_SET } from './redis-scripts.js';
import { lockErrorOfSynod } from './synod-kv.js';

const GUARD = 'guard';

/**
 * The rule of every fenced resource here: a write with `token` is accepted when no token was
 * seen yet or `token` >= the highest seen (equal: the same grant writing again; two grants never
 * share a token), and the highest seen becomes `token`. Returns the new highest; throws LockError
 * STALE_TOKEN for a lower token, BAD_REQUEST for a null token (a backend without fencing, such as
 * Redlock, cannot guard a resource this way) or one that is not a whole number >= 0.
 */
export function admitFencedWrite(highest: number | null, token: number | null, resource = 'the resource'): number {
  if (token === null) throw new LockError('BAD_REQUEST', `${resource}: this grant has no fencing token (its backend cannot give one)`, GUARD);
  const verdict = checkFence(highest, token);
  if (verdict.ok) return verdict.highest;
  if (Number.isSafeInteger(token) && token >= 0) throw new LockError('STALE_TOKEN', `${resource}: ${verdict.reason}`, GUARD);
  throw new LockError('BAD_REQUEST', `${resource}: ${verdict.reason}`, GUARD);
}

export interface FencedTxnInput {
  /** The key that holds the highest token accepted for this resource (the guard's alone: a value that is not a number is refused). */
  readonly fenceKey: string;
  readonly token: number | null;
  /** The writes to make when the token is accepted (puts and deletes; not the fence key). */
  readonly ops: readonly TxnOp[];
}

export interface FencedWriteResult {
  /** The revision of the write (fence key and ops together). */
  readonly revision: number;
  /** The results of `ops`, in order. */
  readonly results: readonly TxnOpResult[];
}

/**
 * Runs `ops` on Synod's KV only if `token` is at least the highest token accepted at `fenceKey`,
 * and stores `token` there, in one txn: the check and the write happen at one revision, so no
 * write of a superseded holder can land after a newer holder's. STALE_TOKEN (with the highest
 * token in the message) when refused; nothing changes then.
 */
export async function fencedTxn(client: SynodClient, input: FencedTxnInput): Promise<FencedWriteResult> {
  const { fenceKey, ops } = input;
  // null and bad tokens are refused here, before anything is sent
  const token = checkedInput(fenceKey, input.token, ops.flatMap((op) => ('key' in op ? [op.key] : [])));
  const write: TxnOp[] = [{ op: 'put', key: fenceKey, value: token }, ...ops];
  let answer;
  try {
    answer = await client.txn({
      // a stored number above the token: refused (a compare with an absent key or a non-number is false)
      compare: [{ key: fenceKey, target: 'value', cmp: '>', value: token }],
      success: [{ op: 'get', key: fenceKey }],
      failure: [
        {
          op: 'txn',
          // no fence yet: the first write
          compare: [{ key: fenceKey, target: 'version', cmp: '=', value: 0 }],
          success: write,
          // a stored number at most the token: accepted; anything else in the fence key: refused
          failure: [{ op: 'txn', compare: [{ key: fenceKey, target: 'value', cmp: '<', value: token + 1 }], success: write, failure: [{ op: 'get', key: fenceKey }] }],
        },
      ],
    });
  } catch (err) {
    throw lockErrorOfSynod(err, `fenced write at ${JSON.stringify(fenceKey)}`);
  }
  if (answer.succeeded) throw staleToken(fenceKey, token, String((answer.results[0] as TxnOpResult)['value']));
  const first = answer.results[0] as TxnOpResult & { succeeded?: boolean; results?: TxnOpResult[] };
  if (first.succeeded === true) return { revision: answer.revision, results: (first.results ?? []).slice(1) };
  const second = (first.results ?? [])[0] as (TxnOpResult & { succeeded?: boolean; results?: TxnOpResult[] }) | undefined;
  if (second?.succeeded === true) return { revision: answer.revision, results: (second.results ?? []).slice(1) };
  throw notAFence(fenceKey, (second?.results ?? [])[0]?.['value']);
}

/** The refusal of every guard here: the holder of `token` was superseded by one of `highest`. */
function staleToken(fenceKey: string, token: number, highest: string): LockError {
  return new LockError('STALE_TOKEN', `${JSON.stringify(fenceKey)}: token ${token} is below ${highest}, the highest this resource accepted: its holder was superseded`, GUARD);
}

function notAFence(fenceKey: string, held: unknown): LockError {
  return new LockError('BAD_REQUEST', `the fence key ${JSON.stringify(fenceKey)} holds ${JSON.stringify(held)}, not a token: give the guard a key of its own`, GUARD);
}

/** Checks a guarded write's token and keys before anything is sent: the token, as a whole number. */
function checkedInput(fenceKey: string, token: number | null, keys: readonly string[]): number {
  const checked = admitFencedWrite(null, token, JSON.stringify(fenceKey));
  if (keys.includes(fenceKey)) throw new LockError('BAD_REQUEST', `the guarded writes must not touch the fence key ${JSON.stringify(fenceKey)}`, GUARD);
  return checked;
}

// ================================================================ on etcd

/**
 * etcd compares values as bytes, so the fence holds the token in decimal, zero-padded to this many
 * digits: byte order is then number order (a safe integer has at most 16 digits).
 */
export const ETCD_FENCE_DIGITS = 20;
const fenceText = (token: number): string => String(token).padStart(ETCD_FENCE_DIGITS, '0');
const FENCE_TEXT = new RegExp(`^\\d{${ETCD_FENCE_DIGITS}}$`);

/** A write a fenced etcd txn makes when the token is accepted. */
export type EtcdFencedOp = { readonly op: 'put'; readonly key: string; readonly value: string } | { readonly op: 'delete'; readonly key: string };

export interface EtcdFencedTxnInput {
  /** The key that holds the highest token accepted (zero-padded decimal; the guard's alone). */
  readonly fenceKey: string;
  readonly token: number | null;
  readonly ops: readonly EtcdFencedOp[];
}

const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');

/**
 * `fencedTxn` on etcd: runs `ops` only if `token` is at least the highest token stored at
 * `fenceKey`, and stores it there, in one (nested) txn. STALE_TOKEN when refused (nothing
 * changes); BAD_REQUEST when the fence key holds something that is not a padded token above "".
 */
export async function fencedEtcdTxn(client: Etcd3, input: EtcdFencedTxnInput): Promise<{ readonly revision: number }> {
  const { fenceKey, ops } = input;
  const token = checkedInput(fenceKey, input.token, ops.map((op) => op.key));
  const key = utf8(fenceKey);
  const write: IRequestOp[] = [
    { request_put: { key, value: utf8(fenceText(token)) } },
    ...ops.map((op): IRequestOp => (op.op === 'put' ? { request_put: { key: utf8(op.key), value: utf8(op.value) } } : { request_delete_range: { key: utf8(op.key) } })),
  ];
  const read: IRequestOp = { request_range: { key } };
  const compare = (result: 'Greater' | 'Less', value: string): ICompare => ({ key, target: 'Value', result, value: utf8(value) });
  let answer: ITxnResponse;
  try {
    answer = await client.kv.txn({
      // a stored token above this one: refused (a value compare with an absent key is false)
      compare: [compare('Greater', fenceText(token))],
      success: [read],
      failure: [
        {
          request_txn: {
            // no fence yet: the first write
            compare: [{ key, target: 'Version', result: 'Equal', version: 0 }],
            success: write,
            failure: [{ request_txn: { compare: [compare('Less', fenceText(token + 1))], success: write, failure: [read] } }],
          },
        },
      ],
    });
  } catch (err) {
    throw lockErrorOfEtcd(err, `fenced write at ${JSON.stringify(fenceKey)}`);
  }
  const revision = Number(answer.header.revision);
  const heldOf = (response: ITxnResponse): string | undefined => response.responses[0]?.response_range?.kvs[0]?.value.toString('utf8');
  if (answer.succeeded) {
    const held = heldOf(answer);
    throw held !== undefined && FENCE_TEXT.test(held) ? staleToken(fenceKey, token, String(Number(held))) : notAFence(fenceKey, held);
  }
  const first = answer.responses[0]?.response_txn;
  if (first?.succeeded === true) return { revision };
  const second = first?.responses[0]?.response_txn;
  if (second?.succeeded === true) return { revision };
  throw notAFence(fenceKey, second === undefined ? undefined : heldOf(second));
}

/** `fencedEtcdTxn` for one put. */
export function fencedEtcdWrite(client: Etcd3, input: { readonly fenceKey: string; readonly token: number | null; readonly key: string; readonly value: string }): Promise<{ readonly revision: number }> {
  return fencedEtcdTxn(client, { fenceKey: input.fenceKey, token: input.token, ops: [{ op: 'put', key: input.key, value: input.value }] });
}

// ================================================================ on Redis

/**
 * The guard on one Redis server: sets `key` to `value` only if `token` is at least the highest
 * token stored at `fenceKey`, and stores it there, in one Lua script (FENCED_SET). STALE_TOKEN
 * when refused (nothing changes); BAD_REQUEST when the fence key holds something else.
 */
export async function fencedRedisWrite(redis: Redis, input: { readonly fenceKey: string; readonly token: number | null; readonly key: string; readonly value: string }): Promise<void> {
  const { fenceKey, key, value } = input;
  const token = checkedInput(fenceKey, input.token, [key]);
  let reply: unknown;
  try {
    reply = await runScript(redis, FENCED_SET, [fenceKey, key], [token, value]);
  } catch (err) {
    throw redisCallError(err, GUARD, `fenced write at ${JSON.stringify(fenceKey)}`);
  }
  if (!Array.isArray(reply) || typeof reply[0] !== 'number') throw new LockError('BACKEND_ERROR', `fenced write at ${JSON.stringify(fenceKey)}: an answer of the wrong shape: ${JSON.stringify(reply)}`, GUARD);
  const held = String(reply[1]);
  if (reply[0] === 1) return;
  throw reply[0] === 0 ? staleToken(fenceKey, token, held) : notAFence(fenceKey, held);
}

/** `fencedTxn` for one put: writes `value` at `key` if `token` is not stale for `fenceKey`. */
export function fencedWrite(client: SynodClient, input: { readonly fenceKey: string; readonly token: number | null; readonly key: string; readonly value: JsonValue }): Promise<FencedWriteResult> {
  return fencedTxn(client, { fenceKey: input.fenceKey, token: input.token, ops: [{ op: 'put', key: input.key, value: input.value }] });
}
