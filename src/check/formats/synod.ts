// Reads Synod's own history documents (format "synod-history/1", see src/sim/history.ts) from
// untrusted JSON, checking every field so the search can rely on the shapes it is given.
import type { History, JsonValue, Operation, Outcome } from '../../core/index.js';
import { CheckError } from '../errors.js';
import { jsonValueProblem } from '../json.js';

const OUTCOMES: readonly string[] = ['ok', 'fail', 'unknown'];

function bad(why: string): CheckError {
  return new CheckError('HISTORY_FORMAT', why);
}

function field(record: Record<string, unknown>, name: string, where: string): unknown {
  if (!Object.hasOwn(record, name)) throw bad(`${where}: missing "${name}"`);
  return record[name];
}

function jsonField(record: Record<string, unknown>, name: string, where: string): JsonValue {
  const value = field(record, name, where);
  const problem = jsonValueProblem(value);
  if (problem !== null) throw bad(`${where}: "${name}" ${problem}`);
  return value as JsonValue;
}

function numberField(record: Record<string, unknown>, name: string, where: string): number {
  const value = field(record, name, where);
  if (typeof value !== 'number' || !Number.isFinite(value)) throw bad(`${where}: "${name}" must be a finite number`);
  return value;
}

function stringField(record: Record<string, unknown>, name: string, where: string): string {
  const value = field(record, name, where);
  if (typeof value !== 'string') throw bad(`${where}: "${name}" must be a string`);
  return value;
}

function validateOperation(raw: unknown, position: number): Operation {
  const where = `ops[${position}]`;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw bad(`${where}: must be an object`);
  const record = raw as Record<string, unknown>;
  const index = numberField(record, 'index', where);
  if (!Number.isSafeInteger(index) || index < 0) throw bad(`${where}: "index" must be a non-negative integer`);
  const outcome = stringField(record, 'outcome', where);
  if (!OUTCOMES.includes(outcome)) throw bad(`${where}: "outcome" must be ok, fail or unknown`);
  const invokeMs = numberField(record, 'invokeMs', where);
  const completeMs = numberField(record, 'completeMs', where);
  if (outcome !== 'unknown' && completeMs < invokeMs) throw bad(`${where}: completes (${completeMs}) before it is invoked (${invokeMs})`);
  return {
    index,
    process: stringField(record, 'process', where),
    f: stringField(record, 'f', where),
    input: jsonField(record, 'input', where),
    output: jsonField(record, 'output', where),
    invokeMs,
    completeMs,
    outcome: outcome as Outcome,
  };
}

/** Checks that a parsed JSON document is a Synod history; throws CheckError HISTORY_FORMAT. */
export function validateHistory(doc: unknown): History {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw bad('a history must be a JSON object');
  const record = doc as Record<string, unknown>;
  if (record['format'] !== 'synod-history/1') throw bad('"format" must be "synod-history/1"');
  const ops = record['ops'];
  if (!Array.isArray(ops)) throw bad('"ops" must be an array');
  const history: Operation[] = ops.map(validateOperation);
  const seen = new Set<number>();
  for (const op of history) {
    if (seen.has(op.index)) throw bad(`two operations have index ${op.index}`);
    seen.add(op.index);
  }
  return { format: 'synod-history/1', ops: history };
}

/**
 * Parses the text of a Synod history document: EMPTY_HISTORY for blank text, HISTORY_FORMAT for
 * anything that is not a whole, valid document (a document cut off anywhere is not valid JSON).
 */
export function parseSynodHistory(text: string): History {
  // \s covers a byte-order mark too; testing for a non-space avoids copying a large text
  if (!/\S/.test(text)) throw new CheckError('EMPTY_HISTORY', 'the document is empty');
  let doc: unknown;
  try {
    doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    throw bad(`not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  return validateHistory(doc);
}
