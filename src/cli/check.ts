// `synod check`: reads history files (Synod JSON, Jepsen logs, Jepsen history.edn, Porcupine KV
// logs; the format detected from the file's start), checks each for linearizability against a
// model and prints one verdict per file. This host owns the file I/O and the wall clock
// that the checker core is not allowed to touch. Everything it prints that came from a file or
// its name goes through escapeControls: a history must not drive the terminal it is read on.
import { createReadStream } from 'node:fs';
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { History, JsonValue } from '../core/index.js';
import {
  CheckError,
  DETECT_HEAD_BYTES,
  EdnHistoryReader,
  HISTORY_FORMATS,
  MODEL_NAMES,
  detectHistoryFormat,
  checkHistory,
  checkResultToJson,
  checkSessions,
  escapeControls,
  formatCheckText,
  formatSessionText,
  htmlReportEnd,
  htmlReportSection,
  htmlReportStart,
  modelByName,
  operationKeys,
  JepsenLogReader,
  parseSynodHistory,
  type CheckResult,
  type FailedCas,
  type HistoryFormat,
  type ReportSection,
  type SessionResult,
  type Verdict,
} from '../check/index.js';
import { CliError } from './errors.js';
import { ISOLATION_LEVELS, TXN_MODEL_NAMES, runTxnCheckCommand, type TxnCommandIo, type TxnModelName } from '../check/txn/index.js';

interface CheckCommandOptions {
  readonly model: string;
  readonly json?: boolean;
  readonly budgetMs: number;
  readonly maxStates?: number;
  readonly sessions?: boolean;
  readonly format: HistoryFormat | 'auto';
  readonly failCas?: FailedCas;
  readonly all?: boolean;
  readonly isolation?: string;
  readonly html?: string;
}

interface FileOutcome {
  readonly verdict: Verdict;
  /** Set when the file could not be read, parsed or checked. */
  readonly failed: boolean;
  /** The file's part of the --html page, when one is asked for. */
  readonly section?: ReportSection;
}

const EXIT_LINEARIZABLE = 0;
const EXIT_VIOLATION = 1;
const EXIT_UNDECIDED = 2;
const DEFAULT_BUDGET_MS = 30_000;

function parseCount(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return value;
}

/**
 * The largest Synod JSON history read. A document is parsed whole, so its text must fit in one
 * string (V8 stops near 512 MiB); the parsed document and the history built from it take several
 * times the text again. Line-based logs have no such limit: they are read as a stream.
 */
export const MAX_DOCUMENT_BYTES = 256 * 1024 * 1024;

export interface ReadLimits {
  /** Largest whole document (Synod JSON) read, in bytes (default MAX_DOCUMENT_BYTES). */
  readonly maxDocumentBytes?: number;
  /** Longest line of a line-based log, in characters (default DEFAULT_MAX_LINE_CHARS of src/check). */
  readonly maxLineChars?: number;
  /** Bytes read at a time; tests make it small to put chunk boundaries everywhere. */
  readonly chunkBytes?: number;
}

const DEFAULT_CHUNK_BYTES = 1024 * 1024;

function mib(bytes: number): string {
  return bytes >= 1024 * 1024 ? ` (${(bytes / (1024 * 1024)).toFixed(1)} MiB)` : '';
}

function tooLarge(message: string): CheckError {
  return new CheckError('HISTORY_TOO_LARGE', message);
}

/** A file's chunks: the ones already read to detect its format, then the rest of the stream. */
type Chunks = AsyncIterable<Buffer>;

/**
 * A Synod document, read in chunks up to the limit. A regular file is measured first; a pipe or
 * a growing file is cut off at the first chunk that passes the limit.
 */
