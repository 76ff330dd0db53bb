// The mutual HMAC challenge–response that authenticates both ends of a new connection with the
// shared cluster secret. Pure functions: the connection code (outbound.ts, inbound.ts) moves
// the frames; this file decides what is proved and checks it in constant time.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NodeId } from '../sim/core.js';
import { NONCE_BYTES, PROOF_BYTES } from './codec.js';

/** Which end computes a proof; part of the MAC input so one end's proof is never valid for the other. */
export type HandshakeRole = 'dialer' | 'acceptor';

export interface HandshakeTranscript {
  readonly dialer: NodeId;
  readonly acceptor: NodeId;
  readonly dialerNonce: Uint8Array;
  readonly acceptorNonce: Uint8Array;
}

const DOMAIN = 'synod-net/1 handshake';

export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

/**
 * HMAC-SHA256 over the role, both ids and both nonces. Each field is length-prefixed so no two
 * different transcripts serialize to the same bytes (ids may contain any character).
 */
export function computeProof(secret: Uint8Array, role: HandshakeRole, t: HandshakeTranscript): Buffer {
  const mac = createHmac('sha256', secret);
  for (const field of [DOMAIN, role, t.dialer, t.acceptor]) addField(mac, Buffer.from(field, 'utf8'));
  addField(mac, t.dialerNonce);
  addField(mac, t.acceptorNonce);
  return mac.digest();
}

function addField(mac: ReturnType<typeof createHmac>, bytes: Uint8Array): void {
  const length = Buffer.allocUnsafe(4);
  length.writeUInt32BE(bytes.length, 0);
  mac.update(length);
  mac.update(bytes);
}

/** Constant-time check of a received proof against the one we compute. */
export function verifyProof(secret: Uint8Array, role: HandshakeRole, t: HandshakeTranscript, received: Uint8Array): boolean {
  const expected = computeProof(secret, role, t);
  // Lengths are public (always PROOF_BYTES for a well-formed frame); timingSafeEqual needs them equal.
  return received.length === PROOF_BYTES && timingSafeEqual(expected, received);
}
