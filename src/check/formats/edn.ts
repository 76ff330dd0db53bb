// The small subset of EDN that Jepsen writes as operation values: nil, booleans, integers and
// decimals, keywords, strings and vectors. Keywords become strings that keep their leading colon.
import type { JsonValue } from '../../sim/history.js';

export class EdnSyntaxError extends Error {
  override readonly name = 'EdnSyntaxError';
}

const ATOM = /^[^\s,[\]{}()"]+/;
const NUMBER = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;

class Reader {
  private at = 0;
  constructor(private readonly text: string) {}

  readAll(): JsonValue {
    const value = this.read();
    this.skipSpace();
    if (this.at < this.text.length) throw new EdnSyntaxError(`unexpected "${this.text.slice(this.at, this.at + 10)}"`);
    return value;
  }

  private skipSpace(): void {
    while (this.at < this.text.length && /[\s,]/.test(this.text[this.at]!)) this.at++;
  }

  private read(): JsonValue {
    this.skipSpace();
    const c = this.text[this.at];
    if (c === undefined) throw new EdnSyntaxError('missing value');
    if (c === '[') return this.readVector();
    if (c === '"') return this.readString();
    return this.readAtom();
  }

  private readVector(): JsonValue[] {
    this.at++;
    const items: JsonValue[] = [];
    for (;;) {
      this.skipSpace();
      if (this.at >= this.text.length) throw new EdnSyntaxError('unclosed vector');
      if (this.text[this.at] === ']') {
        this.at++;
        return items;
      }
      items.push(this.read());
    }
  }

  private readString(): string {
    const match = /^"((?:[^"\\]|\\.)*)"/.exec(this.text.slice(this.at));
    if (match === null) throw new EdnSyntaxError('unclosed string');
    this.at += match[0].length;
    return JSON.parse(`"${match[1]!}"`) as string;
  }

  private readAtom(): JsonValue {
    const match = ATOM.exec(this.text.slice(this.at));
    if (match === null) throw new EdnSyntaxError(`unexpected "${this.text[this.at]!}"`);
    this.at += match[0].length;
    return atomValue(match[0]);
  }
}

function atomValue(atom: string): JsonValue {
  if (atom === 'nil') return null;
  if (atom === 'true') return true;
  if (atom === 'false') return false;
  if (NUMBER.test(atom)) return Number(atom);
  if (/^:[^:]/.test(atom)) return atom;
  throw new EdnSyntaxError(`unsupported value "${atom}"`);
}

/** Parses one EDN value; throws EdnSyntaxError. */
export function parseEdnValue(text: string): JsonValue {
  return new Reader(text).readAll();
}
