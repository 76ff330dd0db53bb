// JSON helpers shared by the models and parsers: a canonical text form (object keys sorted) so
// that equal values compare equal as strings, and a type guard for untrusted input.
import type { JsonValue } from '../sim/history.js';

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

export function isJsonValue(value: unknown): value is JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isJsonValue);
  if (typeof value === 'object') return Object.values(value as object).every(isJsonValue);
  return false;
}

export function isRecord(value: JsonValue): value is { [key: string]: JsonValue } {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
