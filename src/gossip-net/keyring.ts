// The cluster's symmetric keys and AES-GCM sealing of packets (memberlist's keyring): one primary
// key seals, every installed key may open, so keys can be rotated on a live cluster without a
// moment where two members cannot read each other. Also the key ring file the agent loads.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { open as openFile, readFile, rename, rm } from 'node:fs/promises';
import { failGossipNet, GossipNetError } from './errors.js';

/** First byte of a sealed packet: this layout (AES-GCM, 12-byte nonce, 16-byte tag). */
export const SEAL_VERSION = 1;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
/** Bytes sealing adds to a plaintext: version, nonce, tag. */
export const SEAL_OVERHEAD_BYTES = 1 + NONCE_BYTES + TAG_BYTES;
/** AES-128, AES-192 and AES-256. */
export const KEY_SIZES: readonly number[] = [16, 24, 32];
/**
 * Every packet that fails to open is tried against every key, so the number of keys bounds the
 * work a stranger's garbage costs; a rotation needs two at a time.
 */
export const MAX_KEYS = 8;
/** A key ring file is a few hundred bytes; refuse to read something far larger into memory. */
export const MAX_KEYRING_FILE_BYTES = 64 * 1024;

/** A key as base64 text (the form in files and on the command line) or as raw bytes. */
export type KeyInput = string | Uint8Array;

/** The JSON a key ring file holds: base64 keys and the index of the primary one. */
export interface KeyRingFile {
  readonly keys: readonly string[];
  readonly primary?: number;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const EMPTY = Buffer.alloc(0);

/** The bytes of a base64 key; throws GOSSIP_NET_BAD_KEY unless it is strict base64 of 16, 24 or 32 bytes. */
export function decodeKey(text: string): Buffer {
  const trimmed = text.trim();
  // Buffer.from(…, 'base64') skips what it does not understand; a typo must not become another key
  if (!BASE64.test(trimmed)) failGossipNet('GOSSIP_NET_BAD_KEY', 'a key is base64 text (A-Z, a-z, 0-9, +, /, = padding)');
  return checkedKey(Buffer.from(trimmed, 'base64'));
}

/** A new random key as base64 (32 bytes: AES-256 unless told otherwise). */
export function generateKey(bytes: 16 | 24 | 32 = 32): string {
  if (!KEY_SIZES.includes(bytes)) failGossipNet('GOSSIP_NET_BAD_KEY', `a key is 16, 24 or 32 bytes, not ${String(bytes)}`);
  return randomBytes(bytes).toString('base64');
}

function checkedKey(bytes: Uint8Array): Buffer {
  if (!KEY_SIZES.includes(bytes.length)) failGossipNet('GOSSIP_NET_BAD_KEY', `a key is 16, 24 or 32 bytes (AES-128/192/256), not ${bytes.length}`);
  // a copy the ring owns (and wipes on removal), never the caller's buffer
  return Buffer.from(bytes);
}

function toKey(key: KeyInput): Buffer {
  return typeof key === 'string' ? decodeKey(key) : checkedKey(key);
}

function algorithm(key: Buffer): 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' {
  return key.length === 16 ? 'aes-128-gcm' : key.length === 24 ? 'aes-192-gcm' : 'aes-256-gcm';
}

/**
 * Associated data: the version byte (so it cannot be rewritten) and the label, e.g. the cluster
 * name, so a packet sealed for another cluster under the same key does not open here.
 */
function associatedData(label: string): Buffer {
  return Buffer.concat([Buffer.of(SEAL_VERSION), label === '' ? EMPTY : Buffer.from(label, 'utf8')]);
}

/**
 * Installed keys, the primary one first. A transport reads its ring on every packet, so an
 * operation here takes effect from the next packet on.
 *
 * Rotation on a live cluster, each step on every member before the next starts:
 * 1. `installKey(new)`: everyone can open the new key, nobody seals with it yet;
 * 2. `useKey(new)`: everyone seals with it, and can still open packets sealed with the old one;
 * 3. `removeKey(old)`: nobody seals with the old key any more, so nothing is lost.
 */
export class KeyRing {
  /** keys[0] is the primary key. */
  private readonly ring: Buffer[];

