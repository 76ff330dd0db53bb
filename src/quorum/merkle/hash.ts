// The hashes of the Merkle tree, all SHA-256 (@noble/hashes: pure JS, the same bytes in Node, the
// simulator and the browser) cut to 128 bits. A leaf's hash is the XOR of its entries' hashes, so a
// write changes it in O(1) whatever the insertion order; an inner node hashes its children in order.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';

/** Bytes kept of each SHA-256: 128 bits, so a differing subtree hides behind an equal hash with odds 2^-128 per node compared. */
export const HASH_BYTES = 16;
/** The hash of an empty subtree as sent and returned: the empty string, the cheapest value for the commonest hash of a sparse tree. */
export const EMPTY_HASH = '';
/** Longest key, in UTF-16 code units (the same bound as src/ring's split keys). */
export const MAX_KEY_LENGTH = 4_096;
/** Longest digest of a key's versions, in bytes (a SHA-512 fits). */
export const MAX_DIGEST_BYTES = 64;

/** Domain tags: an entry's hash input can never be read as an inner node's, nor the reverse. */
const ENTRY_TAG = 0x00;
const INNER_TAG = 0x01;
const encoder = new TextEncoder();
const HASH_HEX = /^[0-9a-f]{32}$/;
const DIGEST_HEX = /^(?:[0-9a-f]{2}){1,64}$/;
/** A lone surrogate encodes to U+FFFD in UTF-8, so two distinct keys would share bytes and hashes. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True for a key the tree accepts: a well-formed string of at most MAX_KEY_LENGTH code units. */
export function isValidKey(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_KEY_LENGTH && !LONE_SURROGATE.test(value);
}

/** True for a digest the tree accepts: 1 to MAX_DIGEST_BYTES bytes as lowercase hex. */
export function isValidDigest(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 2 * MAX_DIGEST_BYTES && DIGEST_HEX.test(value);
}

/** True for a node hash as sent: EMPTY_HASH or 32 lowercase hex characters. */
export function isHashText(value: unknown): value is string {
  return value === EMPTY_HASH || (typeof value === 'string' && value.length === 2 * HASH_BYTES && HASH_HEX.test(value));
}

/** Room for the largest entry input: tag, length, a key of MAX_KEY_LENGTH code units (at most 3 UTF-8 bytes each), a digest. */
const scratch = new Uint8Array(5 + 3 * MAX_KEY_LENGTH + MAX_DIGEST_BYTES);

/**
 * The 128-bit hash of one entry: SHA-256 over tag, the key's UTF-8 length (4 bytes, big-endian),
 * the key and the digest's bytes. The length prefix keeps ("ab", "01") apart from ("a", "b01").
 * Built in one reused buffer: this runs on every write, and allocation was half its cost.
 */
export function entryHash(key: string, digest: string): Uint8Array {
  const { written } = encoder.encodeInto(key, scratch.subarray(5));
  scratch[0] = ENTRY_TAG;
  scratch[1] = written >>> 24;
  scratch[2] = (written >>> 16) & 0xff;
  scratch[3] = (written >>> 8) & 0xff;
  scratch[4] = written & 0xff;
  let at = 5 + written;
  for (let i = 0; i < digest.length; i += 2) scratch[at++] = parseInt(digest.slice(i, i + 2), 16);
  return sha256(scratch.subarray(0, at)).subarray(0, HASH_BYTES);
}

/** target ^= value, byte by byte (endian-free, so every platform keeps the same leaf hashes). */
export function xorInto(target: Uint8Array, value: Uint8Array): void {
  for (let i = 0; i < HASH_BYTES; i++) target[i] = (target[i] as number) ^ (value[i] as number);
}

/**
 * The hash of an inner node from its children's, in child order; undefined (empty) when every
 * child is empty, so that empty subtrees need no storage and compare equal for free.
 */
export function innerHash(children: readonly (Uint8Array | undefined)[]): Uint8Array | undefined {
  const input = new Uint8Array(1 + children.length * HASH_BYTES);
  input[0] = INNER_TAG;
  let present = false;
  children.forEach((child, i) => {
    if (child === undefined) return;
    present = true;
    input.set(child, 1 + i * HASH_BYTES);
  });
  return present ? sha256(input).slice(0, HASH_BYTES) : undefined;
}

export function hashToText(hash: Uint8Array | undefined): string {
  return hash === undefined ? EMPTY_HASH : bytesToHex(hash);
}

/** The inverse of hashToText, for text already checked by isHashText. */
export function textToHash(text: string): Uint8Array | undefined {
  return text === EMPTY_HASH ? undefined : hexToBytes(text);
}