async function readDocument(file: string, chunks: Chunks, limits: ReadLimits): Promise<History> {
  const limit = limits.maxDocumentBytes ?? MAX_DOCUMENT_BYTES;
  const info = await stat(file);
  const most = `${limit} bytes${mib(limit)} a Synod JSON history may have`;
  if (info.isFile() && info.size > limit) throw tooLarge(`${info.size} bytes${mib(info.size)} is more than the ${most}`);
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of chunks) {
    total += chunk.length;
    if (total > limit) throw tooLarge(`more than the ${most} (stopped reading after ${total} bytes)`);
    parts.push(chunk);
  }
  // TextDecoder drops a byte-order mark and, like readFile, turns invalid UTF-8 into U+FFFD
  return parseSynodHistory(new TextDecoder('utf-8').decode(Buffer.concat(parts, total)));
}

/** A line- or map-based history, decoded chunk by chunk: memory holds the history, one chunk and one line (or map). */
async function readStream(chunks: Chunks, reader: { push(text: string): void; finish(): History }): Promise<History> {
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of chunks) reader.push(decoder.decode(chunk, { stream: true }));
  reader.push(decoder.decode());
  return reader.finish();
}

export interface ReadOptions {
  /** The format; 'auto' (default) detects it from the file's first few KiB (detectHistoryFormat). */
  readonly format?: HistoryFormat | 'auto';
  /** Read EDN histories' operations as kv calls (for the kv model): keys from :key or [key value] tuples. */
  readonly kv?: boolean;
}

/** Reads chunks until `bytes` have arrived or the file ended; returns them and the iterator to go on with. */
async function readHead(iterator: AsyncIterator<Buffer>, bytes: number): Promise<{ head: Buffer[]; ended: boolean }> {
  const head: Buffer[] = [];
  let total = 0;
  while (total < bytes) {
    const next = await iterator.next();
    if (next.done === true) return { head, ended: true };
    head.push(next.value);
    total += next.value.length;
  }
  return { head, ended: false };
}

/** Reads a history file in the given format, or the one its start shows; returns the format too. */
export async function readHistory(file: string, limits: ReadLimits = {}, options: ReadOptions = {}): Promise<{ history: History; format: HistoryFormat }> {
  const stream = createReadStream(file, { highWaterMark: limits.chunkBytes ?? DEFAULT_CHUNK_BYTES });
  const iterator = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  try {
    let format = options.format ?? 'auto';
    let head: Buffer[] = [];
    let ended = false;
    if (format === 'auto') {
      ({ head, ended } = await readHead(iterator, DETECT_HEAD_BYTES));
      format = detectHistoryFormat(new TextDecoder('utf-8').decode(Buffer.concat(head)), file);
    }
    async function* chunks(): AsyncGenerator<Buffer> {
      yield* head;
      if (ended) return;
      for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) yield next.value;
    }
    const maxLine = limits.maxLineChars === undefined ? {} : { maxLineChars: limits.maxLineChars };
    switch (format) {
      case 'synod':
        return { format, history: await readDocument(file, chunks(), limits) };
      case 'jepsen-log':
        return { format, history: await readStream(chunks(), new JepsenLogReader(maxLine)) };
      case 'porcupine-kv':
        return { format, history: await readStream(chunks(), new EdnHistoryReader({ ...maxLine, shape: 'kv', emptyIsAbsent: true })) };
      case 'edn':
        return { format, history: await readStream(chunks(), new EdnHistoryReader({ ...maxLine, shape: options.kv === true ? 'kv' : 'plain' })) };
    }
  } finally {
    stream.destroy();
  }
}

/** A history file in the format its first few KiB show (see readHistory). */
export async function readHistoryFile(file: string, limits: ReadLimits = {}, options: ReadOptions = {}): Promise<History> {
  return (await readHistory(file, limits, options)).history;
}

/**
 * What a failed cas means unless --fail-cas says: in Jepsen's text logs (etcd and stores like it)
 * a cas fails when it compared and found another value, so it is an observation; Synod records
 * such a refusal as ok with output false, so its "fail" means "did not happen"; Jepsen's
 * history.edn is read as Knossos reads it (dropped); Porcupine's KV logs have no cas.
 */
