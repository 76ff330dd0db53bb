// The mutual HMAC challenge–response that authenticates both ends of a new connection with the
// shared cluster secret, plus the hello's ticket that lets an acceptor tell a secret holder from a
// stranger before the round trip. Pure functions: the connection code (outbound.ts, inbound.ts)
// moves the frames; this file decides what is proved and checks it in constant time.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NodeId } from '../sim/core.js';
import { NONCE_BYTES, PROOF_BYTES } from './codec.js';

/**
 * What a MAC proves, part of its input so no MAC is ever valid in another place: the hello's
 * ticket, the dialer's proof, the acceptor's proof (in the welcome).
 */
export type HandshakeRole = 'ticket' | 'dialer' | 'acceptor';

export interface HandshakeTranscript {
  readonly dialer: NodeId;
  readonly acceptor: NodeId;
  readonly dialerNonce: Uint8Array;
  /** Empty for the ticket, which is computed before the acceptor draws its nonce. */
  readonly acceptorNonce: Uint8Array;
}

const DOMAIN = 'synod-net/2 handshake';

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
  addField(mac, role === 'ticket' ? new Uint8Array(0) : t.acceptorNonce);
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

/**
 * Dialer nonces of recent valid hellos, so a recorded hello (whose ticket is valid) cannot be
 * replayed to hold a pending slot in the class strangers cannot reach. Only hellos with a valid
 * ticket are remembered, so only secret holders can push entries out. Bounded, oldest forgotten.
 */
export class RecentNonces {
  private readonly seen = new Set<string>();

  constructor(private readonly capacity: number) {}

  /** Records `nonce`; false if it was already there. */
  remember(nonce: Uint8Array): boolean {
    const key = Buffer.from(nonce.buffer, nonce.byteOffset, nonce.length).toString('base64');
    if (this.seen.has(key)) return false;
    if (this.seen.size >= this.capacity) this.seen.delete(this.seen.values().next().value as string);
    this.seen.add(key);
    return true;
  }
}
