// Frame payloads: a kind byte, then (for most kinds) a MessagePack body encoded with msgpackr.
// Decoding accepts only the exact shapes below and turns every failure of the untrusted bytes,
// including msgpackr's own errors and stack overflows, into NET_FRAME_MALFORMED.
import { Packr, Unpackr } from 'msgpackr';
import type { Message, NodeId } from '../core/index.js';
import { NetError, describeCause } from './errors.js';
import { FRAME_HEADER_BYTES } from './frame.js';

/** Wire protocol version, sent in the hello; a peer with another version is refused. */
export const PROTOCOL_VERSION = 2;
export const NONCE_BYTES = 32;
export const PROOF_BYTES = 32;
/** Node ids are short names; bounding them bounds handshake frames and log lines. */
export const MAX_NODE_ID_BYTES = 255;
/** Cluster ids and incarnations are short random or chosen names; bounded like node ids. */
export const MAX_CLUSTER_ID_BYTES = 128;
export const MAX_INCARNATION_BYTES = 128;
/** Frames before authentication are tiny; an unauthenticated socket may not make us buffer more. */
export const HANDSHAKE_MAX_FRAME_BYTES = 1024;

export const FRAME_KIND = {
  hello: 1,
  challenge: 2,
  proof: 3,
  welcome: 4,
  refuse: 5,
  message: 16,
  ping: 17,
  pong: 18,
} as const;

/**
 * Why one end turned the other away; sent before closing. Only the reasons of
 * AuthenticatedRefuseReason can carry a MAC (they are decided after the other end proved the
 * secret); the others come from an end that has proved nothing and are only logged.
 */
export type RefuseReason =
  | 'unknown_peer'
  | 'wrong_target'
  | 'wrong_cluster'
  | 'bad_proof'
  | 'version'
  | 'malformed'
  | 'certificate'
  | 'identity_changed';
const REFUSE_REASONS: ReadonlySet<string> = new Set<RefuseReason>(['unknown_peer', 'wrong_target', 'wrong_cluster', 'bad_proof', 'version', 'malformed', 'certificate', 'identity_changed']);
/** Refusals made after the secret was proved, which the refusing end authenticates with a MAC. */
export type AuthenticatedRefuseReason = Extract<RefuseReason, 'identity_changed' | 'unknown_peer'>;

export type WireFrame =
  | {
      readonly kind: 'hello';
      readonly version: number;
      readonly from: NodeId;
      readonly to: NodeId;
      readonly nonce: Uint8Array;
      readonly clusterId: string;
      readonly incarnation: string;
      readonly ticket: Uint8Array;
    }
  /** A hello of another protocol version: only its version is decoded, so it can be refused as such. */
  | { readonly kind: 'foreign_hello'; readonly version: number }
  | { readonly kind: 'challenge'; readonly nonce: Uint8Array }
  | { readonly kind: 'proof'; readonly proof: Uint8Array }
  | { readonly kind: 'welcome'; readonly proof: Uint8Array; readonly incarnation: string }
  /** `mac` is null for an unauthenticated refusal. */
  | { readonly kind: 'refuse'; readonly reason: RefuseReason; readonly mac: Uint8Array | null }
  | { readonly kind: 'message'; readonly message: Message }
  | { readonly kind: 'ping' }
  | { readonly kind: 'pong' };

export type WireFrameKind = WireFrame['kind'];

// Plain MessagePack maps (no msgpackr records): peers stay decodable by any MessagePack reader and
// no per-connection structure state exists to get out of sync. Binary values arrive as copies so
// a delivered message never pins a large socket buffer.
const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, moreTypes: false, copyBuffers: true, int64AsType: 'number' });

// ---------------------------------------------------------------- encoding

/** Encodes a frame (header included) ready to write. Throws whatever msgpackr throws for unencodable values. */
export function encodeWireFrame(frame: WireFrame): Buffer {
  switch (frame.kind) {
    case 'hello':
      return withHeader(FRAME_KIND.hello, packr.pack([frame.version, frame.from, frame.to, frame.nonce, frame.clusterId, frame.incarnation, frame.ticket]));
    case 'foreign_hello':
      return withHeader(FRAME_KIND.hello, packr.pack([frame.version]));
    case 'challenge':
      return withHeader(FRAME_KIND.challenge, packr.pack([frame.nonce]));
    case 'proof':
      return withHeader(FRAME_KIND.proof, packr.pack([frame.proof]));
    case 'welcome':
      return withHeader(FRAME_KIND.welcome, packr.pack([frame.proof, frame.incarnation]));
    case 'refuse':
      return withHeader(FRAME_KIND.refuse, packr.pack([frame.reason, frame.mac]));
    case 'message':
      return withHeader(FRAME_KIND.message, packr.pack(frame.message));
    case 'ping':
      return withHeader(FRAME_KIND.ping, null);
    case 'pong':
      return withHeader(FRAME_KIND.pong, null);
  }
}

/** The common case, kept separate so the send path does not build a WireFrame wrapper. */
export function encodeMessageFrame(message: Message): Buffer {
  return withHeader(FRAME_KIND.message, packr.pack(message));
}