export const DEFAULT_FAILED_CAS: Readonly<Record<HistoryFormat, FailedCas>> = {
  synod: 'dropped',
  'jepsen-log': 'observed',
  edn: 'dropped',
  'porcupine-kv': 'dropped',
};

function errorOf(err: unknown): { code: string; message: string } | null {
  if (err instanceof CheckError) return { code: err.code, message: err.message };
  const sysErr = err as NodeJS.ErrnoException;
  if (err instanceof Error && typeof sysErr.code === 'string') return { code: 'READ_FAILED', message: `cannot read: ${err.message}` };
  return null;
}

interface OutcomeCounts {
  readonly ops: number;
  readonly ok: number;
  readonly fail: number;
  readonly unknown: number;
}

function countOutcomes(history: History): OutcomeCounts {
  const counts = { ops: history.ops.length, ok: 0, fail: 0, unknown: 0 };
  for (const op of history.ops) counts[op.outcome]++;
  return counts;
}

/**
 * A history where nothing completed ok is linearizable whatever happened (every operation may
 * have failed or never taken effect): valid, but more likely a broken test run than a result.
 */
function warningFor(counts: OutcomeCounts): string | null {
  if (counts.ok > 0) return null;
  return `no operation completed ok (${counts.fail} failed, ${counts.unknown} unknown of ${counts.ops}), so nothing constrains this verdict`;
}

interface Printed {
  readonly file: string;
  readonly format: HistoryFormat;
  readonly failedCas: FailedCas;
  readonly history: History;
  readonly result: CheckResult;
  readonly sessions: SessionResult | null;
  readonly ms: number;
}

