// JSON helpers shared by the models and parsers: a canonical text form (object keys sorted) so
// that equal values compare equal as strings, and a type guard for untrusted input.
import type { JsonValue } from '../core/index.js';

export type { JsonValue };

/** Deepest nesting of arrays and objects a value read from a history may have. */
export const MAX_VALUE_DEPTH = 100;

/** Same text for equal values, whatever the key order of objects; used to intern states and values. */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as JsonValue)}`).join(',')}}`;
}

/**
 * Why an untrusted value is not a JSON value a history may hold, or null if it is one. Depth is
 * bounded (values are compared and printed by recursion), and so is this walk.
 */
export function jsonValueProblem(value: unknown, depth = 0): string | null {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : 'is not a finite number';
  if (typeof value !== 'object') return 'is not a JSON value';
  if (depth >= MAX_VALUE_DEPTH) return `is nested deeper than ${MAX_VALUE_DEPTH}`;
  for (const item of Array.isArray(value) ? value : Object.values(value as object)) {
    const problem = jsonValueProblem(item, depth + 1);
    if (problem !== null) return problem;
  }
  return null;
}

export function isJsonValue(value: unknown): value is JsonValue {
  return jsonValueProblem(value) === null;
}

export function isRecord(value: JsonValue): value is { [key: string]: JsonValue } {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
