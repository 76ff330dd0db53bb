// Payload codecs: how Raft ops become record bytes. JSON for now, behind this interface so a
// faster binary codec (e.g. msgpackr) can be swapped in. Each codec has a small id stored with
// every record and snapshot, so logs written with one codec stay readable after a switch.
import { constants } from 'node:buffer';
import { describeCause, failStorage, isStorageError } from './errors.js';

export interface PayloadCodec {
  /** 1..15; stored in the high nibble of each record's type byte and in each snapshot's first byte. */
  readonly id: number;
  readonly name: string;
  /** Throws StorageError STORAGE_INVALID_OP for a value it cannot write so that decode reads it back. */
  encode(value: unknown): Uint8Array;
  /**
   * The same bytes as `encode`, in parts produced as they are consumed, for values too large to
   * hold as one string or buffer. `value` must not change until the iteration ends. Throws as
   * encode does, while iterating.
   */
  encodeParts(value: unknown): Iterable<Uint8Array>;
  /** Throws StorageError WAL_UNSUPPORTED for bytes it cannot read (recovery adds where they lay). */
  decode(bytes: Uint8Array): unknown;
}

/**
 * Deepest nesting of arrays and objects the JSON codec writes or reads. JSON.parse takes any
 * depth, but what it returns from 100,000 levels breaks every recursive walk after it
 * (JSON.stringify among them, past about 4,000 levels), so decode refuses it; encode refuses
 * the same, so that whatever was written can be read back.
 */
export const MAX_JSON_DEPTH = 1000;

/**
 * Decodes straight from the record's bytes: three to six times faster than wrapping them in a
 * Buffer first, which showed in opening a log of 200,000 records. Keeps a leading BOM (which
 * JSON.parse refuses) and replaces invalid UTF-8, as Buffer's toString does.
 */
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

export const jsonCodec: PayloadCodec = {
  id: 1,
  name: 'json',
  encode: (value) => Buffer.from(jsonText(value), 'utf8'),
  encodeParts: (value) => jsonParts(value),
  decode: (bytes) => parseJson(bytes),
};

function jsonText(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    return failStorage('STORAGE_INVALID_OP', `value cannot be written as JSON: ${describeCause(cause)}`, cause);
  }
  if (text === undefined) return failStorage('STORAGE_INVALID_OP', `value of type ${typeof value} has no JSON form`);
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) return failStorage('STORAGE_INVALID_OP', `value nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`);
  return text;
}