/** One line per partition (for --all): its verdict, size and time. */
function partitionLines(result: CheckResult): string[] {
  return result.partitions.map((p) => {
    const why = p.reason === null ? '' : ` (${p.reason})`;
    const ms = p.ms === null ? '' : `, ${p.ms.toFixed(1)} ms`;
    const name = p.keys === undefined ? `key ${JSON.stringify(p.key)}` : `keys ${p.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    return `  ${name}: ${p.verdict}${why}, ${p.ops} operations, ${p.states} states${ms}`;
  });
}

function printResult({ file, format, failedCas, history, result, sessions, ms }: Printed, json: boolean, all: boolean): void {
  const counts = countOutcomes(history);
  const warning = warningFor(counts);
  if (json) {
    const extra: { [key: string]: JsonValue } = {
      format,
      failCas: failedCas,
      counts: { ...counts },
      ...(warning === null ? {} : { warning }),
      ...(sessions === null ? {} : { sessions: JSON.parse(JSON.stringify(sessions)) as JsonValue }),
    };
    writeJsonLine({ file, verdict: result.verdict, ms: Math.round(ms * 1000) / 1000, ...checkResultToJson(result, history), ...extra });
    return;
  }
  const [first, ...rest] = formatCheckText(result, history).split('\n');
  const lines = [`${escapeControls(file)}: ${first} in ${ms.toFixed(1)} ms`, ...(warning === null ? [] : [`  warning: ${warning}`]), ...rest];
  if (all) lines.push(...partitionLines(result));
  if (sessions !== null) lines.push(...formatSessionText(sessions, history).split('\n').map((l) => `  ${l}`));
  // the report escapes what it takes from the history; escaping each line again costs little
  // and keeps the output safe should a formatter forget
  process.stdout.write(`${lines.map(escapeControls).join('\n')}\n`);
}

/** JSON.stringify leaves DEL, C1 and U+2028/9 raw inside strings; escaping keeps the value. */
function writeJsonLine(value: { [key: string]: JsonValue }): void {
  process.stdout.write(`${escapeControls(JSON.stringify(value))}\n`);
}

function printFailure(file: string, failure: { code: string; message: string }, ms: number, json: boolean): void {
  process.stderr.write(`synod: ${escapeControls(file)}: ${escapeControls(failure.message)} [${failure.code}]\n`);
  if (json) writeJsonLine({ file, verdict: 'unknown', ms: Math.round(ms * 1000) / 1000, error: failure });
}

async function checkFile(file: string, options: CheckCommandOptions): Promise<FileOutcome> {
  const started = performance.now();
  try {
    const model = modelByName(options.model);
    const { history, format } = await readHistory(file, {}, { format: options.format, kv: options.model === 'kv' });
    // an empty history is vacuously linearizable, which is never what the caller wanted to learn
    if (history.ops.length === 0) throw new CheckError('EMPTY_HISTORY', 'the history has no client operations to check');
    const budget = options.budgetMs > 0 ? { budgetMs: options.budgetMs } : {};
    const maxStates = options.maxStates === undefined || options.maxStates === 0 ? undefined : options.maxStates;
    const failedCas = options.failCas ?? DEFAULT_FAILED_CAS[format];
    const all = options.all === true;
    const result = checkHistory(history, model, { ...budget, now: () => performance.now(), maxStates, failedCas, allPartitions: all });
    const sessions = options.sessions === true ? checkSessions(history, model) : null;
    const ms = performance.now() - started;
    printResult({ file, format, failedCas, history, result, sessions, ms }, options.json === true, all);
    const section = options.html === undefined ? undefined : reportSectionOf({ file, format, failedCas, history, result, sessions, ms }, operationKeys(history, model));
    return { verdict: result.verdict, failed: false, section };
  } catch (err) {
    const failure = errorOf(err);
    if (failure === null) throw err;
    printFailure(file, failure, performance.now() - started, options.json === true);
    return { verdict: 'unknown', failed: true, section: { title: file, error: `${failure.message} [${failure.code}]` } };
  }
}

/** A checked file as a section of the --html page: the notes say what the text report says. */
function reportSectionOf({ file, format, failedCas, history, result, sessions, ms }: Printed, keys: ReadonlyMap<number, string>): ReportSection {
  const counts = countOutcomes(history);
  const warning = warningFor(counts);
  const notes = [
    `format ${format}, failed cas ${failedCas}; ${counts.ops} operations: ${counts.ok} ok, ${counts.fail} failed, ${counts.unknown} unknown; checked in ${ms.toFixed(1)} ms`,
    ...(warning === null ? [] : [`warning: ${warning}`]),
    ...(sessions === null ? [] : formatSessionText(sessions, history).split('\n')),
  ];
  return { title: file, notes, history, result, keys };
}

function cannotWrite(path: string, err: unknown): CliError {
  const code = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : 'error');
  return new CliError('HTML_WRITE', `--html ${escapeControls(path)}: cannot write the report (${escapeControls(code)})`);
}

/** The --html page, opened before any check runs (so a bad path fails at once) and written in parts. */
interface ReportFile {
  write(text: string): Promise<void>;
  close(): Promise<void>;
}

/** Whether `path` is one of the histories: opening it for writing would empty it before it is read. */
async function isInput(path: string, files: readonly string[]): Promise<boolean> {
  const target = await stat(path).catch(() => null);
  if (target === null) return files.some((f) => resolve(f) === resolve(path));
  for (const file of files) {
    const info = await stat(file).catch(() => null);
    if (info !== null && info.dev === target.dev && info.ino === target.ino) return true;
  }
  return false;
}

async function openReport(path: string, files: readonly string[]): Promise<ReportFile> {
  if (await isInput(path, files)) throw new CliError('BAD_OPTION', `--html ${escapeControls(path)} is one of the histories to check; writing the report would destroy it`);
  let handle: FileHandle;
  try {
    handle = await open(path, 'w');
  } catch (err) {
    throw cannotWrite(path, err);
  }
  return {
    async write(text) {
      try {
        await handle.write(text);
      } catch (err) {
        throw cannotWrite(path, err);
      }
    },
    close: () => handle.close(),
  };
}

/** 2 if any file is undecided or unreadable, else 1 if any is not linearizable, else 0. */
export function exitCodeFor(outcomes: readonly FileOutcome[]): number {
  if (outcomes.some((o) => o.failed || o.verdict === 'unknown')) return EXIT_UNDECIDED;
  if (outcomes.some((o) => o.verdict === 'not-linearizable')) return EXIT_VIOLATION;
  return EXIT_LINEARIZABLE;
}

/** Transactional histories are read whole (up to MAX_DOCUMENT_BYTES), then checked by src/check/txn. */
const txnIo: TxnCommandIo = {
  readText: async (file) => {
    const info = await stat(file);
    if (info.size > MAX_DOCUMENT_BYTES) throw tooLarge(`${info.size} bytes${mib(info.size)} is more than the ${MAX_DOCUMENT_BYTES} bytes a transaction history may have`);
    return readFile(file, 'utf8');
  },
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  now: () => performance.now(),
};

export function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .description('check histories for linearizability (exit 0: all linearizable, 1: a violation, 2: unknown or unreadable)')
    .addOption(new Option('--model <model>', 'data type the history is of').choices([...MODEL_NAMES, ...TXN_MODEL_NAMES]).makeOptionMandatory())
    .addOption(new Option('--isolation <level>', 'txn-append, txn-rw: the isolation level to check (default serializable)').choices(ISOLATION_LEVELS))
    .option('--json', 'print one JSON object per file and line')
    .option('--budget-ms <n>', 'give up on a file after this many ms, verdict unknown (0: no limit)', parseCount, DEFAULT_BUDGET_MS)
    .option('--max-states <n>', 'give up on a file after memoising this many search states (0: default)', parseCount)
    .option('--sessions', 'also check read-your-writes and monotonic reads (register, kv)')
    .addOption(new Option('--format <format>', 'history format (auto: detected from the start of each file)').choices(['auto', ...HISTORY_FORMATS]).default('auto'))
    .addOption(new Option('--fail-cas <mode>', 'a failed cas: observed (saw another value) or dropped (did not happen); default per format').choices(['observed', 'dropped']))
    .option('--all', "decide every partition (key) instead of stopping at the first violation, and list each key's verdict")
    .option('--html <file>', 'also write a self-contained HTML page of the histories (bars per process, the violation marked); one section per file')
    .argument('<files...>', 'histories: Synod JSON, Jepsen log, Jepsen history.edn or Porcupine KV log')
    .action(async (files: string[], options: CheckCommandOptions) => {
      if ((TXN_MODEL_NAMES as readonly string[]).includes(options.model)) {
        const { model, isolation, json } = options;
        const linearOnly = [['--sessions', options.sessions === true], ['--fail-cas', options.failCas !== undefined], ['--all', options.all === true], ['--format', options.format !== 'auto'], ['--html', options.html !== undefined]] as const;
        const given = linearOnly.filter(([, set]) => set).map(([flag]) => flag);
        if (given.length > 0) throw new CliError('BAD_OPTION', `${given.join(', ')} ${given.length === 1 ? 'is' : 'are'} for the linearizability models, not the transactional model ${model}`);
        process.exitCode = await runTxnCheckCommand(files, { model: model as TxnModelName, isolation, json }, txnIo);
        return;
      }
      if (options.isolation !== undefined) throw new CliError('BAD_OPTION', '--isolation is for the transactional models txn-append and txn-rw');
      if (options.sessions === true && modelByName(options.model).sessionEffect === undefined) {
        throw new CliError('BAD_OPTION', `--sessions is not defined for model ${options.model} (use register or kv)`);
      }
      const report = options.html === undefined ? null : await openReport(options.html, files);
      const outcomes: FileOutcome[] = [];
      try {
        await report?.write(htmlReportStart(files));
        for (const [k, file] of files.entries()) {
          const outcome = await checkFile(file, options);
          // each section is written as soon as its file is checked: the page never holds more
          // than one history in memory
          if (outcome.section !== undefined) await report?.write(htmlReportSection(outcome.section, k + 1));
          outcomes.push({ verdict: outcome.verdict, failed: outcome.failed });
        }
        await report?.write(htmlReportEnd());
      } finally {
        await report?.close();
      }
      process.exitCode = exitCodeFor(outcomes);
    });
}
