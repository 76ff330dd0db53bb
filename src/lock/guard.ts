// Fenced resources: refuse a write whose fencing token is below the highest one seen. On Synod's
// KV as one txn (the fence key and the write change together, or neither does); elsewhere as a
// function over lockcore's checkFence, for a store that keeps the highest token itself (docs/locks.md).
import type { JsonValue, SynodClient, TxnOp, TxnOpResult } from '../client/index.js';
import { checkFence } from '../lockcore/index.js';
import { LockError } from './errors.js';
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
  const token = admitFencedWrite(null, input.token, JSON.stringify(fenceKey));
  if (ops.some((op) => 'key' in op && op.key === fenceKey)) throw new LockError('BAD_REQUEST', `the guarded writes must not touch the fence key ${JSON.stringify(fenceKey)}`, GUARD);
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
  if (answer.succeeded) {
    const highest = (answer.results[0] as TxnOpResult)['value'];
    throw new LockError('STALE_TOKEN', `${JSON.stringify(fenceKey)}: token ${token} is below ${String(highest)}, the highest this resource accepted: its holder was superseded`, GUARD);
  }
  const first = answer.results[0] as TxnOpResult & { succeeded?: boolean; results?: TxnOpResult[] };
  if (first.succeeded === true) return { revision: answer.revision, results: (first.results ?? []).slice(1) };
  const second = (first.results ?? [])[0] as (TxnOpResult & { succeeded?: boolean; results?: TxnOpResult[] }) | undefined;
  if (second?.succeeded === true) return { revision: answer.revision, results: (second.results ?? []).slice(1) };
  const held = (second?.results ?? [])[0]?.['value'];
  throw new LockError('BAD_REQUEST', `the fence key ${JSON.stringify(fenceKey)} holds ${JSON.stringify(held)}, not a token: give the guard a key of its own`, GUARD);
}

/** `fencedTxn` for one put: writes `value` at `key` if `token` is not stale for `fenceKey`. */
export function fencedWrite(client: SynodClient, input: { readonly fenceKey: string; readonly token: number | null; readonly key: string; readonly value: JsonValue }): Promise<FencedWriteResult> {
  return fencedTxn(client, { fenceKey: input.fenceKey, token: input.token, ops: [{ op: 'put', key: input.key, value: input.value }] });
}
