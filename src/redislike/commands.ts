// The commands of the Redis-like node and their replies, as plain JSON data, with the check of a
// command that comes from outside (a client node's message): every field validated once, so the
// store sees only well-formed commands. The subset a lock needs, with Redis's semantics.
import type { JsonValue } from '../core/index.js';

/** A key's value is a string, as in Redis; INCR keeps the decimal text of an integer. */
export type RedisCommand =
  /** SET key value [NX] [PX ttlMs]: 'OK', or null when NX and the key exists. */
  | { readonly cmd: 'set'; readonly key: string; readonly value: string; readonly nx?: boolean; readonly pxMs?: number }
  | { readonly cmd: 'get'; readonly key: string }
  /** Deletes the key only if it holds `value` (the lock release script): 1 or 0. */
  | { readonly cmd: 'delIfEq'; readonly key: string; readonly value: string }
  /** Sets the key's time to live only if it holds `value` (the lock extend script): 1 or 0. */
  | { readonly cmd: 'pexpireIfEq'; readonly key: string; readonly value: string; readonly pxMs: number }
  /**
   * SET key value NX PX ttlMs and, only if it set, INCR fenceKey, in one step (what the real Redis
   * backend's acquire script does): the new counter value, or null when the key exists.
   */
  | { readonly cmd: 'setNxFenced'; readonly key: string; readonly value: string; readonly pxMs: number; readonly fenceKey: string }
  /** Adds 1 to the integer at key (absent: 0) and answers the new value. */
  | { readonly cmd: 'incr'; readonly key: string }
  /** Milliseconds left by this node's clock: -2 absent, -1 no expiry. */
  | { readonly cmd: 'pttl'; readonly key: string };

export type RedisCommandName = RedisCommand['cmd'];

/** 'OK', a string, an integer, or null (nil); or an error such as Redis's WRONGTYPE or OOM. */
export type RedisReply = { readonly ok: true; readonly value: string | number | null } | { readonly ok: false; readonly error: RedisErrorCode; readonly message: string };

export type RedisErrorCode = 'ERR' | 'WRONGTYPE' | 'OOM';

/** Keys and values are bounded, as the store's memory is. */
export const MAX_KEY_CHARS = 512;
export const MAX_VALUE_CHARS = 4096;
/** The longest time to live a command may set (one day). */
export const MAX_TTL_MS = 86_400_000;

const WRITE_COMMANDS: ReadonlySet<RedisCommandName> = new Set(['set', 'setNxFenced', 'delIfEq', 'pexpireIfEq', 'incr']);

export function isWriteCommand(command: RedisCommand): boolean {
  return WRITE_COMMANDS.has(command.cmd);
}

function isRecord(value: unknown): value is { readonly [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringProblem(value: unknown, what: string, max: number): string | null {
  if (typeof value !== 'string') return `${what} must be a string`;
  return value.length > max ? `${what} is longer than ${max} characters` : null;
}

function ttlProblem(value: unknown): string | null {
  return Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= MAX_TTL_MS ? null : `pxMs must be a whole number of ms from 1 to ${MAX_TTL_MS}`;
}

/** Why `raw` is not a well-formed command, or null when it is. */
export function redisCommandProblem(raw: unknown): string | null {
  if (!isRecord(raw)) return 'a command must be an object with a "cmd"';
  const key = stringProblem(raw['key'], 'key', MAX_KEY_CHARS);
  switch (raw['cmd']) {
    case 'get':
    case 'incr':
    case 'pttl':
      return key;
    case 'set': {
      const problem = key ?? stringProblem(raw['value'], 'value', MAX_VALUE_CHARS);
      if (problem !== null) return problem;
      if (raw['nx'] !== undefined && typeof raw['nx'] !== 'boolean') return 'nx must be a boolean';
      return raw['pxMs'] === undefined ? null : ttlProblem(raw['pxMs']);
    }
    case 'setNxFenced':
      return key ?? stringProblem(raw['value'], 'value', MAX_VALUE_CHARS) ?? ttlProblem(raw['pxMs']) ?? stringProblem(raw['fenceKey'], 'fenceKey', MAX_KEY_CHARS);
    case 'delIfEq':
      return key ?? stringProblem(raw['value'], 'value', MAX_VALUE_CHARS);
    case 'pexpireIfEq':
      return key ?? stringProblem(raw['value'], 'value', MAX_VALUE_CHARS) ?? ttlProblem(raw['pxMs']);
    default:
      return `unknown command ${JSON.stringify(raw['cmd'] ?? null)} (known: set, setNxFenced, get, delIfEq, pexpireIfEq, incr, pttl)`;
  }
}

/** How a command reads in a trace or a log line, as redis-cli would show it. */
export function describeRedisCommand(c: RedisCommand): string {
  switch (c.cmd) {
    case 'set':
      return `SET ${c.key} ${c.value}${c.nx === true ? ' NX' : ''}${c.pxMs === undefined ? '' : ` PX ${c.pxMs}`}`;
    case 'setNxFenced':
      return `SET ${c.key} ${c.value} NX PX ${c.pxMs} + INCR ${c.fenceKey}`;
    case 'get':
      return `GET ${c.key}`;
    case 'delIfEq':
      return `DEL ${c.key} IF = ${c.value}`;
    case 'pexpireIfEq':
      return `PEXPIRE ${c.key} ${c.pxMs} IF = ${c.value}`;
    case 'incr':
      return `INCR ${c.key}`;
    case 'pttl':
      return `PTTL ${c.key}`;
  }
}