  /** `keys` in any form, `primary` the index of the one that seals (0 by default). Throws GOSSIP_NET_BAD_KEY, GOSSIP_NET_TOO_MANY_KEYS or GOSSIP_NET_INVALID_OPTION. */
  constructor(keys: readonly KeyInput[], primary = 0) {
    if (keys.length === 0) failGossipNet('GOSSIP_NET_INVALID_OPTION', 'a key ring holds at least one key');
    if (keys.length > MAX_KEYS) failGossipNet('GOSSIP_NET_TOO_MANY_KEYS', `a key ring holds at most ${MAX_KEYS} keys`);
    if (!Number.isInteger(primary) || primary < 0 || primary >= keys.length) failGossipNet('GOSSIP_NET_INVALID_OPTION', `primary must index one of the ${keys.length} keys`);
    const decoded = keys.map(toKey);
    const first = decoded[primary] as Buffer;
    this.ring = [first];
    for (const key of decoded) if (this.indexOf(key) < 0) this.ring.push(key);
  }

  /** How many keys are installed. */
  get size(): number {
    return this.ring.length;
  }

  /** The key that seals, as base64. */
  get primaryKey(): string {
    return (this.ring[0] as Buffer).toString('base64');
  }

  /** Every installed key as base64, the primary first. */
  keys(): string[] {
    return this.ring.map((key) => key.toString('base64'));
  }

  has(key: KeyInput): boolean {
    return this.indexOf(toKey(key)) >= 0;
  }

  /** Accepts `key` for opening (not for sealing). Installing a key twice does nothing. */
  installKey(key: KeyInput): void {
    const bytes = toKey(key);
    if (this.indexOf(bytes) >= 0) return;
    if (this.ring.length >= MAX_KEYS) failGossipNet('GOSSIP_NET_TOO_MANY_KEYS', `a key ring holds at most ${MAX_KEYS} keys: remove one first`);
    this.ring.push(bytes);
  }

  /** Makes an installed key the primary (it seals from now on); the old primary stays installed. */
  useKey(key: KeyInput): void {
    const index = this.indexOf(toKey(key));
    if (index < 0) failGossipNet('GOSSIP_NET_UNKNOWN_KEY', 'install a key (on every member) before using it');
    const [chosen] = this.ring.splice(index, 1);
    this.ring.unshift(chosen as Buffer);
  }

  /** Stops accepting `key`; removing a key that is not installed does nothing. The primary cannot be removed. */
  removeKey(key: KeyInput): void {
    const index = this.indexOf(toKey(key));
    if (index < 0) return;
    if (index === 0) failGossipNet('GOSSIP_NET_PRIMARY_KEY', 'the primary key cannot be removed: use another key first');
    const [removed] = this.ring.splice(index, 1);
    removed?.fill(0);
  }

  /**
   * [SEAL_VERSION][12-byte random nonce][ciphertext][16-byte tag], the label bound as associated
   * data. Random nonces: no state to keep across restarts, at the price of rotating a key before
   * it has sealed about 2^32 packets (see docs/gossip-net.md).
   */
  seal(plaintext: Uint8Array, label = ''): Buffer {
    const key = this.ring[0] as Buffer;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(algorithm(key), key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(label));
    const body = cipher.update(plaintext);
    const tail = cipher.final(); // empty for GCM, kept for form
    return Buffer.concat([Buffer.of(SEAL_VERSION), nonce, body, tail, cipher.getAuthTag()]);
  }

  /**
   * The plaintext of a sealed packet, or undefined when it is malformed, of another version, or
   * fails authentication under every key (wrong key, other label, any changed byte). Tries the
   * primary first: after a rotation almost every packet opens on the first try. Never throws.
   */
  open(packet: Uint8Array, label = ''): Buffer | undefined {
    if (!(packet instanceof Uint8Array) || packet.length < SEAL_OVERHEAD_BYTES || packet[0] !== SEAL_VERSION) return undefined;
    const nonce = packet.subarray(1, 1 + NONCE_BYTES);
    const body = packet.subarray(1 + NONCE_BYTES, packet.length - TAG_BYTES);
    const tag = packet.subarray(packet.length - TAG_BYTES);
    let aad: Buffer;
    try {
      aad = associatedData(label);
    } catch {
      return undefined;
    }
    for (const key of this.ring) {
      try {
        const decipher = createDecipheriv(algorithm(key), key, nonce, { authTagLength: TAG_BYTES });
        decipher.setAAD(aad);
        decipher.setAuthTag(tag);
        const plaintext = decipher.update(body);
        decipher.final(); // throws unless the tag matches: plaintext is released only after this
        return plaintext;
      } catch {
        // not this key (or not authentic at all): try the next
      }
    }
    return undefined;
  }

