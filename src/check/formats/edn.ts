// The subset of EDN that Jepsen writes: by default the operation values of its text logs (nil,
// booleans, integers and decimals, keywords, strings, vectors); with `collections` also maps,
// lists, sets, symbols and tagged values, as in history.edn. Keywords become strings that keep
// their leading colon. The input is untrusted: nesting is bounded (the reader recurses), strings
// are scanned by hand (EDN escapes are not JSON's), and numbers that would not compare exactly are refused.
import type { JsonValue } from '../../core/index.js';
import { CheckError } from '../errors.js';
import { MAX_VALUE_DEPTH, canonicalJson } from '../json.js';

/** A malformed or unsupported EDN value; the Jepsen reader turns it into JEPSEN_PARSE with the line. */
export class EdnSyntaxError extends CheckError {
  constructor(message: string) {
    super('EDN_SYNTAX', message);
    this.name = 'EdnSyntaxError';
  }
}

const ATOM = /[^\s,[\]{}()"]+/y;
/** A tag after "#": a symbol such as inst, uuid or jepsen.history.Op. */
const TAG = /[A-Za-z][\w.*+!?$%&<>=/-]*/y;
/** What a symbol may look like (it must not start like a number). */
const SYMBOL = /^(?:[A-Za-z*!_?$%&=<>.]|[-+](?![\d]))[\w.*+!?$%&<>=/:#'-]*$/;
const SPACE = /[\s,]*/y;
const INTEGER = /^-?\d+$/;
const DECIMAL = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' };

/** At most this much of the input is quoted in a message. */
function excerpt(text: string): string {
  return text.length > 20 ? `${text.slice(0, 20)}…` : text;
}

export interface EdnOptions {
  /**
   * Also read maps (to JSON objects), lists and sets (to arrays), symbols (to strings) and tagged
   * values (the tag dropped, as in `#inst "..."` or `#jepsen.history.Op{...}`). Map keys become
   * object keys: a keyword keeps its colon (":process"), a string stays itself, and any other key
   * is written as canonical JSON text. Two keys that become the same text are refused.
   */
  readonly collections?: boolean;
}

/** The object key a map key becomes. */
function mapKey(key: JsonValue): string {
  return typeof key === 'string' ? key : canonicalJson(key);
}

class Reader {
  private at = 0;
  private readonly collections: boolean;
  constructor(
    private readonly text: string,
    options: EdnOptions,
  ) {
    this.collections = options.collections === true;
  }

  readAll(): JsonValue {
    const value = this.read(0);
    this.skipSpace();
    if (this.at < this.text.length) throw new EdnSyntaxError(`unexpected "${excerpt(this.text.slice(this.at))}"`);
    return value;
  }

  private skipSpace(): void {
    SPACE.lastIndex = this.at;
    SPACE.exec(this.text);
    this.at = SPACE.lastIndex;
  }

  private read(depth: number): JsonValue {
    this.skipSpace();
    const c = this.text[this.at];
    if (c === undefined) throw new EdnSyntaxError('missing value');
    if (c === '[') return this.readSequence(depth + 1, ']', 'vector');
    if (c === '"') return this.readString();
    if (this.collections) {
      if (c === '{') return this.readMap(depth + 1);
      if (c === '(') return this.readSequence(depth + 1, ')', 'list');
      if (c === '#') return this.readDispatch(depth);
    }
    return this.readAtom();
  }

  private enter(depth: number): void {
    // values are compared and printed recursively downstream, so depth is bounded here
    if (depth > MAX_VALUE_DEPTH) {
      throw new EdnSyntaxError(`${this.collections ? 'collections' : 'vectors'} nested deeper than ${MAX_VALUE_DEPTH}`);
    }
    this.at++;
  }

  /** A vector, list or set (at its opening character); all become arrays. */
  private readSequence(depth: number, close: string, what: string): JsonValue[] {
    this.enter(depth);
    const items: JsonValue[] = [];
    // each pass consumes at least one character or returns, so the loop ends within the text
    for (;;) {
      this.skipSpace();
      if (this.at >= this.text.length) throw new EdnSyntaxError(`unclosed ${what}`);
      if (this.text[this.at] === close) {
        this.at++;
        return items;
      }
      items.push(this.read(depth));
    }
  }

  private readMap(depth: number): { [key: string]: JsonValue } {
    this.enter(depth);
    const map: { [key: string]: JsonValue } = {};
    // each pass consumes at least one character or returns, so the loop ends within the text
    for (;;) {
      this.skipSpace();
      if (this.at >= this.text.length) throw new EdnSyntaxError('unclosed map');
      if (this.text[this.at] === '}') {
        this.at++;
        return map;
      }
      const key = mapKey(this.read(depth));
      this.skipSpace();
      if (this.text[this.at] === '}' || this.at >= this.text.length) throw new EdnSyntaxError(`map key "${excerpt(key)}" has no value`);
      const value = this.read(depth);
      if (Object.hasOwn(map, key)) throw new EdnSyntaxError(`map key "${excerpt(key)}" appears twice`);
      // "__proto__" must become an own property, not the prototype: only defineProperty does that
      if (key === '__proto__') Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
      else map[key] = value;
    }
  }

  /** `#{...}` (a set) or `#tag value` (the value, tag dropped). */
  private readDispatch(depth: number): JsonValue {
    const next = this.text[this.at + 1];
    if (next === '{') {
      this.at++;
      return this.readSequence(depth + 1, '}', 'set');
    }
    TAG.lastIndex = this.at + 1;
    if (TAG.exec(this.text) === null) throw new EdnSyntaxError(`unsupported "#${excerpt(this.text.slice(this.at + 1, this.at + 2))}"`);
    this.at = TAG.lastIndex;
    return this.read(depth);
  }

  private readString(): string {
    let out = '';
    let from = ++this.at;
    // one pass per character of the string, bounded by the text
    while (this.at < this.text.length) {
      const c = this.text[this.at]!;
      if (c === '"') {
        out += this.text.slice(from, this.at++);
        return out;
      }
      if (c !== '\\') {
        this.at++;
        continue;
      }
      out += this.text.slice(from, this.at);
      out += this.readEscape();
      from = this.at;
    }
    throw new EdnSyntaxError('unclosed string');
  }

  /** The character an escape (at the backslash) stands for; moves past it. */
  private readEscape(): string {
    const kind = this.text[this.at + 1];
    if (kind === undefined) throw new EdnSyntaxError('unclosed string');
    const simple = SIMPLE_ESCAPES[kind];
    if (simple !== undefined) {
      this.at += 2;
      return simple;
    }
    if (kind === 'u') {
      const hex = this.text.slice(this.at + 2, this.at + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new EdnSyntaxError(`bad escape "\\u${excerpt(hex)}" in a string`);
      this.at += 6;
      return String.fromCharCode(parseInt(hex, 16));
    }
    throw new EdnSyntaxError(`unsupported escape "\\${kind}" in a string`);
  }

  private readAtom(): JsonValue {
    ATOM.lastIndex = this.at;
    const match = ATOM.exec(this.text);
    if (match === null) throw new EdnSyntaxError(`unexpected "${this.text[this.at]!}"`);
    this.at = ATOM.lastIndex;
    return atomValue(match[0], this.collections);
  }
}

function numberValue(atom: string): number {
  const value = Number(atom);
  // a rounded integer could make two different values compare equal, and so change a verdict
  if (INTEGER.test(atom) && !Number.isSafeInteger(value)) {
    throw new EdnSyntaxError(`integer ${excerpt(atom)} is beyond ±(2^53 - 1), where numbers stop comparing exactly`);
  }
  if (!Number.isFinite(value)) throw new EdnSyntaxError(`number ${excerpt(atom)} is out of range`);
  return value;
}

function atomValue(atom: string, symbols: boolean): JsonValue {
  if (atom === 'nil') return null;
  if (atom === 'true') return true;
  if (atom === 'false') return false;
  if (DECIMAL.test(atom)) return numberValue(atom);
  if (/^:[^:]/.test(atom)) return atom;
  if (symbols && SYMBOL.test(atom)) return atom;
  throw new EdnSyntaxError(`unsupported value "${excerpt(atom)}"`);
}

/** Parses one EDN value; throws EdnSyntaxError (a CheckError, code EDN_SYNTAX). */
export function parseEdnValue(text: string, options: EdnOptions = {}): JsonValue {
  return new Reader(text, options).readAll();
}