function withHeader(kind: number, body: Uint8Array | null): Buffer {
  const bodyBytes = body === null ? 0 : body.length;
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 1 + bodyBytes);
  frame.writeUInt32BE(1 + bodyBytes, 0);
  frame[FRAME_HEADER_BYTES] = kind;
  if (body !== null) frame.set(body, FRAME_HEADER_BYTES + 1);
  return frame;
}

// ---------------------------------------------------------------- decoding

/** Decodes one frame payload (without its length header). Throws only NET_FRAME_MALFORMED. */
export function decodeWireFrame(payload: Uint8Array): WireFrame {
  if (payload.length === 0) malformed('empty frame');
  const kind = payload[0];
  const body = payload.subarray(1);
  switch (kind) {
    case FRAME_KIND.hello:
      return decodeHello(unpackBody(body));
    case FRAME_KIND.challenge:
      return { kind: 'challenge', nonce: bytesField(tuple(unpackBody(body), 1)[0], NONCE_BYTES, 'nonce') };
    case FRAME_KIND.proof:
      return { kind: 'proof', proof: bytesField(tuple(unpackBody(body), 1)[0], PROOF_BYTES, 'proof') };
    case FRAME_KIND.welcome: {
      const [proof, incarnation] = tuple(unpackBody(body), 2);
      return { kind: 'welcome', proof: bytesField(proof, PROOF_BYTES, 'proof'), incarnation: boundedString(incarnation, MAX_INCARNATION_BYTES, 'incarnation') };
    }
    case FRAME_KIND.refuse: {
      const [reason, mac] = tuple(unpackBody(body), 2);
      return { kind: 'refuse', reason: refuseReason(reason), mac: mac === null ? null : bytesField(mac, PROOF_BYTES, 'refusal mac') };
    }
    case FRAME_KIND.message:
      return { kind: 'message', message: messageField(unpackBody(body)) };
    case FRAME_KIND.ping:
    case FRAME_KIND.pong:
      if (body.length !== 0) malformed('ping/pong frames carry no body');
      return { kind: kind === FRAME_KIND.ping ? 'ping' : 'pong' };
    default:
      return malformed(`unknown frame kind ${String(kind)}`);
  }
}

function unpackBody(body: Uint8Array): unknown {
  if (body.length === 0) malformed('missing frame body');
  try {
    return unpackr.unpack(body) as unknown;
  } catch (cause) {
    // Deeply nested input overflows the stack inside msgpackr: a RangeError, caught here like any other.
    return malformed(`undecodable body: ${describeCause(cause)}`, cause);
  }
}

function decodeHello(value: unknown): WireFrame {
  // The version comes first in every protocol version, so a peer of another version is told so
  // (refuse 'version') rather than that its hello is malformed.
  if (Array.isArray(value) && typeof value[0] === 'number' && Number.isInteger(value[0]) && value[0] !== PROTOCOL_VERSION) {
    return { kind: 'foreign_hello', version: value[0] };
  }
  const [version, from, to, nonce, clusterId, incarnation, ticket] = tuple(value, 7);
  if (typeof version !== 'number' || !Number.isInteger(version)) malformed('hello version is not an integer');
  return {
    kind: 'hello',
    version,
    from: nodeIdField(from, 'from'),
    to: nodeIdField(to, 'to'),
    nonce: bytesField(nonce, NONCE_BYTES, 'nonce'),
    clusterId: boundedString(clusterId, MAX_CLUSTER_ID_BYTES, 'cluster id'),
    incarnation: boundedString(incarnation, MAX_INCARNATION_BYTES, 'incarnation'),
    ticket: bytesField(ticket, PROOF_BYTES, 'ticket'),
  };
}

function tuple(value: unknown, length: number): readonly unknown[] {
  if (!Array.isArray(value) || value.length !== length) malformed(`expected an array of ${length}`);
  return value as readonly unknown[];
}

function bytesField(value: unknown, length: number, name: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== length) malformed(`${name} must be ${length} bytes`);
  return value;
}

function nodeIdField(value: unknown, name: string): NodeId {
  if (typeof value !== 'string' || !isValidNodeId(value)) malformed(`${name} is not a valid node id`);
  return value;
}

/** A string of at most `maxBytes` UTF-8 bytes (possibly empty: "not configured"). */
function boundedString(value: unknown, maxBytes: number, name: string): string {
  if (typeof value !== 'string' || Buffer.byteLength(value, 'utf8') > maxBytes) malformed(`${name} is not a string of at most ${maxBytes} bytes`);
  return value;
}

function refuseReason(value: unknown): RefuseReason {
  return typeof value === 'string' && REFUSE_REASONS.has(value) ? (value as RefuseReason) : 'malformed';
}

/** The transport checks the envelope only (a plain object with a string `type`); cores check fields. */
function messageField(value: unknown): Message {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) {
    malformed('message is not a plain object');
  }
  if (typeof (value as { type?: unknown }).type !== 'string') malformed('message has no string type');
  return value as Message;
}

export function isValidNodeId(id: string): boolean {
  return id.length > 0 && Buffer.byteLength(id, 'utf8') <= MAX_NODE_ID_BYTES;
}

function malformed(message: string, cause?: unknown): never {
  throw new NetError('NET_FRAME_MALFORMED', message, cause === undefined ? undefined : { cause });
}
