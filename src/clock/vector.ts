// Vector clocks: one counter per node, which captures causality exactly (a before b iff
// vc(a) < vc(b)), at the price of size growing with the number of nodes that ever wrote.
// Values are immutable maps; zero counters are never stored, so equal clocks are equal maps.

import type { NodeId } from '../core/index.js';
import { failClock } from './errors.js';

export type VectorClock = ReadonlyMap<NodeId, number>;

export type CausalOrder = 'before' | 'after' | 'equal' | 'concurrent';

export const EMPTY_VECTOR_CLOCK: VectorClock = new Map();

/** Builds a clock from entries or a record; zero counters are dropped. */
export function createVectorClock(entries: Iterable<readonly [NodeId, number]> | Readonly<Record<NodeId, number>> = []): VectorClock {
  const pairs = Symbol.iterator in entries ? entries : Object.entries(entries);
  const clock = new Map<NodeId, number>();
  for (const [id, counter] of pairs) {
    requireCounter(counter);
    if (clock.has(id)) failClock('VC_INVALID_COUNTER', `duplicate node id ${JSON.stringify(id)}`);
    if (counter > 0) clock.set(id, counter);
  }
  return clock;
}

export function counterOf(clock: VectorClock, id: NodeId): number {
  return clock.get(id) ?? 0;
}

/** A local event (or send) at node `id`. */
export function incrementVectorClock(clock: VectorClock, id: NodeId): VectorClock {
  const next = new Map(clock);
  next.set(id, requireCounter(counterOf(clock, id) + 1));
  return next;
}

/** The least upper bound: what a node knows after seeing both histories. */
export function mergeVectorClocks(a: VectorClock, b: VectorClock): VectorClock {
  const merged = new Map(a);
  for (const [id, counter] of b) merged.set(id, Math.max(counter, counterOf(a, id)));
  return merged;
}

/** A receive at node `id`: merge the sender's knowledge, then count the receive event. */
export function receiveVectorClock(local: VectorClock, remote: VectorClock, id: NodeId): VectorClock {
  return incrementVectorClock(mergeVectorClocks(local, remote), id);
}

/** How event `a` relates to event `b` in happened-before. */
export function compareVectorClocks(a: VectorClock, b: VectorClock): CausalOrder {
  let aHasMore = false;
  let bHasMore = false;
  for (const id of new Set([...a.keys(), ...b.keys()])) {
    const difference = counterOf(a, id) - counterOf(b, id);
    if (difference > 0) aHasMore = true;
    if (difference < 0) bHasMore = true;
  }
  if (aHasMore && bHasMore) return 'concurrent';
  if (aHasMore) return 'after';
  return bHasMore ? 'before' : 'equal';
}

/** Readable and stable form for logs and traces, e.g. `{a:2,b:1}`; ids are JSON-quoted when unusual. */
export function formatVectorClock(clock: VectorClock): string {
  const parts = sortedEntries(clock).map(([id, counter]) => `${/^[\w.-]+$/.test(id) ? id : JSON.stringify(id)}:${counter}`);
  return `{${parts.join(',')}}`;
}

/**
 * Compact binary form: varint(entry count), then per entry in id order varint(id length in
 * UTF-16 units), one varint per unit, varint(counter). Code units rather than UTF-8 keep any
 * JS string (even a lone surrogate) exact; ASCII ids cost one byte per character.
 */
export function encodeVectorClock(clock: VectorClock): Uint8Array {
  const bytes: number[] = [];
  writeVarint(bytes, clock.size);
  for (const [id, counter] of sortedEntries(clock)) {
    writeVarint(bytes, id.length);
    for (let i = 0; i < id.length; i++) writeVarint(bytes, id.charCodeAt(i));
    writeVarint(bytes, counter);
  }
  return Uint8Array.from(bytes);
}

/** Accepts only what `encodeVectorClock` produces, so one clock has exactly one encoding. */
export function decodeVectorClock(bytes: Uint8Array): VectorClock {
  const reader = { bytes, offset: 0 };
  const count = readVarint(reader);
  if (count > bytes.length) failDecode('entry count exceeds input length');
  const clock = new Map<NodeId, number>();
  let previousId: NodeId | undefined;
  for (let entry = 0; entry < count; entry++) {
    const id = readId(reader);
    if (previousId !== undefined && id <= previousId) failDecode('ids are not strictly increasing');
    const counter = readVarint(reader);
    if (counter === 0) failDecode('zero counters are not encoded');
    clock.set(id, counter);
    previousId = id;
  }
  if (reader.offset !== bytes.length) failDecode(`${bytes.length - reader.offset} trailing bytes`);
  return clock;
}

function sortedEntries(clock: VectorClock): [NodeId, number][] {
  return [...clock].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
}

function requireCounter(counter: number): number {
  if (!Number.isSafeInteger(counter) || counter < 0) failClock('VC_INVALID_COUNTER', `counter must be a non-negative safe integer, got ${counter}`);
  return counter;
}

interface Reader {
  readonly bytes: Uint8Array;
  offset: number;
}

/** Little-endian base-128; arithmetic instead of bit operators because counters exceed 32 bits. */
function writeVarint(out: number[], value: number): void {
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 0x80) + 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
}

const MAX_VARINT_BYTES = 8; // 56 bits covers every safe integer

function readVarint(reader: Reader): number {
  let value = 0;
  for (let index = 0; index < MAX_VARINT_BYTES; index++) {
    const byte = reader.bytes[reader.offset++];
    if (byte === undefined) failDecode('truncated varint');
    value += (byte & 0x7f) * 0x80 ** index;
    if (byte < 0x80) {
      if (byte === 0 && index > 0) failDecode('overlong varint');
      if (!Number.isSafeInteger(value)) failDecode('varint exceeds the safe integer range');
      return value;
    }
  }
  return failDecode('varint longer than 8 bytes');
}

function readId(reader: Reader): NodeId {
  const length = readVarint(reader);
  if (length > reader.bytes.length - reader.offset) failDecode('id length exceeds input length');
  let id = '';
  for (let i = 0; i < length; i++) {
    const unit = readVarint(reader);
    if (unit > 0xffff) failDecode('id code unit beyond 16 bits');
    id += String.fromCharCode(unit);
  }
  return id;
}

function failDecode(reason: string): never {
  return failClock('VC_DECODE_FAILED', `invalid vector clock encoding: ${reason}`);
}
