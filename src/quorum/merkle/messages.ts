// The messages of an anti-entropy exchange, plain JSON-able objects told apart by `kind`, and
// their decoding from untrusted input: every field is checked for type and every array for length
// before anything walks it, so a hostile peer costs at most one message's worth of work.
import { describeValue, failMerkle, type MerkleError } from './errors.js';
import { isHashText, isValidDigest, isValidKey } from './hash.js';
import { decodeShape, MAX_LEAVES, type MerkleShape } from './shape.js';

/** Initiator -> responder, first: the initiator's shape and root hash. */
export interface MerkleRootMessage {
  readonly kind: 'merkle/root';
  readonly shape: MerkleShape;
  readonly hash: string;
}

/**
 * The sender's hashes of the children (at `level`) of `parents` (at level - 1): nodes whose
 * hashes the receiver sent last and that differ on the sender's side, in increasing order.
 * `hashes` holds fanout hashes per parent, parent by parent, child by child.
 */
export interface MerkleHashesMessage {
  readonly kind: 'merkle/hashes';
  readonly level: number;
  readonly parents: readonly number[];
  readonly hashes: readonly string[];
  /** True once either side has left some differing subtrees out to stay within its limits. */
  readonly truncated: boolean;
}

/** The sender's entries (key, digest) of the differing `leaves` (increasing; whose hashes the receiver sent last). */
export interface MerkleEntriesMessage {
  readonly kind: 'merkle/entries';
  readonly leaves: readonly number[];
  readonly entries: readonly (readonly [key: string, digest: string])[];
  readonly truncated: boolean;
}

/**
 * The last message after entries: the keys that differ in those leaves, ordered by leaf then key,
 * each with the sender's digest (null: the sender lacks it). Both sides end with this list.
 */
export interface MerkleDiffMessage {
  readonly kind: 'merkle/diff';
  readonly keys: readonly (readonly [key: string, digest: string | null])[];
  readonly truncated: boolean;
}

/** The last message when the sender found no differing node among those compared (at the root: the replicas agree). */
export interface MerkleDoneMessage {
  readonly kind: 'merkle/done';
  readonly truncated: boolean;
}

/** Ends the exchange early: the sender rejected a message or gave up. */
export interface MerkleAbortMessage {
  readonly kind: 'merkle/abort';
  readonly code: string;
  readonly reason: string;
}

export type MerkleMessage = MerkleRootMessage | MerkleHashesMessage | MerkleEntriesMessage | MerkleDiffMessage | MerkleDoneMessage | MerkleAbortMessage;

export interface ExchangeLimits {
  /** Most node hashes in one message, sent or accepted (default 65,536: about 2.2 MB of JSON). */
  readonly maxHashesPerMessage: number;
  /** Most entries (key, digest) in one message, sent or accepted (default 16,384). */
  readonly maxEntriesPerMessage: number;
}

export const DEFAULT_LIMITS: ExchangeLimits = { maxHashesPerMessage: 65_536, maxEntriesPerMessage: 16_384 };
/** Bounds of the limits themselves: at least one parent's children (MAX_FANOUT) fit; at most 2^20 hashes, 2^18 entries. */
export const MAX_HASHES_PER_MESSAGE = 2 ** 20;
export const MIN_HASHES_PER_MESSAGE = 256;
export const MAX_ENTRIES_PER_MESSAGE = 2 ** 18;
export const MAX_ABORT_REASON_LENGTH = 500;
const MAX_ABORT_CODE_LENGTH = 64;
/** Deeper than any shape allows (fanout >= 2, at most 2^20 leaves). */
const MAX_LEVEL = 20;

/** The limits with defaults filled in, checked; throws MERKLE_INVALID_OPTION. */
export function limitsOf(limits: Partial<ExchangeLimits> = {}): ExchangeLimits {
  const full = { ...DEFAULT_LIMITS, ...limits };
  const { maxHashesPerMessage: hashes, maxEntriesPerMessage: entries } = full;
  if (!Number.isInteger(hashes) || hashes < MIN_HASHES_PER_MESSAGE || hashes > MAX_HASHES_PER_MESSAGE) {
    failMerkle('MERKLE_INVALID_OPTION', `maxHashesPerMessage is an integer from ${MIN_HASHES_PER_MESSAGE} to ${MAX_HASHES_PER_MESSAGE}, got ${describeValue(hashes)}`);
  }
  if (!Number.isInteger(entries) || entries < 1 || entries > MAX_ENTRIES_PER_MESSAGE) {
    failMerkle('MERKLE_INVALID_OPTION', `maxEntriesPerMessage is an integer from 1 to ${MAX_ENTRIES_PER_MESSAGE}, got ${describeValue(entries)}`);
  }
  return full;
}

/** The abort message telling the peer why this side dropped the exchange. */
export function abortMessageFor(error: MerkleError): MerkleAbortMessage {
  return { kind: 'merkle/abort', code: error.code, reason: error.message.slice(0, MAX_ABORT_REASON_LENGTH) };
}

