// The packet: an envelope [from, to, msg] in MessagePack, sealed with the key ring or, without
// one, behind a clear-text label header. Decoding treats every byte as hostile: it reports a
// drop reason instead of throwing, and lets through only plain data of bounded depth.
import { Packr, Unpackr } from 'msgpackr';
import { parseAddress } from './address.js';
import { failGossipNet } from './errors.js';
import { SEAL_VERSION, type KeyRing } from './keyring.js';
import type { InboundDropReason } from './stats.js';

/** First byte of a clear-text packet (a sealed one starts with SEAL_VERSION). */
export const CLEAR_FORMAT = 0;
/** A label is sent in a one-byte-length header in clear mode, so it is at most 255 UTF-8 bytes. */
export const MAX_LABEL_BYTES = 255;
/** Gossip messages nest four deep, CRDT deltas a little more; nothing legitimate comes near this. */
export const DEFAULT_MAX_NESTING_DEPTH = 64;

/** What every packet carries: the sender's advertised address, the destination's, and the message. */
export interface Envelope {
  readonly from: string;
  readonly to: string;
  readonly msg: unknown;
}

export type DecodedPacket =
  | { readonly ok: true; readonly envelope: Envelope }
  | { readonly ok: false; readonly reason: InboundDropReason; readonly problem?: string; readonly from?: string };

// Plain MessagePack (no msgpackr records or structured clones): no structure state carried from one
// packet to the next, and any MessagePack reader can decode a packet. Binary values arrive as
// copies so a delivered message does not pin a socket buffer.
const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true, structuredClone: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, moreTypes: false, structuredClone: false, copyBuffers: true, int64AsType: 'number' });

export interface PacketCodecOptions {
  /** Seal with this ring (and accept only sealed packets); without one, packets travel in clear text. */
  readonly keyRing?: KeyRing | undefined;
  /** The cluster's label, e.g. its name: associated data when sealed, a header in clear text. */
  readonly label?: string | undefined;
  readonly maxNestingDepth?: number | undefined;
}

/** Encodes and decodes packets for one node; stateless apart from its options (the ring may change under it). */
export class PacketCodec {
  readonly label: string;
  private readonly labelBytes: Buffer;
  private readonly keyRing: KeyRing | undefined;
  private readonly maxNestingDepth: number;

  /** Throws GOSSIP_NET_INVALID_OPTION for a label over MAX_LABEL_BYTES or a bad depth. */
  constructor(options: PacketCodecOptions = {}) {
    this.label = options.label ?? '';
    if (typeof this.label !== 'string') failGossipNet('GOSSIP_NET_INVALID_OPTION', 'label must be a string');
    this.labelBytes = Buffer.from(this.label, 'utf8');
    if (this.labelBytes.length > MAX_LABEL_BYTES) failGossipNet('GOSSIP_NET_INVALID_OPTION', `label must be at most ${MAX_LABEL_BYTES} UTF-8 bytes`);
    this.keyRing = options.keyRing;
    this.maxNestingDepth = options.maxNestingDepth ?? DEFAULT_MAX_NESTING_DEPTH;
    if (!Number.isInteger(this.maxNestingDepth) || this.maxNestingDepth < 1 || this.maxNestingDepth > 1_000) failGossipNet('GOSSIP_NET_INVALID_OPTION', 'maxNestingDepth must be an integer in [1, 1000]');
  }

  get sealed(): boolean {
    return this.keyRing !== undefined;
  }

  /** The packet for `envelope`. Throws whatever msgpackr throws for an unencodable message. */
  encode(envelope: Envelope): Buffer {
    const body = packr.pack([envelope.from, envelope.to, envelope.msg]);
    if (this.keyRing !== undefined) return this.keyRing.seal(body, this.label);
    return Buffer.concat([Buffer.of(CLEAR_FORMAT, this.labelBytes.length), this.labelBytes, body]);
  }

  /** The envelope of a received packet, or why it is dropped. Never throws. */
  decode(packet: Uint8Array): DecodedPacket {
    if (packet.length === 0) return { ok: false, reason: 'bad_format', problem: 'empty packet' };
    let body: Uint8Array;
    if (packet[0] === SEAL_VERSION) {
      if (this.keyRing === undefined) return { ok: false, reason: 'encrypted' };
      const opened = this.keyRing.open(packet, this.label);
      if (opened === undefined) return { ok: false, reason: 'unauthenticated' };
      body = opened;
    } else if (packet[0] === CLEAR_FORMAT) {
      if (this.keyRing !== undefined) return { ok: false, reason: 'unencrypted' };
      const labelLength = packet[1];
      if (labelLength === undefined || packet.length < 2 + labelLength) return { ok: false, reason: 'bad_format', problem: 'clear-text header cut short' };
      if (!this.labelBytes.equals(packet.subarray(2, 2 + labelLength))) return { ok: false, reason: 'wrong_label' };
      body = packet.subarray(2 + labelLength);
    } else {
      return { ok: false, reason: 'bad_format', problem: `unknown packet format ${String(packet[0])}` };
    }
    let value: unknown;
    try {
      value = unpackr.unpack(body) as unknown;
    } catch (cause) {
      // includes the RangeError of a stack overflowed by deeply nested input
      return { ok: false, reason: 'undecodable', problem: describe(cause) };
    }
    if (!Array.isArray(value) || value.length !== 3) return { ok: false, reason: 'bad_envelope', problem: 'not [from, to, msg]' };
    const [from, to, msg] = value as [unknown, unknown, unknown];
    if (parseAddress(from) === undefined) return { ok: false, reason: 'bad_envelope', problem: 'from is not host:port' };
    if (parseAddress(to) === undefined) return { ok: false, reason: 'bad_envelope', problem: 'to is not host:port', from: from as string };
    const problem = plainDataProblem(msg, this.maxNestingDepth);
    if (problem !== undefined) return { ok: false, reason: 'not_plain_data', problem, from: from as string };
    return { ok: true, envelope: { from: from as string, to: to as string, msg } };
  }
}

/**
 * What keeps `value` from being plain data: objects with Object.prototype, arrays, strings,
 * numbers, booleans, null, undefined and byte arrays, nested at most `maxDepth` containers deep.
 * msgpackr's extensions can build Dates, RegExps, Sets, Errors, BigInts and typed arrays; none of
 * them belongs in a message, and a handler need not expect them. Iterative: no stack to exhaust.
 */
export function plainDataProblem(value: unknown, maxDepth: number): string | undefined {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || v === undefined) continue;
    const type = typeof v;
    if (type === 'string' || type === 'number' || type === 'boolean') continue;
    if (type !== 'object') return `a ${type} is not plain data`;
    if (v instanceof Uint8Array && (v.constructor === Uint8Array || v.constructor === Buffer)) continue;
    if (depth >= maxDepth) return `nested more than ${maxDepth} deep`;
    if (Array.isArray(v)) {
      for (const item of v as unknown[]) stack.push([item, depth + 1]);
      continue;
    }
    if (Object.getPrototypeOf(v) !== Object.prototype) return 'an object that is not a plain object';
    for (const item of Object.values(v as Record<string, unknown>)) stack.push([item, depth + 1]);
  }
  return undefined;
}

function describe(cause: unknown): string {
  const text = cause instanceof Error ? cause.message : String(cause);
  // msgpackr may quote the decoded value in its message: keep logs short
  return text.length > 160 ? `${text.slice(0, 160)}…` : text;
}
