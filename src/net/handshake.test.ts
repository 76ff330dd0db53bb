// Handshake proof tests: a proof verifies only for the same secret, role, ids and nonces, so it
// cannot be replayed on another connection, reflected to the other end, or reused for another id.
import { describe, expect, it } from 'vitest';
import { computeProof, newNonce, verifyProof, type HandshakeTranscript } from './handshake.js';

const secret = Buffer.from('0123456789abcdef-secret');
const transcript: HandshakeTranscript = { dialer: 'n1', acceptor: 'n2', dialerNonce: newNonce(), acceptorNonce: newNonce() };

describe('handshake proofs', () => {
  it('verifies a proof computed with the same secret and transcript', () => {
    expect(verifyProof(secret, 'dialer', transcript, computeProof(secret, 'dialer', transcript))).toBe(true);
    expect(verifyProof(secret, 'acceptor', transcript, computeProof(secret, 'acceptor', transcript))).toBe(true);
  });

  it('rejects a wrong secret, the other role, other ids, other nonces and bad lengths', () => {
    const proof = computeProof(secret, 'dialer', transcript);
    expect(verifyProof(Buffer.from('another-secret-of-16+'), 'dialer', transcript, proof)).toBe(false);
    expect(verifyProof(secret, 'acceptor', transcript, proof)).toBe(false);
    expect(verifyProof(secret, 'dialer', { ...transcript, dialer: 'n3' }, proof)).toBe(false);
    expect(verifyProof(secret, 'dialer', { ...transcript, dialer: 'n2', acceptor: 'n1' }, proof)).toBe(false);
    expect(verifyProof(secret, 'dialer', { ...transcript, acceptorNonce: newNonce() }, proof)).toBe(false);
    expect(verifyProof(secret, 'dialer', transcript, proof.subarray(0, 31))).toBe(false);
    expect(verifyProof(secret, 'dialer', transcript, new Uint8Array(0))).toBe(false);
  });

  it('length-prefixes fields, so shifting characters between ids changes the proof', () => {
    const a = computeProof(secret, 'dialer', { ...transcript, dialer: 'ab', acceptor: 'c' });
    const b = computeProof(secret, 'dialer', { ...transcript, dialer: 'a', acceptor: 'bc' });
    expect(a.equals(b)).toBe(false);
  });

  it('draws fresh 32-byte nonces', () => {
    const a = newNonce();
    expect(a.length).toBe(32);
    expect(a.equals(newNonce())).toBe(false);
  });
});
