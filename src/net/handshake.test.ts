// Handshake MAC tests: a ticket, proof or refusal verifies only for the same secret, role,
// cluster, ids, incarnations, nonces and reason, so none can be replayed on another connection,
// reflected to the other end, reused for another id or cluster, or turned into another kind.
import { describe, expect, it } from 'vitest';
import { RecentNonces, computeProof, newNonce, verifyProof, type HandshakeRole, type HandshakeTranscript } from './handshake.js';

const secret = Buffer.from('0123456789abcdef-secret');
const transcript: HandshakeTranscript = {
  clusterId: 'c1',
  dialer: 'n1',
  acceptor: 'n2',
  dialerIncarnation: 'inc-1',
  dialerNonce: newNonce(),
  acceptorNonce: newNonce(),
  acceptorIncarnation: 'inc-2',
};
const ROLES: readonly HandshakeRole[] = ['ticket', 'dialer', 'acceptor', 'acceptor-refusal', 'dialer-refusal'];

describe('handshake proofs', () => {
  it('verifies a MAC computed with the same secret, role and transcript', () => {
    for (const role of ROLES) expect(verifyProof(secret, role, transcript, computeProof(secret, role, transcript, 'identity_changed'), 'identity_changed')).toBe(true);
  });

  it('rejects a wrong secret, another role, other ids, cluster, incarnations, nonces and bad lengths', () => {
    const proof = computeProof(secret, 'dialer', transcript);
    expect(verifyProof(Buffer.from('another-secret-of-16+'), 'dialer', transcript, proof)).toBe(false);
    for (const role of ROLES) if (role !== 'dialer') expect(verifyProof(secret, role, transcript, proof)).toBe(false);
    expect(verifyProof(secret, 'dialer', { ...transcript, dialer: 'n3' }, proof)).toBe(false);
    expect(verifyProof(secret, 'dialer', { ...transcript, dialer: 'n2', acceptor: 'n1' }, proof)).toBe(false);
    expect(verifyProof(secret, 'dialer', { ...transcript, clusterId: 'c2' }, proof)).toBe(false);
    expect(verifyProof(secret, 'dialer', { ...transcript, dialerIncarnation: 'inc-9' }, proof)).toBe(false);
    expect(verifyProof(secret, 'dialer', { ...transcript, acceptorNonce: newNonce() }, proof)).toBe(false);
    expect(verifyProof(secret, 'dialer', transcript, proof.subarray(0, 31))).toBe(false);
    expect(verifyProof(secret, 'dialer', transcript, new Uint8Array(0))).toBe(false);
  });

  it('covers in each MAC exactly what both ends know at that point', () => {
    const other = { ...transcript, acceptorNonce: newNonce(), acceptorIncarnation: 'inc-9' };
    // the ticket precedes the challenge and the welcome
    expect(computeProof(secret, 'ticket', transcript).equals(computeProof(secret, 'ticket', other))).toBe(true);
    // the dialer's proof and the acceptor's refusal precede the welcome, which carries the acceptor's incarnation
    for (const role of ['dialer', 'acceptor-refusal'] as const) {
      expect(computeProof(secret, role, transcript).equals(computeProof(secret, role, { ...transcript, acceptorIncarnation: 'inc-9' }))).toBe(true);
    }
    for (const role of ['acceptor', 'dialer-refusal'] as const) {
      expect(computeProof(secret, role, transcript).equals(computeProof(secret, role, { ...transcript, acceptorIncarnation: 'inc-9' }))).toBe(false);
    }
  });

  it('binds a refusal to its reason', () => {
    const mac = computeProof(secret, 'acceptor-refusal', transcript, 'identity_changed');
    expect(verifyProof(secret, 'acceptor-refusal', transcript, mac, 'unknown_peer')).toBe(false);
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

describe('RecentNonces', () => {
  it('reports a repeat and forgets the oldest beyond its capacity', () => {
    const recent = new RecentNonces(2);
    const [x, y, z] = [newNonce(), newNonce(), newNonce()];
    expect(recent.remember(x)).toBe(true);
    expect(recent.remember(x)).toBe(false);
    expect(recent.remember(y)).toBe(true);
    expect(recent.remember(z)).toBe(true);
    expect(recent.remember(y)).toBe(false);
    expect(recent.remember(x)).toBe(true); // forgotten: capacity 2
  });
});
