// Reads histories of EDN maps, one per event (Jepsen's history.edn, Porcupine's KV logs) from
// untrusted text, holding one map at a time: typed events for any checker (the transactional one
// included), and Synod operations paired per process for the linearizability checker.
import type { History, JsonValue, Operation, Outcome } from '../../core/index.js';
import { CheckError } from '../errors.js';
import { canonicalJson, isRecord } from '../json.js';
import { EdnSyntaxError, parseEdnValue } from './edn.js';
import { DEFAULT_MAX_LINE_CHARS, LineSplitter } from './lines.js';

export type EdnEventType = 'invoke' | 'ok' | 'fail' | 'info';

/** One map of an EDN history, its fields converted to JSON (keywords are strings like ":append"). */
export interface EdnEvent {
  /** 1-based line the map starts on. */
  readonly line: number;
  /** 0-based position among all events of the file, nemesis ones included (Jepsen's :index). */
  readonly position: number;
  readonly type: EdnEventType;
  /** `:process` as text: "3" for the integer 3, ":nemesis" for the keyword. */
  readonly process: string;
  /** `:f` without its colon: "read", "txn". */
  readonly f: string;
  /** `:value` as JSON; null when absent. */
  readonly value: JsonValue;
  /** `:time` (Jepsen: nanoseconds since the test began), null when absent. */
  readonly time: number | null;
  /** `:index`, null when absent. */
  readonly index: number | null;
  /** The whole map: keyword keys keep their colon (":key", ":error"). */
  readonly fields: { readonly [key: string]: JsonValue };
}

export interface EdnReadOptions {
  /** Longest map accepted, in characters, whatever lines it spans (default DEFAULT_MAX_LINE_CHARS). */
  readonly maxLineChars?: number;
}

const TYPES: Readonly<Record<string, EdnEventType>> = { ':invoke': 'invoke', ':ok': 'ok', ':fail': 'fail', ':info': 'info' };
const OUTCOME: Readonly<Record<EdnEventType, Outcome>> = { invoke: 'unknown', ok: 'ok', fail: 'fail', info: 'unknown' };

