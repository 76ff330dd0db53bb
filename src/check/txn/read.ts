// Reads transaction histories: Jepsen/Elle EDN (one map per line, or a vector of maps) and the
// equivalent JSON, pairs each invocation with its completion by process, and yields TxnHistory.
// Map entries are delimited by a small scanner here; each needed value goes to src/check's EDN parser.
import type { JsonValue } from '../../core/index.js';
import { CheckError } from '../errors.js';
import { parseEdnValue } from '../formats/edn.js';
import { isRecord, jsonValueProblem } from '../json.js';
import type { Mop, MopFunction, Txn, TxnHistory, TxnOutcome } from './types.js';

/** One event of the history file, before pairing. */
interface RawEvent {
  readonly type: 'invoke' | TxnOutcome;
  readonly f: JsonValue;
  readonly process: JsonValue;
  /** The value, parsed on demand (an invocation's is only needed when it never completes ok). */
  readonly value: () => JsonValue;
  readonly index: number | null;
  readonly line: number;
}

function formatError(message: string, line?: number): CheckError {
  return new CheckError('HISTORY_FORMAT', message, line);
}

/** Largest transaction history text read (the whole text is held, then the history). */
export const MAX_TXN_HISTORY_CHARS = 512 * 1024 * 1024 - 64;

// ---------------------------------------------------------------------------------------------
// EDN: a map is `{` keyword value ... `}`; values are delimited here and parsed only when needed.

const OPEN: Readonly<Record<string, string>> = { '[': ']', '{': '}', '(': ')' };
const NEEDED = new Set([':type', ':f', ':process', ':value', ':index']);

class EdnMapScanner {
  private at = 0;
  private line = 1;
  constructor(private readonly text: string) {}

  /** Skips whitespace, commas and `;` comments, counting lines. */
  private skip(): void {
    const t = this.text;
    // each pass consumes one character, so this ends within the text
    while (this.at < t.length) {
      const c = t.charCodeAt(this.at);
      if (c === 10) {
        this.line++;
        this.at++;
      } else if (c === 32 || c === 9 || c === 13 || c === 44) this.at++;
      else if (c === 59) {
        const nl = t.indexOf('\n', this.at);
        this.at = nl < 0 ? t.length : nl;
      } else return;
    }
  }

  /** End (exclusive) of the form starting at `from`: balanced brackets, strings, atoms. */
  private formEnd(from: number): number {
    const t = this.text;
    const stack: string[] = [];
    let i = from;
    // each pass consumes at least one character
    while (i < t.length) {
      const c = t[i]!;
      if (c === '"') {
        i++;
        while (i < t.length && t[i] !== '"') i += t[i] === '\\' ? 2 : 1;
        if (i >= t.length) throw formatError('unclosed string', this.line);
        i++;
      } else if (c === '#' && t[i + 1] === '{') {
        stack.push('}');
        i += 2;
      } else if (OPEN[c] !== undefined) {
        if (stack.length >= 100) throw formatError('forms nested deeper than 100', this.line);
        stack.push(OPEN[c]);
        i++;
      } else if (c === ']' || c === '}' || c === ')') {
        if (stack.length === 0) return i;
        if (stack.pop() !== c) throw formatError(`unexpected "${c}"`, this.line);
        i++;
      } else if (c === ';') {
        const nl = t.indexOf('\n', i);
        i = nl < 0 ? t.length : nl;
      } else if (stack.length === 0 && /[\s,]/.test(c)) {
        return i;
      } else i++;
      if (stack.length === 0 && (c === ']' || c === '}' || c === ')' || c === '"')) return i;
    }
    if (stack.length > 0) throw formatError('unclosed form at the end of the history', this.line);
    return i;
  }

  /** Passes every event map of the text to `out`; a top-level vector of maps is looked into. */
  events(out: Pairer): void {
    this.skip();
    let inVector = false;
    if (this.text[this.at] === '[') {
      inVector = true;
      this.at++;
    }
    // each pass reads one map (or the closing bracket) or throws
    for (;;) {
      this.skip();
      if (this.at >= this.text.length) {
        if (inVector) throw formatError('unclosed vector of operations', this.line);
        return;
      }
      if (inVector && this.text[this.at] === ']') {
        this.at++;
        this.skip();
        if (this.at < this.text.length) throw formatError('text after the vector of operations', this.line);
        return;
      }
      if (this.text[this.at] !== '{') throw formatError(`expected an operation map, found "${this.text.slice(this.at, this.at + 20)}"`, this.line);
      out.add(this.readMap());
    }
  }

