// Reads Jepsen's text logs (`INFO  jepsen.util - PROCESS :type :f VALUE`) into a Synod history.
// Each line is one event in real-time order, so line numbers serve as times. Operations left
// open at the end count as unknown-outcome; every malformed line is reported with its number.
// A log is a sequence of newline-terminated lines: one that ends part-way through a line was cut
// off, and its last record cannot be trusted (a cut value can still parse, as a different value).
import type { History, JsonValue, Operation, Outcome } from '../../core/index.js';
import { CheckError } from '../errors.js';
import { EdnSyntaxError, parseEdnValue } from './edn.js';
import { LineSplitter } from './lines.js';

const LOG_LINE = /^(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\s+(\S+)\s+-\s+(.*)$/;
const EVENT = /^(\S+)\s+:(invoke|ok|fail|info)\s+:([A-Za-z][\w*+!?<>=/-]*)(?:\s+(.*))?$/;
const OUTCOME: Record<string, Outcome> = { ok: 'ok', fail: 'fail', info: 'unknown' };

interface OpenOp {
  readonly index: number;
  readonly f: string;
  readonly input: JsonValue;
  readonly line: number;
}

interface Event {
  readonly process: string;
  readonly type: string;
  readonly f: string;
  readonly value: JsonValue;
}

/** Input quoted in a message: lines can be megabytes long. */
function excerpt(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function fail(line: number, why: string): CheckError {
  return new CheckError('JEPSEN_PARSE', `line ${line}: ${why}`, line);
}

/** The event on a log line, null for lines of other loggers, or a JEPSEN_PARSE error. */
function parseLine(text: string, line: number): Event | null {
  const log = LOG_LINE.exec(text.trim());
  if (log === null) throw fail(line, `not a Jepsen log line: "${excerpt(text)}"`);
  if (log[2] !== 'jepsen.util') return null;
  const event = EVENT.exec(log[3]!);
  if (event === null) throw fail(line, `expected "PROCESS :invoke|:ok|:fail|:info :f VALUE", got "${excerpt(log[3]!)}"`);
  let value: JsonValue;
  try {
    value = parseEdnValue(event[4] ?? 'nil');
  } catch (err) {
    if (err instanceof EdnSyntaxError) throw fail(line, `bad value "${excerpt(event[4] ?? '')}": ${err.message}`);
    throw err;
  }
  return { process: event[1]!, type: event[2]!, f: event[3]!, value };
}

class HistoryBuilder {
  private readonly open = new Map<string, OpenOp>();
  private readonly ops: Operation[] = [];
  private nextIndex = 0;

  add(event: Event, line: number): void {
    if (event.process === ':nemesis') return; // fault injection, not a client operation
    if (event.type === 'invoke') this.invoke(event, line);
    else this.complete(event, line);
  }

  private invoke(event: Event, line: number): void {
    const already = this.open.get(event.process);
    if (already !== undefined) {
      throw fail(line, `process ${event.process} invokes again while its operation from line ${already.line} is open`);
    }
    this.open.set(event.process, { index: this.nextIndex++, f: event.f, input: event.value, line });
  }

  private complete(event: Event, line: number): void {
    const pending = this.open.get(event.process);
    if (pending === undefined) throw fail(line, `process ${event.process} completes an operation it never invoked`);
    if (pending.f !== event.f) {
      throw fail(line, `process ${event.process} completes :${event.f} but invoked :${pending.f} on line ${pending.line}`);
    }
    this.open.delete(event.process);
    const outcome = OUTCOME[event.type]!;
    this.push(event.process, pending, outcome, outcome === 'ok' ? event.value : null, line);
  }

  private push(process: string, pending: OpenOp, outcome: Outcome, output: JsonValue, line: number): void {
    const { index, f, input } = pending;
    this.ops.push({ index, process, f, input, output, invokeMs: pending.line, completeMs: line, outcome });
  }

  finish(endLine: number): History {
    for (const [process, pending] of this.open) this.push(process, pending, 'unknown', null, endLine);
    this.open.clear();
    return { format: 'synod-history/1', ops: [...this.ops].sort((a, b) => a.index - b.index) };
  }
}

export interface JepsenReadOptions {
  /** Longest line accepted (default DEFAULT_MAX_LINE_CHARS); longer gives LINE_TOO_LONG. */
  readonly maxLineChars?: number;
}

/**
 * Reads a Jepsen log pushed in chunks of text of any size, holding one line at a time besides
 * the history it builds. `finish` ends the input and returns the history.
 */
export class JepsenLogReader {
  private readonly builder = new HistoryBuilder();
  private readonly splitter: LineSplitter;
  private sawContent = false;

  constructor(options: JepsenReadOptions = {}) {
    this.splitter = new LineSplitter((content, line) => this.line(content, line), options.maxLineChars);
  }

  push(chunk: string): void {
    this.splitter.push(chunk);
  }

  /**
   * The history read. Throws TRUNCATED_HISTORY when the input ends part-way through a line that
   * is not blank, and EMPTY_HISTORY when it holds nothing but blank lines.
   */
  finish(): History {
    const { tail, lineNumber } = this.splitter.end();
    if (tail.trim() !== '') {
      throw new CheckError(
        'TRUNCATED_HISTORY',
        `line ${lineNumber}: the log is cut off part-way through this line (no newline after "${excerpt(tail)}"); end the file with a newline if it is complete`,
        lineNumber,
      );
    }
    if (!this.sawContent) throw new CheckError('EMPTY_HISTORY', 'the log is empty');
    return this.builder.finish(lineNumber);
  }

  private line(content: string, line: number): void {
    if (content.trim() === '') return;
    this.sawContent = true;
    const event = parseLine(content, line);
    if (event !== null) this.builder.add(event, line);
  }
}

/**
 * Parses a whole Jepsen log. Times are line numbers; an operation never completed is unknown and
 * "completes" one line past the end. Lines of other loggers are skipped; anything else that is
 * not an event throws CheckError JEPSEN_PARSE naming the line. A last line without its newline
 * throws TRUNCATED_HISTORY, and a log of blank lines EMPTY_HISTORY.
 */
export function parseJepsenLog(text: string, options: JepsenReadOptions = {}): History {
  const reader = new JepsenLogReader(options);
  reader.push(text);
  return reader.finish();
}
