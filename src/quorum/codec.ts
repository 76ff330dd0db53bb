// Checks what arrives from outside a node — a client's causal context, a peer's key state — and
// encodes contexts for clients. A context is opaque to clients ("c1." + base64url of the version
// vector) so that they pass it back unchanged; anything malformed or oversized is refused with a
// typed error, never merged.
import { failQuorum } from './errors.js';
import { covers, compareDots, compareText, type Dot, type KeyState, type Sibling, type VersionVector, type VvEntry } from './versions.js';

/** Actors in one version vector: one per node that ever coordinated a write of the key. */
export const MAX_VV_ENTRIES = 1_000;
export const MAX_ACTOR_LENGTH = 200;
/** Siblings, set elements or dots one peer state may carry, whatever the bucket's own limit. */
export const MAX_STATE_ITEMS = 100_000;
export const MAX_CONTEXT_LENGTH = 64 * 1024;
const CONTEXT_PREFIX = 'c1.';
const utf8Encoder = new TextEncoder();
const strictUtf8Decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeContext(vv: VersionVector): string {
  const bytes = utf8Encoder.encode(JSON.stringify(vv));
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return CONTEXT_PREFIX + btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/** The version vector in a client's context; '' or undefined is the empty context (a blind write). */
export function decodeContext(text: unknown): VersionVector {
  if (text === undefined || text === '') return [];
  if (typeof text !== 'string' || text.length > MAX_CONTEXT_LENGTH || !text.startsWith(CONTEXT_PREFIX)) {
    failQuorum('QUORUM_BAD_CONTEXT', 'the context is not one this store issued (pass back the context a read or write returned)');
  }
  let parsed: unknown;
  try {
    const binary = atob(text.slice(CONTEXT_PREFIX.length).replaceAll('-', '+').replaceAll('_', '/'));
    parsed = JSON.parse(strictUtf8Decoder.decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
  } catch {
    return failQuorum('QUORUM_BAD_CONTEXT', 'the context is not valid base64url JSON');
  }
  return decodeVv(parsed, 'QUORUM_BAD_CONTEXT');
}

type DecodeCode = 'QUORUM_BAD_CONTEXT' | 'QUORUM_BAD_MESSAGE';

function decodeVv(value: unknown, code: DecodeCode): VersionVector {
  if (!Array.isArray(value) || value.length > MAX_VV_ENTRIES) failQuorum(code, `a version vector is a list of at most ${MAX_VV_ENTRIES} [actor, counter] pairs`);
  const out: VvEntry[] = [];
  for (const entry of value as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 2) failQuorum(code, 'a version vector entry is an [actor, counter] pair');
    const [actor, counter] = entry as [unknown, unknown];
    checkActor(actor, code);
    checkCounter(counter, code);
    if (out.length > 0 && compareText((out[out.length - 1] as VvEntry)[0], actor) >= 0) failQuorum(code, 'version vector actors must be sorted and distinct');
    out.push([actor, counter]);
  }
  return out;
}

function checkActor(actor: unknown, code: DecodeCode): asserts actor is string {
  if (typeof actor !== 'string' || actor.length === 0 || actor.length > MAX_ACTOR_LENGTH) failQuorum(code, `an actor is a string of 1 to ${MAX_ACTOR_LENGTH} characters`);
}

function checkCounter(counter: unknown, code: DecodeCode): asserts counter is number {
  if (typeof counter !== 'number' || !Number.isSafeInteger(counter) || counter < 1) failQuorum(code, 'a counter is a positive safe integer');
}

function decodeDot(value: unknown): Dot {
  const d = value as Partial<Dot> | null;
  if (typeof d !== 'object' || d === null) failQuorum('QUORUM_BAD_MESSAGE', 'a dot is {actor, counter}');
  checkActor(d.actor, 'QUORUM_BAD_MESSAGE');
  checkCounter(d.counter, 'QUORUM_BAD_MESSAGE');
  return { actor: d.actor, counter: d.counter };
}

function decodeValue(value: unknown, maxValueLength: number): string | null {
  if (value === null) return null;
  if (typeof value !== 'string' || value.length > maxValueLength) failQuorum('QUORUM_BAD_MESSAGE', `a value is null or a string of at most ${maxValueLength} characters`);
  return value;
}

function listOf(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value) || value.length > MAX_STATE_ITEMS) failQuorum('QUORUM_BAD_MESSAGE', `${what} is a list of at most ${MAX_STATE_ITEMS} items`);
  return value as unknown[];
}