/** Checks an untrusted value is a well-formed message within `limits`; throws MERKLE_BAD_MESSAGE or MERKLE_LIMIT_EXCEEDED. */
export function decodeMessage(value: unknown, limits: ExchangeLimits): MerkleMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad(`a message is an object, got ${describeValue(value)}`);
  const record = value as Record<string, unknown>;
  switch (record['kind']) {
    case 'merkle/root':
      fields(record, ['shape', 'hash']);
      return { kind: 'merkle/root', shape: decodeShape(record['shape'], 'MERKLE_BAD_MESSAGE'), hash: hashText(record['hash']) };
    case 'merkle/hashes':
      return decodeHashes(record, limits);
    case 'merkle/entries':
      return decodeEntries(record, limits);
    case 'merkle/diff':
      fields(record, ['keys', 'truncated']);
      return { kind: 'merkle/diff', keys: list(record['keys'], 'keys', limits.maxEntriesPerMessage, 'maxEntriesPerMessage', (x) => pair(x, true)), truncated: flag(record['truncated']) };
    case 'merkle/done':
      fields(record, ['truncated']);
      return { kind: 'merkle/done', truncated: flag(record['truncated']) };
    case 'merkle/abort':
      return decodeAbort(record);
    default:
      return bad(`unknown message kind ${describeValue(record['kind'])}`);
  }
}

function decodeHashes(record: Record<string, unknown>, limits: ExchangeLimits): MerkleHashesMessage {
  fields(record, ['level', 'parents', 'hashes', 'truncated']);
  const level = record['level'];
  if (typeof level !== 'number' || !Number.isInteger(level) || level < 1 || level > MAX_LEVEL) bad(`level is an integer from 1 to ${MAX_LEVEL}, got ${describeValue(level)}`);
  const max = limits.maxHashesPerMessage;
  const parents = increasing(list(record['parents'], 'parents', max, 'maxHashesPerMessage', index), 'parents');
  if (parents.length === 0) bad('a hashes message names at least one parent');
  const hashes = list(record['hashes'], 'hashes', max, 'maxHashesPerMessage', hashText);
  return { kind: 'merkle/hashes', level, parents, hashes, truncated: flag(record['truncated']) };
}

function decodeEntries(record: Record<string, unknown>, limits: ExchangeLimits): MerkleEntriesMessage {
  fields(record, ['leaves', 'entries', 'truncated']);
  const leaves = increasing(list(record['leaves'], 'leaves', limits.maxHashesPerMessage, 'maxHashesPerMessage', index), 'leaves');
  if (leaves.length === 0) bad('an entries message names at least one leaf');
  const entries = list(record['entries'], 'entries', limits.maxEntriesPerMessage, 'maxEntriesPerMessage', (x) => pair(x, false) as [string, string]);
  return { kind: 'merkle/entries', leaves, entries, truncated: flag(record['truncated']) };
}

function decodeAbort(record: Record<string, unknown>): MerkleAbortMessage {
  fields(record, ['code', 'reason']);
  const { code, reason } = record;
  if (typeof code !== 'string' || code.length > MAX_ABORT_CODE_LENGTH) bad(`an abort code is a string of at most ${MAX_ABORT_CODE_LENGTH} characters`);
  if (typeof reason !== 'string' || reason.length > MAX_ABORT_REASON_LENGTH) bad(`an abort reason is a string of at most ${MAX_ABORT_REASON_LENGTH} characters`);
  return { kind: 'merkle/abort', code, reason };
}

function bad(message: string): never {
  return failMerkle('MERKLE_BAD_MESSAGE', message);
}

/** The message has exactly `kind` and `names`: an unknown field is a peer speaking another format. */
function fields(record: Record<string, unknown>, names: readonly string[]): void {
  const keys = Object.keys(record);
  for (const key of keys) if (key !== 'kind' && !names.includes(key)) bad(`unknown field ${describeValue(key)} in a ${String(record['kind'])} message`);
  if (keys.length !== names.length + 1) bad(`a ${String(record['kind'])} message has the fields ${names.join(', ')}`);
}

/** An array of at most `max` items, each decoded by `item`; the length is checked before any item is read. */
function list<T>(value: unknown, name: string, max: number, limit: string, item: (x: unknown) => T): T[] {
  if (!Array.isArray(value)) bad(`${name} is an array, got ${describeValue(value)}`);
  if (value.length > max) failMerkle('MERKLE_LIMIT_EXCEEDED', `${name} holds ${value.length} items, more than ${limit} = ${max}`);
  const out: T[] = [];
  for (let i = 0; i < value.length; i++) out.push(item(value[i]));
  return out;
}

/** Strictly increasing: sorted and free of duplicates, checked in one pass. */
function increasing(values: number[], name: string): number[] {
  for (let i = 1; i < values.length; i++) if ((values[i] as number) <= (values[i - 1] as number)) bad(`${name} are strictly increasing, got ${values[i - 1]} then ${values[i]}`);
  return values;
}

function index(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= MAX_LEAVES) bad(`a node index is an integer from 0 to ${MAX_LEAVES - 1}, got ${describeValue(value)}`);
  return value;
}

function hashText(value: unknown): string {
  if (!isHashText(value)) bad(`a hash is '' or 32 lowercase hex characters, got ${describeValue(value)}`);
  return value;
}

function flag(value: unknown): boolean {
  if (typeof value !== 'boolean') bad(`truncated is a boolean, got ${describeValue(value)}`);
  return value;
}

function pair(value: unknown, nullable: boolean): [string, string | null] {
  if (!Array.isArray(value) || value.length !== 2) bad(`an entry is a [key, digest] pair, got ${describeValue(value)}`);
  const [key, digest] = value as [unknown, unknown];
  if (!isValidKey(key)) bad(`an entry's key is a well-formed string of bounded length, got ${describeValue(key)}`);
  if (!(isValidDigest(digest) || (nullable && digest === null))) bad(`an entry's digest is lowercase hex${nullable ? ' or null' : ''}, got ${describeValue(digest)}`);
  return [key, digest];
}