  private readMap(): RawEvent {
    const line = this.line;
    this.at++;
    const fields: { [key: string]: { source: string; line: number } | undefined } = {};
    // each pass reads a key and a value, or the closing brace
    for (;;) {
      this.skip();
      if (this.at >= this.text.length) throw formatError('unclosed operation map', line);
      if (this.text.charCodeAt(this.at) === 125) {
        this.at++;
        break;
      }
      const keyEnd = this.formEnd(this.at);
      // a stray closing bracket is not a form: refuse it rather than read nothing forever
      if (keyEnd === this.at) throw formatError(`unexpected "${this.text[this.at]!}"`, this.line);
      const key = this.text.slice(this.at, keyEnd);
      this.at = keyEnd;
      this.skip();
      if (this.at >= this.text.length || this.text.charCodeAt(this.at) === 125) throw formatError(`no value for ${key}`, line);
      const valueEnd = this.formEnd(this.at);
      if (valueEnd === this.at) throw formatError(`unexpected "${this.text[this.at]!}"`, this.line);
      if (NEEDED.has(key)) fields[key] = { source: this.text.slice(this.at, valueEnd), line: this.line };
      // count the newlines inside the value, so later line numbers stay right
      for (let i = this.text.indexOf('\n', this.at); i >= 0 && i < valueEnd; i = this.text.indexOf('\n', i + 1)) this.line++;
      this.at = valueEnd;
    }
    const parse = (key: string): JsonValue | undefined => {
      const field = fields[key];
      if (field === undefined) return undefined;
      const simple = simpleAtom(field.source);
      if (simple !== undefined) return simple;
      try {
        return parseEdnValue(field.source);
      } catch (err) {
        if (err instanceof CheckError) throw formatError(`${key}: ${err.message}`, field.line);
        throw err;
      }
    };
    // only transactions' values are read: other events (a nemesis's) may hold maps and more
    const f = parse(':f') ?? null;
    const isTxn = f === null || f === ':txn';
    const get = (k: string): JsonValue | undefined => (k === 'f' ? f : parse(`:${k}`));
    return rawEvent(get, () => (isTxn ? (parse(':value') ?? null) : null), line, true);
  }
}

/** Builds an event from its fields (EDN keywords keep their colon; JSON strings may omit it). */
/** Keywords and integers, the usual :type, :f, :process and :index, without the general parser. */
function simpleAtom(source: string): JsonValue | undefined {
  if (/^:[\w.*+!?-]+$/.test(source)) return source;
  if (/^-?\d{1,15}$/.test(source)) return Number(source);
  return undefined;
}

function rawEvent(get: (key: string) => JsonValue | undefined, value: () => JsonValue, line: number, edn: boolean): RawEvent {
  const typeValue = get('type');
  const type = typeof typeValue === 'string' ? typeValue.replace(/^:/, '') : '';
  if (type !== 'invoke' && type !== 'ok' && type !== 'fail' && type !== 'info') {
    throw formatError(`"type" must be invoke, ok, fail or info${edn ? ' (as keywords)' : ''}`, line);
  }
  const index = get('index');
  if (index !== undefined && index !== null && (typeof index !== 'number' || !Number.isSafeInteger(index))) {
    throw formatError('"index" must be an integer', line);
  }
  return {
    type,
    f: get('f') ?? null,
    process: get('process') ?? null,
    value,
    index: typeof index === 'number' ? index : null,
    line,
  };
}

// ---------------------------------------------------------------------------------------------
// JSON: an array of event objects, or {"events": [...]}.

function jsonEvents(text: string, out: Pairer): void {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw formatError(`not JSON: ${(err as Error).message}`);
  }
  const problem = jsonValueProblem(doc);
  if (problem !== null) throw formatError(`the document ${problem}`);
  const value = doc as JsonValue;
  const list = Array.isArray(value) ? value : isRecord(value) && Array.isArray(value['events']) ? value['events'] : null;
  if (list === null) throw formatError('expected an array of events, or {"events": [...]}');
  list.forEach((item, i) => {
    if (!isRecord(item)) throw formatError(`events[${i}] is not an object`);
    out.add(rawEvent((k) => item[k], () => item['value'] ?? null, i + 1, false));
  });
}

// ---------------------------------------------------------------------------------------------
// Micro-operations and pairing.

function mopFunction(f: JsonValue): MopFunction | null {
  if (f === ':append' || f === 'append') return 'append';
  if (f === ':r' || f === 'r') return 'r';
  if (f === ':w' || f === 'w') return 'w';
  return null;
}

