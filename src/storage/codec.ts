// Payload codecs: how Raft ops become record bytes. JSON for now, behind this interface so a
// faster binary codec (e.g. msgpackr) can be swapped in. Each codec has a small id stored with
// every record and snapshot, so logs written with one codec stay readable after a switch.
import { failStorage } from './errors.js';

export interface PayloadCodec {
  /** 1..15; stored in the high nibble of each record's type byte and in each snapshot's first byte. */
  readonly id: number;
  readonly name: string;
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

export const jsonCodec: PayloadCodec = {
  id: 1,
  name: 'json',
  encode: (value) => Buffer.from(JSON.stringify(value), 'utf8'),
  decode: (bytes) => JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8')) as unknown,
};

export const MAX_CODEC_ID = 15;

/** Codecs by id; the writing codec plus any others needed to read older data. */
export function codecRegistry(codecs: readonly PayloadCodec[]): ReadonlyMap<number, PayloadCodec> {
  const byId = new Map<number, PayloadCodec>();
  for (const codec of codecs) {
    if (!Number.isInteger(codec.id) || codec.id < 1 || codec.id > MAX_CODEC_ID) {
      failStorage('STORAGE_INVALID_OPTION', `codec ${codec.name} has id ${codec.id}; ids are 1..${MAX_CODEC_ID}`);
    }
    const seen = byId.get(codec.id);
    if (seen !== undefined && seen !== codec) failStorage('STORAGE_INVALID_OPTION', `codecs ${seen.name} and ${codec.name} share id ${codec.id}`);
    byId.set(codec.id, codec);
  }
  return byId;
}