/** Input quoted in a message: maps can be megabytes long. */
function excerpt(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function fail(line: number, why: string): CheckError {
  return new CheckError('EDN_HISTORY', `line ${line}: ${why}`, line);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HASH = 0x23;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x2c || (c >= 0x09 && c <= 0x0d);
}

function isOpening(c: number): boolean {
  return c === 0x7b || c === 0x5b || c === 0x28; // { [ (
}

/** The closing bracket of an opening one: } for {, ] for [, ) for (. */
function closerOf(c: number): number {
  return c === 0x28 ? 0x29 : c + 2;
}

function isClosing(c: number): boolean {
  return c === 0x7d || c === 0x5d || c === 0x29; // } ] )
}

/**
 * Finds the top-level maps of the text, line by line, by counting brackets outside strings; the
 * whole text may be wrapped in one vector. Each complete map goes to `onForm` with its first line.
 */
class FormScanner {
  private inForm = false;
  /** The closing brackets still expected, innermost last; the map is complete when none are. */
  private closers: number[] = [];
  private inString = false;
  private escaped = false;
  private pieces: string[] = [];
  private formChars = 0;
  private formLine = 0;
  private vector: 'none' | 'open' | 'closed' = 'none';
  private vectorLine = 0;
  private forms = 0;
  /** Whether anything but blanks and comments was seen. */
  sawContent = false;

  constructor(
    private readonly onForm: (text: string, line: number, parsed?: JsonValue) => void,
    private readonly maxChars: number,
  ) {}

  line(text: string, line: number): void {
    if (!this.inForm && this.vector !== 'closed' && this.wholeLineMap(text, line)) return;
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.inForm) {
        if (this.closers.length === 0) {
          // the tag of a tagged map (#jepsen.history.Op{...}): symbol characters up to the bracket
          if (isOpening(c)) this.closers.push(closerOf(c));
          else if (isSpace(c) || isClosing(c) || c === QUOTE || c === BACKSLASH) throw fail(line, `expected a map after "${excerpt(text.slice(start, i))}"`);
          continue;
        }
        if (this.inString) {
          if (this.escaped) this.escaped = false;
          else if (c === BACKSLASH) this.escaped = true;
          else if (c === QUOTE) this.inString = false;
        } else if (c === QUOTE) this.inString = true;
        else if (c === BACKSLASH) i++; // a character literal: its character is no bracket
        else if (isOpening(c)) this.closers.push(closerOf(c));
        else if (isClosing(c)) {
          if (this.closers.pop() !== c) {
            const sofar = this.pieces.length === 0 ? text.slice(start, i + 1) : `${this.pieces[0]!}…`;
            throw fail(this.formLine, `bad map "${excerpt(sofar)}": "${text[i]!}" closes no bracket opened before it`);
          }
          if (this.closers.length === 0) this.emit(text.slice(start, i + 1));
        }
        continue;
      }
      if (isSpace(c)) continue;
      if (c === 0x3b) break; // ; comment to the end of the line
      this.sawContent = true;
      if (c === 0x5b && this.vector === 'none' && this.forms === 0) {
        this.vector = 'open';
        this.vectorLine = line;
      } else if (c === 0x5d && this.vector === 'open') this.vector = 'closed';
      else if (this.vector === 'closed') throw fail(line, `text after the vector of events ended: "${excerpt(text.slice(i))}"`);
      else if (c === 0x7b || c === HASH) {
        // a map, or a tagged map such as #jepsen.history.Op{...}
        this.inForm = true;
        if (c !== HASH) this.closers.push(closerOf(c));
        this.formLine = line;
        start = i;
      } else throw fail(line, `expected a map such as {:type :invoke, :f :read, ...}, got "${excerpt(text.slice(i))}"`);
    }
    if (this.inForm) {
      const piece = text.slice(start);
      this.formChars += piece.length + 1;
      if (this.formChars > this.maxChars) {
        throw new CheckError('LINE_TOO_LONG', `line ${this.formLine}: the map starting here is longer than ${this.maxChars} characters`, this.formLine);
      }
      this.pieces.push(piece);
    }
  }

  /**
   * The common case, one map per line: the line parsed whole, without scanning it character by
   * character first. False (nothing consumed) when it is not exactly one map, for the scanner.
   */
  private wholeLineMap(text: string, line: number): boolean {
    let from = 0;
    while (from < text.length && isSpace(text.charCodeAt(from))) from++;
    let to = text.length;
    while (to > from && isSpace(text.charCodeAt(to - 1))) to--;
    if (text.charCodeAt(from) !== 0x7b || text.charCodeAt(to - 1) !== 0x7d) return false;
    let value: JsonValue;
    try {
      value = parseEdnValue(text.slice(from, to), { collections: true });
    } catch {
      return false; // the scanner finds the maps, or the error, with its line
    }
    if (!isRecord(value)) return false;
    this.sawContent = true;
    this.forms++;
    this.onForm(text.slice(from, to), line, value);
    return true;
  }

  private emit(last: string): void {
    const text = this.pieces.length === 0 ? last : `${this.pieces.join('\n')}\n${last}`;
    this.pieces = [];
    this.formChars = 0;
    this.inForm = false;
    this.forms++;
    this.onForm(text, this.formLine);
  }

  /** Throws TRUNCATED_HISTORY when the text ended inside a map or inside the vector of maps. */
  end(): void {
    if (this.inForm) {
      throw new CheckError('TRUNCATED_HISTORY', `line ${this.formLine}: the history is cut off inside the map that starts on this line`, this.formLine);
    }
    if (this.vector === 'open') {
      throw new CheckError('TRUNCATED_HISTORY', `line ${this.vectorLine}: the vector of events opened on this line is never closed`, this.vectorLine);
    }
  }
}

function keywordField(map: { [key: string]: JsonValue }, name: string, line: number): string {
  const value = map[name];
  if (typeof value !== 'string') throw fail(line, `${name} must be a keyword, not ${excerpt(JSON.stringify(value ?? null))}`);
  return value;
}

function numberOrNull(map: { [key: string]: JsonValue }, name: string, line: number): number | null {
  const value = map[name];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number') throw fail(line, `${name} must be a number, not ${excerpt(JSON.stringify(value))}`);
  return value;
}

function processOf(map: { [key: string]: JsonValue }, line: number): string {
  const value = map[':process'];
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value === 'string') return value;
  throw fail(line, `:process must be an integer or a keyword such as :nemesis, not ${excerpt(JSON.stringify(value ?? null))}`);
}

