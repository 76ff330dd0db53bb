// The binary encoding of CRDT states and deltas: MessagePack (the msgpackr library the transport
// already uses: compact, fast, maintained, and it runs in the browser too) around the plain state,
// decoded back through the type's own checks. Untrusted bytes give CrdtError('CRDT_BAD_STATE').
import { Packr, Unpackr } from 'msgpackr';
import { failCrdt } from './errors.js';
import type { CrdtType } from './types.js';

/** Encodings longer than this are refused before they are parsed. */
export const MAX_ENCODED_BYTES = 64 * 1024 * 1024;

// plain maps and arrays only: no record extension, no custom types, integers as numbers
const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: 'number' });

export function encodeState<S>(_type: CrdtType<S, unknown>, state: S): Uint8Array {
  return packr.pack(state);
}

export function decodeState<S>(type: CrdtType<S, unknown>, bytes: Uint8Array): S {
  if (bytes.length > MAX_ENCODED_BYTES) failCrdt('CRDT_BAD_STATE', `an encoded ${type.name} state is at most ${MAX_ENCODED_BYTES} bytes, got ${bytes.length}`);
  let value: unknown;
  try {
    value = unpackr.unpack(bytes);
  } catch (err) {
    failCrdt('CRDT_BAD_STATE', `not a MessagePack encoding of a ${type.name} state: ${err instanceof Error ? err.message : String(err)}`);
  }
  return type.decode(value);
}
