// Text and JSON reports of a transactional check, and `synod check --model txn-*` as a function
// of injected I/O (the CLI passes file reading, output and a clock; this core does no I/O itself).
// Everything taken from a history goes through escapeControls before it reaches a terminal.
import type { JsonValue } from '../../core/index.js';
import { CheckError } from '../errors.js';
import { escapeControls } from '../escape.js';
import { checkTxnHistory } from './check.js';
import { show } from './infer.js';
import { parseTxnHistory, txnFormatForFile } from './read.js';
import { ISOLATION_LEVELS, TXN_MODEL_NAMES, type IsolationLevel, type TxnCheckResult, type TxnModelName } from './types.js';

function mopsText(value: JsonValue): string {
  if (!Array.isArray(value)) return show(value);
  return `[${value.map((m) => (Array.isArray(m) ? `[:${String(m[0])} ${show(m[1]!)} ${show(m[2]!)}]` : show(m))).join(' ')}]`;
}

/** A verdict line, then each anomaly type with its explanations, indented. */
export function formatTxnText(result: TxnCheckResult): string {
  const { verdict, isolation } = result;
  const head =
    verdict === 'valid'
      ? `${isolation}: valid`
      : verdict === 'invalid'
        ? `NOT ${isolation}: ${result.forbidden.join(', ')}`
        : `${isolation}: unknown (${result.incomplete ?? 'search incomplete'})`;
  const lines = [`${head} (${result.stats.txns} transactions, ${result.stats.edges} dependency edges)`];
  const others = result.anomalyTypes.filter((t) => !result.forbidden.includes(t));
  if (others.length > 0) lines.push(`  also found (allowed at ${isolation}): ${others.join(', ')}`);
  if (result.notLevels.length > 0) lines.push(`  rules out: ${result.notLevels.join(', ')}`);
  for (const type of result.anomalyTypes) {
    const list = result.anomalies[type] ?? [];
    const count = result.counts[type] ?? list.length;
    lines.push(`  ${type}: ${count} found${count > list.length ? `, ${list.length} shown` : ''}`);
    for (const x of list) {
      if ('cycle' in x) {
        lines.push(`    cycle ${x.cycle.map((i) => `T${i}`).join(' -> ')}`);
        for (const t of x.txns) lines.push(`      T${t.index} = {:process ${show(t.process)}, :type :${t.outcome}, :value ${mopsText(t.value)}}`);
        for (const step of x.steps) lines.push(`      ${step.why}`);
      } else lines.push(`    ${x.why}`);
    }
  }
  for (const note of result.notes) lines.push(`  note: ${note}`);
  return lines.map(escapeControls).join('\n');
}

/** Plain JSON of a result (it is plain data already; this fixes the key order). */
export function txnResultToJson(result: TxnCheckResult): { [key: string]: JsonValue } {
  return JSON.parse(JSON.stringify(result)) as { [key: string]: JsonValue };
}

export interface TxnCommandOptions {
  readonly model: TxnModelName;
  readonly isolation?: string;
  readonly json?: boolean;
}

/** What the command needs from its host. */
export interface TxnCommandIo {
  readText(file: string): Promise<string>;
  stdout(text: string): void;
  stderr(text: string): void;
  now(): number;
}

export const TXN_EXIT_VALID = 0;
export const TXN_EXIT_INVALID = 1;
export const TXN_EXIT_UNKNOWN = 2;

/** Checks each file; returns the exit code: 2 if any is unknown or unreadable, else 1 if any violates the level, else 0. */
export async function runTxnCheckCommand(files: readonly string[], options: TxnCommandOptions, io: TxnCommandIo): Promise<number> {
  const isolation = (options.isolation ?? 'serializable') as IsolationLevel;
  if (!(ISOLATION_LEVELS as readonly string[]).includes(isolation)) {
    throw new CheckError('BAD_OPTION', `--isolation must be one of ${ISOLATION_LEVELS.join(', ')}`);
  }
  if (!(TXN_MODEL_NAMES as readonly string[]).includes(options.model)) throw new CheckError('UNKNOWN_MODEL', `no transactional model ${options.model}`);
  let worst = TXN_EXIT_VALID;
  for (const file of files) {
    const started = io.now();
    try {
      const history = parseTxnHistory(await io.readText(file), txnFormatForFile(file));
      const result = checkTxnHistory(history, { model: options.model, isolation });
      const ms = Math.round((io.now() - started) * 1000) / 1000;
      if (options.json === true) io.stdout(`${escapeControls(JSON.stringify({ file, ms, ...txnResultToJson(result) }))}\n`);
      else {
        const [first, ...rest] = formatTxnText(result).split('\n');
        io.stdout(`${[`${escapeControls(file)}: ${first} in ${ms.toFixed(1)} ms`, ...rest].join('\n')}\n`);
      }
      const code = result.verdict === 'valid' ? TXN_EXIT_VALID : result.verdict === 'invalid' ? TXN_EXIT_INVALID : TXN_EXIT_UNKNOWN;
      worst = Math.max(worst, code);
    } catch (err) {
      const sysErr = err as NodeJS.ErrnoException;
      const failure =
        err instanceof CheckError
          ? { code: err.code, message: err.line === undefined ? err.message : `line ${err.line}: ${err.message}` }
          : err instanceof Error && typeof sysErr.code === 'string'
            ? { code: 'READ_FAILED', message: `cannot read: ${err.message}` }
            : null;
      if (failure === null) throw err;
      io.stderr(`synod: ${escapeControls(file)}: ${escapeControls(failure.message)} [${failure.code}]\n`);
      if (options.json === true) io.stdout(`${escapeControls(JSON.stringify({ file, verdict: 'unknown', error: failure }))}\n`);
      worst = TXN_EXIT_UNKNOWN;
    }
  }
  return worst;
}