/** The event a map describes; EDN_HISTORY naming the line when it is not one. */
function toEvent(text: string, line: number, position: number, parsed?: JsonValue): EdnEvent {
  let map: JsonValue;
  try {
    map = parsed ?? parseEdnValue(text, { collections: true });
  } catch (err) {
    if (err instanceof EdnSyntaxError) throw fail(line, `bad map "${excerpt(text)}": ${err.message}`);
    throw err;
  }
  if (!isRecord(map)) throw fail(line, `expected a map, got "${excerpt(text)}"`);
  const type = TYPES[keywordField(map, ':type', line)];
  if (type === undefined) throw fail(line, ':type must be :invoke, :ok, :fail or :info');
  const f = keywordField(map, ':f', line);
  return {
    line,
    position,
    type,
    process: processOf(map, line),
    f: f.startsWith(':') ? f.slice(1) : f,
    value: map[':value'] ?? null,
    time: numberOrNull(map, ':time', line),
    index: numberOrNull(map, ':index', line),
    fields: map,
  };
}

/**
 * Reads the events of an EDN history pushed in chunks of text of any size, holding one map at a
 * time; each event goes to `onEvent` in file order. Malformed maps throw EDN_HISTORY with the line.
 */
export class EdnEventReader {
  private readonly splitter: LineSplitter;
  private readonly scanner: FormScanner;
  private events = 0;

  constructor(
    private readonly onEvent: (event: EdnEvent) => void,
    options: EdnReadOptions = {},
  ) {
    const max = options.maxLineChars ?? DEFAULT_MAX_LINE_CHARS;
    this.scanner = new FormScanner((text, line, parsed) => this.onEvent(toEvent(text, line, this.events++, parsed)), max);
    this.splitter = new LineSplitter((content, line) => this.scanner.line(content, line), max);
  }

  push(chunk: string): void {
    this.splitter.push(chunk);
  }

  /**
   * Ends the input; returns how many events were read. A map is self-delimiting, so the last one
   * needs no newline after it; text that ends inside a map or an unclosed vector is
   * TRUNCATED_HISTORY, and text of nothing but blanks and comments EMPTY_HISTORY.
   */
  finish(): number {
    const { tail, lineNumber } = this.splitter.end();
    if (tail !== '') this.scanner.line(tail, lineNumber);
    this.scanner.end();
    if (!this.scanner.sawContent) throw new CheckError('EMPTY_HISTORY', 'the history is empty');
    return this.events;
  }
}

/** Every event of an EDN history text, in file order (nemesis events included). */
export function readEdnEvents(text: string, options: EdnReadOptions = {}): EdnEvent[] {
  const events: EdnEvent[] = [];
  const reader = new EdnEventReader((event) => events.push(event), options);
  reader.push(text);
  reader.finish();
  return events;
}

/** How events become operations: as they are (register, mutex, ...) or as kv calls on a key. */
export type EdnShape = 'plain' | 'kv';

export interface EdnHistoryOptions extends EdnReadOptions {
  /**
   * 'plain' (default): input is the invocation's :value, output the ok completion's. 'kv': each
   * operation names a key, by a :key field or as a [key value] tuple value (Jepsen's independent
   * keys); read/write become get/put and inputs become {key, value} ({key, from, to} for cas).
   */
  readonly shape?: EdnShape;
  /** Porcupine's KV store: the empty string is a missing key, so "" reads and writes as null. */
  readonly emptyIsAbsent?: boolean;
}

const KV_NAMES: Readonly<Record<string, string>> = { read: 'get', write: 'put' };

function keyText(key: JsonValue): string {
  return typeof key === 'string' ? key : canonicalJson(key);
}

/** [key, value] of a kv event: from its :key field, or from a [key value] tuple value. */
function keyed(event: EdnEvent, what: string): { key: JsonValue; value: JsonValue } {
  if (Object.hasOwn(event.fields, ':key')) return { key: event.fields[':key'] ?? null, value: event.value };
  if (Array.isArray(event.value) && event.value.length === 2) return { key: event.value[0] ?? null, value: event.value[1] ?? null };
  throw fail(event.line, `${what} has neither a :key nor a [key value] :value, so it names no key (kv)`);
}