  /** The file form of this ring: keys as base64, the primary first. */
  toFile(): KeyRingFile {
    return { keys: this.keys(), primary: 0 };
  }

  private indexOf(key: Buffer): number {
    return this.ring.findIndex((k) => k.equals(key));
  }
}

/** A key ring from the text of a key ring file; throws GOSSIP_NET_KEYRING_SYNTAX or GOSSIP_NET_KEYRING_INVALID naming the problem. */
export function parseKeyRing(text: string, source = 'key ring file'): KeyRing {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (cause) {
    return failGossipNet('GOSSIP_NET_KEYRING_SYNTAX', `${source} is not JSON`, cause);
  }
  const invalid: (why: string, cause?: unknown) => never = (why, cause) => failGossipNet('GOSSIP_NET_KEYRING_INVALID', `${source}: ${why}`, cause);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return invalid('expected an object {"keys": [base64, ...], "primary": 0}');
  const file = value as Record<string, unknown>;
  // a misspelt field ("primay") must not be silently ignored
  for (const field of Object.keys(file)) if (field !== 'keys' && field !== 'primary') invalid(`unknown field "${field}" (expected keys and primary)`);
  const keys = file['keys'];
  if (!Array.isArray(keys) || keys.length === 0) return invalid('"keys" is a non-empty array of base64 keys');
  if (keys.length > MAX_KEYS) invalid(`"keys" holds at most ${MAX_KEYS} keys`);
  const decoded: Buffer[] = [];
  keys.forEach((key: unknown, i) => {
    if (typeof key !== 'string') invalid(`keys[${i}] is not a string`);
    try {
      decoded.push(decodeKey(key));
    } catch (cause) {
      invalid(`keys[${i}]: ${cause instanceof Error ? cause.message : String(cause)}`, cause);
    }
    if (decoded.slice(0, -1).some((k) => k.equals(decoded[decoded.length - 1] as Buffer))) invalid(`keys[${i}] repeats an earlier key`);
  });
  const primary = file['primary'] ?? 0;
  if (typeof primary !== 'number' || !Number.isInteger(primary) || primary < 0 || primary >= keys.length) invalid(`"primary" is the index of one of the ${keys.length} keys`);
  return new KeyRing(decoded, primary as number);
}

/** The text of a key ring file for `ring` (primary first). */
export function formatKeyRing(ring: KeyRing): string {
  return `${JSON.stringify(ring.toFile(), null, 2)}\n`;
}

/** Reads a key ring file; throws GOSSIP_NET_KEYRING_FILE, GOSSIP_NET_KEYRING_SYNTAX or GOSSIP_NET_KEYRING_INVALID. */
export async function loadKeyRingFile(path: string): Promise<KeyRing> {
  let text: string;
  try {
    const bytes = await readFile(path);
    if (bytes.length > MAX_KEYRING_FILE_BYTES) failGossipNet('GOSSIP_NET_KEYRING_INVALID', `key ring file ${path} is ${bytes.length} bytes, more than ${MAX_KEYRING_FILE_BYTES}`);
    text = bytes.toString('utf8');
  } catch (cause) {
    if (cause instanceof GossipNetError) throw cause;
    return failGossipNet('GOSSIP_NET_KEYRING_FILE', `cannot read key ring file ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, cause);
  }
  return parseKeyRing(text, `key ring file ${path}`);
}

/**
 * Writes `ring` to `path` atomically (a synced temporary file, owner-only permissions, renamed
 * over the old one), so a crash mid-rotation leaves the old or the new ring, never half of one.
 * Throws GOSSIP_NET_KEYRING_FILE.
 */
export async function saveKeyRingFile(path: string, ring: KeyRing): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await openFile(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(formatKeyRing(ring), 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (cause) {
    await rm(temporary, { force: true }).catch(() => undefined);
    failGossipNet('GOSSIP_NET_KEYRING_FILE', `cannot write key ring file ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, cause);
  }
}
