// Renders check results for people (short text) and for tools (JSON that carries the operations
// a violation refers to, so a visualizer needs nothing but the report). Every piece of text taken
// from the history is escaped (escape.ts): a report is printed on terminals.
import type { History, JsonValue, Operation } from '../core/index.js';
import type { CheckResult, Violation } from './result.js';
import type { SessionResult } from './session.js';
import { escapeControls } from './escape.js';

export interface TextOptions {
  /** How many operations at the end of the longest linearizable prefix to list (default 8). */
  readonly prefixTail?: number;
}

/** Operations whose null output is an answer ("nothing there") rather than "nothing returned". */
const READS = new Set(['read', 'get']);

/** A value as JSON text, safe for a terminal. */
function showJson(value: JsonValue): string {
  return escapeControls(JSON.stringify(value));
}

/** `#12 p3 cas [1,2] → true [40, 45]`: index, process, call, result, real-time window. */
export function describeOperation(op: Operation): string {
  const input = op.input === null ? '' : ` ${showJson(op.input)}`;
  const shown = op.outcome === 'ok' && (op.output !== null || READS.has(op.f));
  const output = shown ? ` → ${showJson(op.output)}` : '';
  const outcome = op.outcome === 'ok' ? '' : ` (${op.outcome})`;
  const end = op.outcome === 'unknown' ? '∞' : String(op.completeMs);
  return `#${op.index} p${escapeControls(op.process)} ${escapeControls(op.f)}${input}${output}${outcome} [${op.invokeMs}, ${end}]`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function indexOperations(history: History): Map<number, Operation> {
  return new Map(history.ops.map((op) => [op.index, op]));
}

function describeIndex(ops: Map<number, Operation>, index: number): string {
  const op = ops.get(index);
  return op === undefined ? `#${index}` : describeOperation(op);
}

function violationLines(violation: Violation, ops: Map<number, Operation>, tail: number): string[] {
  const keys = violation.keys;
  const key = keys !== undefined ? ` in keys ${keys.map((k) => showJson(k)).join(', ')}` : violation.key === '' ? '' : ` in key ${showJson(violation.key)}`;
  const lines = [`  longest linearizable prefix${key}: ${count(violation.prefix.length, 'operation')}`];
  const shown = violation.prefix.slice(Math.max(0, violation.prefix.length - tail));
  if (shown.length < violation.prefix.length) lines.push(`    … ${violation.prefix.length - shown.length} earlier`);
  for (const step of shown) lines.push(`    ${describeIndex(ops, step.op)}  ⇒ ${showJson(step.state)}`);
  lines.push('  none of these can be placed next:');
  for (const index of violation.unplaceable) {
    const mark = index === violation.stuck ? '  ← completed before it could take effect' : '';
    lines.push(`    ${describeIndex(ops, index)}${mark}`);
  }
  return lines;
}

/** A few readable lines: the verdict, and for a violation the evidence. */
export function formatCheckText(result: CheckResult, history: History, options: TextOptions = {}): string {
  const states = result.partitions.reduce((sum, p) => sum + p.states, 0);
  const ops = result.partitions.reduce((sum, p) => sum + p.ops, 0);
  const why = result.reason === null ? '' : `, ${result.reason} spent`;
  const figures = [count(ops, 'operation'), count(result.partitions.length, 'partition'), count(states, 'state')].join(', ');
  const lines = [`${result.verdict} (${escapeControls(result.model)}: ${figures}${why})`];
  if (result.violation !== null) lines.push(...violationLines(result.violation, indexOperations(history), options.prefixTail ?? 8));
  return lines.join('\n');
}

export function formatSessionText(result: SessionResult, history: History): string {
  if (result.ok) return 'session guarantees hold (read-your-writes, monotonic reads)';
  const ops = indexOperations(history);
  return result.violations
    .map((v) => `${escapeControls(v.message)}\n    ${describeIndex(ops, v.earlier)}\n    ${describeIndex(ops, v.later)}`)
    .join('\n');
}

function referencedIndices(result: CheckResult): number[] {
  const violation = result.violation;
  if (violation === null) return [];
  return [...new Set([...violation.prefix.map((s) => s.op), ...violation.unplaceable])].sort((a, b) => a - b);
}

function operationJson(op: Operation): JsonValue {
  const { index, process, f, input, output, invokeMs, completeMs, outcome } = op;
  return { index, process, f, input, output, invokeMs, completeMs, outcome };
}

/** The result as plain JSON, with the operations the violation refers to under "operations". */
export function checkResultToJson(result: CheckResult, history: History): { [key: string]: JsonValue } {
  const ops = indexOperations(history);
  const operations = referencedIndices(result).flatMap((i) => {
    const op = ops.get(i);
    return op === undefined ? [] : [operationJson(op)];
  });
  // the result's interfaces are JSON by construction; the round trip only re-types them as such
  return JSON.parse(JSON.stringify({ ...result, operations })) as { [key: string]: JsonValue };
}