/** Pairs invocations with completions, per process, into Synod operations. */
class EdnHistoryBuilder {
  private readonly open = new Map<string, { index: number; event: EdnEvent }>();
  private readonly ops: Operation[] = [];
  private nextIndex = 0;
  private readonly shape: EdnShape;
  private readonly emptyIsAbsent: boolean;

  constructor(options: EdnHistoryOptions) {
    this.shape = options.shape ?? 'plain';
    this.emptyIsAbsent = options.emptyIsAbsent === true;
  }

  add(event: EdnEvent): void {
    if (event.process === ':nemesis') return; // fault injection, not a client operation
    const pending = this.open.get(event.process);
    if (event.type === 'invoke') {
      if (pending !== undefined) {
        throw fail(event.line, `process ${event.process} invokes again while its operation from line ${pending.event.line} is open`);
      }
      this.open.set(event.process, { index: this.nextIndex++, event });
      return;
    }
    if (pending === undefined) throw fail(event.line, `process ${event.process} completes an operation it never invoked`);
    if (pending.event.f !== event.f) {
      throw fail(event.line, `process ${event.process} completes :${event.f} but invoked :${pending.event.f} on line ${pending.event.line}`);
    }
    this.open.delete(event.process);
    this.ops.push(this.operation(pending.index, pending.event, event, OUTCOME[event.type], event.position));
  }

  finish(end: number): History {
    for (const { index, event } of this.open.values()) this.ops.push(this.operation(index, event, null, 'unknown', end));
    this.open.clear();
    return { format: 'synod-history/1', ops: [...this.ops].sort((a, b) => a.index - b.index) };
  }

  private operation(index: number, invoke: EdnEvent, done: EdnEvent | null, outcome: Outcome, completeMs: number): Operation {
    const base = { index, process: invoke.process, invokeMs: invoke.position, completeMs, outcome };
    if (this.shape === 'plain') return { ...base, f: invoke.f, input: invoke.value, output: outcome === 'ok' ? (done?.value ?? null) : null };
    const { key, value } = keyed(invoke, `the :${invoke.f} invoked here`);
    const f = KV_NAMES[invoke.f] ?? invoke.f;
    let output: JsonValue = null;
    if (outcome === 'ok' && done !== null) output = Object.hasOwn(done.fields, ':key') || f !== 'get' ? done.value : keyed(done, `the :${done.f} completed here`).value;
    const absent = (v: JsonValue): JsonValue => (this.emptyIsAbsent && v === '' ? null : v);
    if (f === 'get') return { ...base, f, input: { key: keyText(key) }, output: absent(output) };
    if (f === 'cas') {
      if (!Array.isArray(value) || value.length !== 2) throw fail(invoke.line, 'a kv :cas value must be [from to] (or [key [from to]])');
      return { ...base, f, input: { key: keyText(key), from: value[0] ?? null, to: value[1] ?? null }, output };
    }
    return { ...base, f, input: { key: keyText(key), value: f === 'put' ? absent(value) : value }, output };
  }
}

/**
 * Reads an EDN history in chunks into a Synod history. Times are event positions in the file
 * (Jepsen's :index), so real-time order is file order; operations never completed are unknown
 * and "complete" one position past the last event. Nemesis events are skipped.
 */
export class EdnHistoryReader {
  private readonly builder: EdnHistoryBuilder;
  private readonly reader: EdnEventReader;

  constructor(options: EdnHistoryOptions = {}) {
    this.builder = new EdnHistoryBuilder(options);
    this.reader = new EdnEventReader((event) => this.builder.add(event), options);
  }

  push(chunk: string): void {
    this.reader.push(chunk);
  }

  finish(): History {
    return this.builder.finish(this.reader.finish());
  }
}

/** Parses a whole Jepsen history.edn (see EdnHistoryReader). */
export function parseEdnHistory(text: string, options: EdnHistoryOptions = {}): History {
  const reader = new EdnHistoryReader(options);
  reader.push(text);
  return reader.finish();
}

/** Parses one of Porcupine's KV test logs: kv get/put/append on string keys, "" meaning absent. */
export function parsePorcupineKv(text: string, options: EdnReadOptions = {}): History {
  return parseEdnHistory(text, { ...options, shape: 'kv', emptyIsAbsent: true });
}