/** A key state from a peer, checked field by field and for its invariants (sorted, every dot covered by the vv). */
export function decodeKeyState(value: unknown, maxValueLength: number): KeyState {
  const s = value as Record<string, unknown> | null;
  if (typeof s !== 'object' || s === null) failQuorum('QUORUM_BAD_MESSAGE', 'a key state is an object');
  switch (s['kind']) {
    case 'dvv': {
      const vv = decodeVv(s['vv'], 'QUORUM_BAD_MESSAGE');
      const siblings: Sibling[] = listOf(s['siblings'], 'siblings').map((x) => {
        const sib = x as Record<string, unknown> | null;
        if (typeof sib !== 'object' || sib === null) failQuorum('QUORUM_BAD_MESSAGE', 'a sibling is {dot, value}');
        return { dot: decodeDot(sib['dot']), value: decodeValue(sib['value'], maxValueLength) };
      });
      checkDotsSortedAndCovered(siblings.map((x) => x.dot), vv);
      return { kind: 'dvv', vv, siblings };
    }
    case 'lww': {
      const stamp = s['stamp'];
      if (typeof stamp !== 'string' || !/^(0|[1-9][0-9]{0,19})$/.test(stamp) || BigInt(stamp) >= 1n << 64n) failQuorum('QUORUM_BAD_MESSAGE', 'an LWW stamp is a packed HLC timestamp in decimal');
      return { kind: 'lww', stamp, dot: decodeDot(s['dot']), value: decodeValue(s['value'], maxValueLength) };
    }
    case 'counter':
      return { kind: 'counter', increments: decodeVv(s['increments'], 'QUORUM_BAD_MESSAGE'), decrements: decodeVv(s['decrements'], 'QUORUM_BAD_MESSAGE') };
    case 'orset': {
      const vv = decodeVv(s['vv'], 'QUORUM_BAD_MESSAGE');
      let previous: string | undefined;
      const entries = listOf(s['entries'], 'entries').map((x): [string, Dot[]] => {
        if (!Array.isArray(x) || x.length !== 2) failQuorum('QUORUM_BAD_MESSAGE', 'a set entry is [element, dots]');
        const element = decodeValue(x[0], maxValueLength);
        if (element === null || (previous !== undefined && compareText(previous, element) >= 0)) failQuorum('QUORUM_BAD_MESSAGE', 'set elements are sorted, distinct strings');
        previous = element;
        const dots = listOf(x[1], 'dots').map(decodeDot);
        if (dots.length === 0) failQuorum('QUORUM_BAD_MESSAGE', 'a present element has at least one dot');
        checkDotsSortedAndCovered(dots, vv);
        return [element, dots];
      });
      return { kind: 'orset', vv, entries };
    }
    default:
      return failQuorum('QUORUM_BAD_MESSAGE', 'a key state kind is dvv, lww, counter or orset');
  }
}

function checkDotsSortedAndCovered(dots: readonly Dot[], vv: VersionVector): void {
  for (let i = 0; i < dots.length; i++) {
    const d = dots[i] as Dot;
    if (!covers(vv, d)) failQuorum('QUORUM_BAD_MESSAGE', `dot ${d.actor}:${d.counter} is not covered by the state's version vector`);
    if (i > 0 && compareDots(dots[i - 1] as Dot, d) >= 0) failQuorum('QUORUM_BAD_MESSAGE', 'dots must be sorted and distinct');
  }
}