function mopsOf(value: JsonValue, line: number): Mop[] {
  if (!Array.isArray(value)) throw formatError('a transaction\'s "value" must be a vector of micro-operations', line);
  return value.map((m) => {
    // a read may leave out its value when it is not known yet: [:r :x]
    if (!Array.isArray(m) || m.length < 2 || m.length > 3) throw formatError('a micro-operation must be [f key value]', line);
    const f = mopFunction(m[0]!);
    if (f === null) throw formatError(`unknown micro-operation ${JSON.stringify(m[0])} (expected append, r or w)`, line);
    if (m.length === 2 && f !== 'r') throw formatError(`[${String(m[0])} key] needs a value`, line);
    return { f, key: m[1]!, value: m[2] ?? null };
  });
}

function isTxnEvent(e: RawEvent): boolean {
  return e.f === null || e.f === ':txn' || e.f === 'txn';
}

/** Pairs invocations with completions by process (a missing process counts as one process), as events arrive. */
export class Pairer {
  private readonly txns: Txn[] = [];
  private readonly open = new Map<string, { event: RawEvent; at: number }>();
  private at = 0;

  add(e: RawEvent): void {
    if (!isTxnEvent(e)) return;
    const at = this.at++;
    const proc = typeof e.process === 'number' ? `${e.process}` : JSON.stringify(e.process);
    if (e.type === 'invoke') {
      if (this.open.has(proc)) throw formatError(`process ${proc} invokes a transaction while its previous one is still open`, e.line);
      this.open.set(proc, { event: e, at });
      return;
    }
    const inv = this.open.get(proc);
    this.open.delete(proc);
    const index = e.index ?? inv?.event.index ?? at;
    // a fail or info keeps the invocation's writes (its reads were never returned)
    const source = e.type === 'ok' || inv === undefined ? e : inv.event;
    let mops = mopsOf(source.value(), source.line);
    if (e.type !== 'ok') mops = mops.map((m) => (m.f === 'r' ? { ...m, value: null } : m));
    this.push(e.type, mops, e.process, inv?.at ?? -1, e.type === 'info' ? -1 : at, index);
  }

  private push(outcome: TxnOutcome, mops: Mop[], process: JsonValue, invokedAt: number, completedAt: number, index: number): void {
    this.txns.push({ id: this.txns.length, index, process, outcome, mops, invokedAt, completedAt });
  }

  finish(): TxnHistory {
    // invocations never completed may or may not have taken effect
    for (const { event, at } of this.open.values()) {
      const mops = mopsOf(event.value(), event.line).map((m) => (m.f === 'r' ? { ...m, value: null } : m));
      this.push('info', mops, event.process, at, -1, event.index ?? at);
    }
    this.open.clear();
    return { txns: this.txns, events: this.at };
  }
}

export type TxnFormat = 'edn' | 'json';

/** `json` when the name ends in .json, else EDN. */
export function txnFormatForFile(name: string): TxnFormat {
  return name.toLowerCase().endsWith('.json') ? 'json' : 'edn';
}

/** Parses a whole history text; throws CheckError HISTORY_FORMAT (with a line) or EMPTY_HISTORY. */
export function parseTxnHistory(text: string, format: TxnFormat = 'edn'): TxnHistory {
  if (text.length > MAX_TXN_HISTORY_CHARS) throw new CheckError('HISTORY_TOO_LARGE', `a transaction history may have at most ${MAX_TXN_HISTORY_CHARS} characters`);
  const body = text.replace(/^\uFEFF/, '');
  if (body.trim() === '') throw new CheckError('EMPTY_HISTORY', 'the history is empty');
  const pairer = new Pairer();
  if (format === 'json') jsonEvents(body, pairer);
  else new EdnMapScanner(body).events(pairer);
  const history = pairer.finish();
  if (history.txns.length === 0) throw new CheckError('EMPTY_HISTORY', 'the history has no transactions');
  return history;
}

/** Builds a history from completed transactions only (no invocations: no real-time order), as tests write them. */
export function historyOfTxns(list: readonly { outcome?: TxnOutcome; process?: JsonValue; mops: readonly (readonly [string, JsonValue, JsonValue])[] }[]): TxnHistory {
  const pairer = new Pairer();
  list.forEach((t, i) => {
    pairer.add({ type: t.outcome ?? 'ok', f: ':txn', process: t.process ?? i, value: () => t.mops.map((m) => [m[0], m[1], m[2]]), index: i, line: i + 1 });
  });
  return pairer.finish();
}
