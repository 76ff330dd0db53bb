// A last-writer-wins register: each assignment carries the writer's HLC timestamp and replica id,
// and a join keeps the greater (timestamp, replica) pair, so every replica ends on the same value.
// The stamp helpers here also serve the LWW-Element-Set in sets.ts.
import { HLC_MAX_LOGICAL, HLC_MAX_PHYSICAL_MS, compareHlcTimestamps, type HlcTimestamp } from '../clock/hlc.js';
import { failCrdt, type CrdtErrorCode } from './errors.js';
import { MAX_TEXT_LENGTH, type CrdtType, type ReplicaId } from './types.js';

/**
 * When and where a write happened. Ordered by timestamp, then by replica id (code-unit order):
 * two replicas can read the same HLC instant, and the tie must fall the same way everywhere.
 */
export interface LwwStamp {
  readonly stamp: HlcTimestamp;
  readonly replica: ReplicaId;
}

export interface LwwRegisterEntry extends LwwStamp {
  readonly value: string;
}

/** null: never assigned. */
export type LwwRegisterState = LwwRegisterEntry | null;

export function compareLwwStamps(a: LwwStamp, b: LwwStamp): number {
  return compareHlcTimestamps(a.stamp, b.stamp) || compareText(a.replica, b.replica);
}

/**
 * Assigns `value` at `stamp`, read by the caller from its HybridLogicalClock (a core never reads a
 * clock). The delta is the new entry; it wins the join only if (stamp, replica) is greater than
 * the state's, so an assignment with an older stamp is lost, as last-writer-wins means.
 */
export function lwwAssign(_state: LwwRegisterState, replica: ReplicaId, stamp: HlcTimestamp, value: string): LwwRegisterEntry {
  requireTextArgument(value, 'a register value');
  return { ...requireLwwStampArgument(replica, stamp), value };
}

/**
 * The greater entry. Equal (stamp, replica) with different values means one replica issued two
 * assignments with one stamp, which an HLC never does; the greater value wins so replicas converge even then.
 */
function joinRegisters(a: LwwRegisterState, b: LwwRegisterState): LwwRegisterState {
  if (a === null) return b;
  if (b === null) return a;
  return (compareLwwStamps(a, b) || compareText(a.value, b.value)) >= 0 ? a : b;
}

function decodeRegister(value: unknown): LwwRegisterState {
  if (value === null) return null;
  const stamp = decodeLwwStamp(value, 'an lww-register');
  const text = (value as Record<string, unknown>).value;
  if (typeof text !== 'string' || text.length > MAX_TEXT_LENGTH) failCrdt('CRDT_BAD_STATE', `an lww-register's value is a string of at most ${MAX_TEXT_LENGTH} characters`);
  return { ...stamp, value: text };
}

export const LWW_REGISTER: CrdtType<LwwRegisterState, string | undefined> = {
  name: 'lww-register',
  empty: () => null,
  join: joinRegisters,
  value: (state) => state?.value,
  decode: decodeRegister,
  canonical: (state) => (state === null ? 'null' : JSON.stringify([...lwwStampFields(state), state.value])),
};

// --- stamps, shared with the LWW-Element-Set ------------------------------------------------

/** A mutator's (replica, stamp) arguments checked and copied (extra fields of the caller's object dropped). */
export function requireLwwStampArgument(replica: ReplicaId, stamp: HlcTimestamp): LwwStamp {
  return checkedStamp(replica, stamp, 'CRDT_INVALID_ARGUMENT', 'an argument');
}

/** `{stamp: {physicalMs, logical}, replica}` from outside, checked field by field. */
export function decodeLwwStamp(value: unknown, what: string): LwwStamp {
  if (!isRecord(value)) failCrdt('CRDT_BAD_STATE', `${what} is an object {stamp, replica, ...}`);
  if (!isRecord(value.stamp)) failCrdt('CRDT_BAD_STATE', `the stamp of ${what} is an object {physicalMs, logical}`);
  return checkedStamp(value.replica, value.stamp, 'CRDT_BAD_STATE', what);
}

/** The stamp as [physicalMs, logical, replica], for canonical texts. */
export function lwwStampFields(s: LwwStamp): [number, number, string] {
  return [s.stamp.physicalMs, s.stamp.logical, s.replica];
}

function checkedStamp(replica: unknown, stamp: unknown, code: CrdtErrorCode, what: string): LwwStamp {
  if (typeof replica !== 'string' || replica.length === 0 || replica.length > MAX_TEXT_LENGTH) {
    failCrdt(code, `the replica id of ${what} is a string of 1 to ${MAX_TEXT_LENGTH} characters`);
  }
  const { physicalMs, logical } = (isRecord(stamp) ? stamp : {}) as Record<string, unknown>;
  if (!isIntegerIn(physicalMs, HLC_MAX_PHYSICAL_MS) || !isIntegerIn(logical, HLC_MAX_LOGICAL)) {
    failCrdt(code, `the HLC stamp of ${what} is {physicalMs: 0..2^48-1, logical: 0..${HLC_MAX_LOGICAL}}, integers`);
  }
  // -0 passes the range check; + 0 turns it into 0 so the state prints as it compares
  return { stamp: { physicalMs: physicalMs + 0, logical: logical + 0 }, replica };
}

function requireTextArgument(text: unknown, what: string): void {
  if (typeof text !== 'string' || text.length > MAX_TEXT_LENGTH) failCrdt('CRDT_INVALID_ARGUMENT', `${what} is a string of at most ${MAX_TEXT_LENGTH} characters`);
}

function isIntegerIn(n: unknown, max: number): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= max;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