function parseJson(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch (cause) {
    // longer than the longest string the runtime can make
    return failStorage('WAL_UNSUPPORTED', `JSON payload of ${bytes.length} bytes cannot be read as text: ${describeCause(cause)}`, cause);
  }
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) return failStorage('WAL_UNSUPPORTED', `JSON payload nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    return failStorage('WAL_UNSUPPORTED', `payload is not valid JSON: ${describeCause(cause)}`, cause);
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * Whether JSON text opens more than `maxDepth` arrays and objects at once (brackets inside
 * strings do not count). Exact for valid JSON; invalid JSON is refused by JSON.parse anyway.
 * Most texts are settled without the character loop: one shorter than the limit, or with no
 * more opening brackets in all than the limit, cannot nest deeper (counted with indexOf, about
 * twenty times faster than the loop, which a batch of entries would pay on every write).
 */
export function nestsDeeperThan(text: string, maxDepth: number): boolean {
  if (text.length <= maxDepth) return false;
  if (countUpTo(text, '[', maxDepth + 1) + countUpTo(text, '{', maxDepth + 1) <= maxDepth) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) depth--;
  }
  return false;
}

/** How often `char` occurs in `text`, counting no further than `limit`. */
function countUpTo(text: string, char: string, limit: number): number {
  let count = 0;
  for (let at = text.indexOf(char); at >= 0 && count < limit; at = text.indexOf(char, at + 1)) count++;
  return count;
}

/** Arrays longer than this are written element by element; shorter ones in one go. */
const SPLIT_ARRAYS_LONGER_THAN = 32;
/** Objects this deep or deeper are written in one go (snapshots nest their bulk shallowly). */
const SPLIT_OBJECTS_ABOVE_DEPTH = 4;

/**
 * JSON.stringify(value) as buffers of about `partChars` characters each, each encoded only when
 * the consumer asks for it: long arrays and shallow objects are walked, so no single string ever
 * holds the whole text. A snapshot of a large store is written this way without a transient copy
 * the size of the store. Refuses (STORAGE_INVALID_OP, while iterating) what decode could not
 * read back: nesting deeper than MAX_JSON_DEPTH, or more than `maxChars` characters in all
 * (decode makes one string of the whole text, and the runtime's strings end at about 512 MiB).
 */
export function* jsonParts(value: unknown, partChars = 64 * 1024, maxChars: number = constants.MAX_STRING_LENGTH): Generator<Buffer, void, undefined> {
  let pending: string[] = [];
  let pendingChars = 0;
  let totalChars = 0;
  const take = (): Buffer => {
    const part = Buffer.from(pending.join(''), 'utf8');
    pending = [];
    pendingChars = 0;
    return part;
  };
  const texts = jsonTexts(value, 0);
  for (;;) {
    let next: IteratorResult<string, void>;
    try {
      next = texts.next();
    } catch (cause) {
      if (isStorageError(cause)) throw cause;
      return failStorage('STORAGE_INVALID_OP', `value cannot be written as JSON: ${describeCause(cause)}`, cause);
    }
    if (next.done === true) break;
    const text = next.value;
    totalChars += text.length;
    if (totalChars > maxChars) failStorage('STORAGE_INVALID_OP', `JSON text of more than ${maxChars} characters could not be read back as one string`);
    pending.push(text);
    pendingChars += text.length;
    if (pendingChars >= partChars) yield take();
  }
  if (pending.length > 0) yield take();
}

/** The pieces of JSON.stringify(v), in order; `depth` arrays and objects enclose v. */
function* jsonTexts(v: unknown, depth: number): Generator<string, void, undefined> {
  if (Array.isArray(v) && v.length > SPLIT_ARRAYS_LONGER_THAN) {
    checkDepth(depth + 1);
    yield '[';
    for (let i = 0; i < v.length; i++) {
      if (i > 0) yield ',';
      const element: unknown = v[i];
      // as JSON.stringify does: what has no JSON form becomes null inside an array
      if (element === undefined || typeof element === 'function' || typeof element === 'symbol') yield 'null';
      else yield* jsonTexts(element, depth + 1);
    }
    yield ']';
  } else if (isPlainObject(v) && depth < SPLIT_OBJECTS_ABOVE_DEPTH) {
    checkDepth(depth + 1);
    yield '{';
    let first = true;
    for (const [key, field] of Object.entries(v)) {
      if (field === undefined || typeof field === 'function' || typeof field === 'symbol') continue;
      yield `${first ? '' : ','}${JSON.stringify(key)}:`;
      first = false;
      yield* jsonTexts(field, depth + 1);
    }
    yield '}';
  } else {
    const text = JSON.stringify(v) as string | undefined;
    if (text === undefined) failStorage('STORAGE_INVALID_OP', `value of type ${typeof v} has no JSON form`);
    if (nestsDeeperThan(text, MAX_JSON_DEPTH - depth)) checkDepth(MAX_JSON_DEPTH + 1);
    yield text;
  }
}

function checkDepth(depth: number): void {
  if (depth > MAX_JSON_DEPTH) failStorage('STORAGE_INVALID_OP', `value nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  // anything with toJSON (Date, ...) or another prototype is left to JSON.stringify
  return (proto === Object.prototype || proto === null) && typeof (v as { toJSON?: unknown }).toJSON !== 'function';
}

export const MAX_CODEC_ID = 15;

/** Codecs by id; the writing codec plus any others needed to read older data. */
export function codecRegistry(codecs: readonly PayloadCodec[]): ReadonlyMap<number, PayloadCodec> {
  const byId = new Map<number, PayloadCodec>();
  for (const codec of codecs) {
    if (!Number.isInteger(codec.id) || codec.id < 1 || codec.id > MAX_CODEC_ID) {
      failStorage('STORAGE_INVALID_OPTION', `codec ${codec.name} has id ${codec.id}; ids are 1..${MAX_CODEC_ID}`);
    }
    const seen = byId.get(codec.id);
    if (seen !== undefined && seen !== codec) failStorage('STORAGE_INVALID_OPTION', `codecs ${seen.name} and ${codec.name} share id ${codec.id}`);
    byId.set(codec.id, codec);
  }
  return byId;
}
