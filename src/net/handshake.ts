// The mutual HMAC challenge–response that authenticates both ends of a new connection with the
// shared cluster secret, plus the hello's ticket that lets an acceptor tell a secret holder from a
// stranger before the round trip. Pure functions: the connection code (outbound.ts, inbound.ts)
// moves the frames; this file decides what is proved and checks it in constant time.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NodeId } from '../core/index.js';
import { NONCE_BYTES, PROOF_BYTES } from './codec.js';

/**
 * What a MAC proves, part of its input so no MAC is ever valid in another place: the hello's
 * ticket, the dialer's proof, the acceptor's proof (in the welcome), and a refusal by the
 * acceptor (after the dialer's proof) or by the dialer (after the welcome).
 */
export type HandshakeRole = 'ticket' | 'dialer' | 'acceptor' | 'acceptor-refusal' | 'dialer-refusal';

export interface HandshakeTranscript {
  /** Both ends' cluster id (the acceptor refuses a hello with another). */
  readonly clusterId: string;
  readonly dialer: NodeId;
  readonly acceptor: NodeId;
  readonly dialerIncarnation: string;
  readonly dialerNonce: Uint8Array;
  /** Not yet drawn when the ticket is made. */
  readonly acceptorNonce: Uint8Array;
  /** Sent in the welcome, so unknown to the ticket, the dialer's proof and the acceptor's refusal. */
  readonly acceptorIncarnation: string;
}

const DOMAIN = 'synod-net/2 handshake';
const NOTHING = new Uint8Array(0);

/** Which transcript fields a role's MAC covers: what both ends know at that point. */
const KNOWS_ACCEPTOR_NONCE: Readonly<Record<HandshakeRole, boolean>> = { ticket: false, dialer: true, acceptor: true, 'acceptor-refusal': true, 'dialer-refusal': true };
const KNOWS_ACCEPTOR_INCARNATION: Readonly<Record<HandshakeRole, boolean>> = { ticket: false, dialer: false, acceptor: true, 'acceptor-refusal': false, 'dialer-refusal': true };

export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

/**
 * HMAC-SHA256 over the role, the cluster id, both ids, the incarnations and nonces known at that
 * point (the others count as empty), and for refusals the reason. Each field is length-prefixed
 * so no two different transcripts serialize to the same bytes (ids may contain any character).
 */
export function computeProof(secret: Uint8Array, role: HandshakeRole, t: HandshakeTranscript, reason = ''): Buffer {
  const mac = createHmac('sha256', secret);
  const acceptorIncarnation = KNOWS_ACCEPTOR_INCARNATION[role] ? t.acceptorIncarnation : '';
  const refusal = role === 'acceptor-refusal' || role === 'dialer-refusal' ? reason : '';
  for (const field of [DOMAIN, role, t.clusterId, t.dialer, t.acceptor, t.dialerIncarnation, acceptorIncarnation, refusal]) addField(mac, Buffer.from(field, 'utf8'));
  addField(mac, t.dialerNonce);
  addField(mac, KNOWS_ACCEPTOR_NONCE[role] ? t.acceptorNonce : NOTHING);
  return mac.digest();
}

function addField(mac: ReturnType<typeof createHmac>, bytes: Uint8Array): void {
  const length = Buffer.allocUnsafe(4);
  length.writeUInt32BE(bytes.length, 0);
  mac.update(length);
  mac.update(bytes);
}

/** Constant-time check of a received proof against the one we compute. */
export function verifyProof(secret: Uint8Array, role: HandshakeRole, t: HandshakeTranscript, received: Uint8Array, reason = ''): boolean {
  const expected = computeProof(secret, role, t, reason);
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
