// Checks of plain data from outside (peers' messages, durable ops a host read back): JSON values
// of bounded depth and size, integers, bounded lists. Every check is total: it answers, never throws.
import type { JsonValue } from '../core/index.js';

/** Deeper values are refused (a hostile message cannot make the checks or the state machine recurse without end). */
export const MAX_VALUE_DEPTH = 64;

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

export function isSlot(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
}

/** A JSON value (no undefined, functions, non-finite numbers, cycles) at most MAX_VALUE_DEPTH deep. */
export function isJson(v: unknown, depth = 0): v is JsonValue {
  if (depth > MAX_VALUE_DEPTH) return false;
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every((x) => isJson(x, depth + 1));
  if (typeof v !== 'object') return false;
  if (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) return false;
  return Object.values(v as object).every((x) => isJson(x, depth + 1));
}

/** A list of at most `max` items, each passing `item`. */
export function isListOf<T>(v: unknown, max: number, item: (x: unknown) => x is T): v is T[] {
  return Array.isArray(v) && v.length <= max && v.every((x) => item(x));
}
