// Bounds on what the KV accepts, checked before a command enters the log. A value that the log's
// codec, the peer transport or a snapshot could not carry must be refused at the door: once an
// entry is in the leader's log it has to replicate, and one that cannot stops every later write.
import type { JsonValue } from '../core/index.js';

/** Longest key, in UTF-8 bytes (etcd has no fixed limit; 4 KiB keeps keys out of the value business). */
export const MAX_KEY_BYTES = 4096;
/** Largest value, as UTF-8 JSON text (etcd's default request limit is 1.5 MiB for key and value together). */
export const MAX_VALUE_BYTES = 512 * 1024;
/** Deepest nesting of arrays and objects in a value (JSON encoders recurse; ours stay far from the stack's end). */
export const MAX_VALUE_DEPTH = 64;

/**
 * Most compares and operations in one txn, counted over every nested txn (etcd's default
 * --max-txn-ops is 128, counted per list). Checked when a txn is proposed.
 */
export const MAX_TXN_OPS = 128;
/** Deepest nesting of txns in a txn (the outer one is depth 1). Checked when a txn is proposed. */
export const MAX_TXN_DEPTH = 4;
/** Largest txn, as UTF-8 JSON text (etcd's default request limit is 1.5 MiB; the HTTP body limit here is 1 MiB). */
export const MAX_TXN_BYTES = 1024 * 1024;
/**
 * Hard bounds of the txn format itself, checked when a command is decoded (on the leader and at
 * apply alike): past them the decoder stops at once instead of walking hostile input. They are
 * far above the limits above and must never be lowered: an entry already in a log that decodes
 * today must decode on every later version.
 */
export const TXN_FORMAT_MAX_DEPTH = 16;
export const TXN_FORMAT_MAX_OPS = 1024;
/** Longest lease, in milliseconds (ten years; etcd's cap is 9e9 seconds). Checked when a grant is proposed. */
export const MAX_LEASE_TTL_MS = 10 * 365 * 24 * 3600 * 1000;
/** Most leases alive at once: a grant past it is refused at apply with `too-many-leases` (the table lives in memory and in every snapshot). */
export const MAX_LEASES = 1_000_000;
/** Most events a changes pull returns by default, and the most it may ask for (one revision with more events is never split). */
export const DEFAULT_CHANGES_EVENTS = 1000;
export const MAX_CHANGES_EVENTS = 10_000;
/**
 * Most change-log entries one pull of a range or prefix looks at: a watcher of a rare prefix far
 * behind stops there and resumes from the `nextRevision` it is given, so no pull costs more than this.
 */
export const CHANGES_SCAN_BUDGET = 100_000;

export const KV_LIMITS = {
  maxKeyBytes: MAX_KEY_BYTES,
  maxValueBytes: MAX_VALUE_BYTES,
  maxValueDepth: MAX_VALUE_DEPTH,
  maxTxnOps: MAX_TXN_OPS,
  maxTxnDepth: MAX_TXN_DEPTH,
  maxTxnBytes: MAX_TXN_BYTES,
  maxLeaseTtlMs: MAX_LEASE_TTL_MS,
  maxLeases: MAX_LEASES,
  maxChangesEvents: MAX_CHANGES_EVENTS,
} as const;

/** Why `key` is not an acceptable key; null when it is. */
export function keyProblem(key: string): string | null {
  if (key.length === 0) return 'a key must not be empty';
  if (!isWellFormed(key)) return 'a key must be Unicode text (it holds a lone surrogate)';
  const bytes = utf8Length(key);
  return bytes > MAX_KEY_BYTES ? `a key may have at most ${MAX_KEY_BYTES} bytes in UTF-8, this one has ${bytes}` : null;
}

/** Why `value` is not an acceptable value; null when it is. `what` names it in the message. */
export function valueProblem(value: JsonValue, what = 'value'): string | null {
  const depth = depthOf(value, MAX_VALUE_DEPTH);
  if (depth > MAX_VALUE_DEPTH) return `${what} nests arrays and objects deeper than ${MAX_VALUE_DEPTH} levels`;
  const stringProblem = wellFormedStrings(value);
  if (stringProblem !== null) return `${what}: ${stringProblem}`;
  // safe now: the depth is bounded, so the encoder cannot overflow the stack
  const bytes = utf8Length(JSON.stringify(value));
  return bytes > MAX_VALUE_BYTES ? `${what} is ${bytes} bytes as JSON; the limit is ${MAX_VALUE_BYTES}` : null;
}

/** Depth of nesting (a scalar is 0), counted without recursion; stops counting once past `cap`. */
export function depthOf(value: JsonValue, cap: number): number {
  let deepest = 0;
  const stack: [JsonValue, number][] = [[value, 0]];
  // each value is visited once: bounded by the value's size
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [JsonValue, number];
    if (v === null || typeof v !== 'object') continue;
    const inner = depth + 1;
    if (inner > deepest) deepest = inner;
    if (deepest > cap) return deepest;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, inner]);
  }
  return deepest;
}

/** Lone surrogates in strings or object keys cannot be encoded as UTF-8: the first found, or null. */
function wellFormedStrings(value: JsonValue): string | null {
  const stack: JsonValue[] = [value];
  while (stack.length > 0) {
    const v = stack.pop() as JsonValue;
    if (typeof v === 'string') {
      if (!isWellFormed(v)) return 'a string holds a lone surrogate (not Unicode text)';
    } else if (Array.isArray(v)) {
      for (const child of v) stack.push(child);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        if (!isWellFormed(k)) return 'an object key holds a lone surrogate (not Unicode text)';
        stack.push(child);
      }
    }
  }
  return null;
}

function isWellFormed(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c >= 0xdc00) return false; // a low surrogate with no high one before it
    const next = text.charCodeAt(i + 1);
    if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
    i++;
  }
  return true;
}

/** Bytes of `text` in UTF-8 (a lone surrogate counts as the 3 bytes of its replacement). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4; // a surrogate pair: one four-byte character
      i++;
    } else bytes += 3;
  }
  return bytes;
}
