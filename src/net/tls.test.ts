// Mutual TLS over real sockets on 127.0.0.1 with throwaway certificates: TLS carries the
// handshake and messages; plaintext and TLS ends refuse each other with NET_TLS; expired
// certificates, certificates from another CA, missing certificates and certificates naming
// another node id (or host) are refused with their reason in detail.tlsCode; reloading swaps the
// certificate for new connections while existing ones keep working; and a stranger flooding a TLS
// listener without a certificate does not keep a member out.
import { X509Certificate } from 'node:crypto';
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import { isNetError } from './errors.js';
import type { NetLogRecord } from './log.js';
import { NODE_ID_URI_PREFIX, certificateNodeIds, parseSubjectAltName, type TlsOptions } from './tls.js';
import { createCa, type Pem, type TestCa } from './test/certs.js';
import { Flood, HOST, startNode, useCleanup, waitConnected, waitFor, type Node } from './test/harness.js';

useCleanup();

let ca: TestCa;
let otherCa: TestCa;
const certs = new Map<string, Pem>();

beforeAll(() => {
  ca = createCa('synod-test-ca');
  otherCa = createCa('another-ca');
  for (const id of ['a', 'b', 'c']) certs.set(id, ca.issue({ nodeId: id }));
  certs.set('a-v2', ca.issue({ nodeId: 'a' }));
  certs.set('b-expired', ca.issue({ nodeId: 'b', expired: true }));
  certs.set('b-other-ca', otherCa.issue({ nodeId: 'b' }));
  certs.set('b-as-c', ca.issue({ nodeId: 'c' }));
  certs.set('b-no-id', ca.issue({ cn: 'b' }));
  certs.set('b-wrong-ip', ca.issue({ nodeId: 'b', sans: ['IP:127.0.0.9'] }));
  certs.set('z', ca.issue({ nodeId: 'z' }));
}, 60_000);

function tlsOf(name: string, options: Partial<TlsOptions> = {}): TlsOptions {
  const pem = certs.get(name);
  if (pem === undefined) throw new Error(`no test certificate ${name}`);
  return { key: pem.key, cert: pem.cert, ca: ca.cert, ...options };
}

function tlsFailures(node: Node, tlsCode?: string): NetLogRecord[] {
  return node.logs.filter((r) => r.event === 'tls_failed' && r.code === 'NET_TLS' && (tlsCode === undefined || r.detail?.tlsCode === tlsCode));
}

/** a accepts, `dialer` dials it (a does not dial back: its address for the dialer leads nowhere). */
async function dialOnly(a: Node, dialer: Node): Promise<void> {
  a.transport.addPeer(dialer.id, { host: HOST, port: 1 });
  dialer.transport.addPeer(a.id, a.transport.address);
}

/** A bare TLS client of our CA, with the given client certificate (or none). */
async function rawTlsClient(port: number, client: Pem | null): Promise<TLSSocket> {
  const socket = tlsConnect({ host: HOST, port, ca: ca.cert, ...(client ?? {}), checkServerIdentity: () => undefined });
  socket.on('error', () => {});
  socket.resume(); // read (and drop) what arrives, so the end of the stream is seen
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('close', () => reject(new Error('closed before the TLS handshake completed')));
  });
  return socket;
}

describe('mutual TLS', () => {
  it('carries the handshake and messages among three nodes', async () => {
    const nodes = await Promise.all(['a', 'b', 'c'].map((id) => startNode(id, { tls: tlsOf(id, { requireNodeId: true }) })));
    for (const node of nodes) for (const other of nodes) if (other !== node) node.transport.addPeer(other.id, other.transport.address);
    await waitConnected(nodes);
    for (const from of nodes) for (const to of nodes) if (to !== from) from.transport.send(to.id, { type: 'x', seq: 1, body: from.id });
    await waitFor(() => nodes.every((n) => n.received.length === 2), 'every message');
    for (const node of nodes) {
      expect(node.transport.metrics().tlsFailures).toBe(0);
      expect(node.logs.filter((r) => r.event === 'connected').every((r) => r.detail?.tls === true)).toBe(true);
    }
  });

  it('a TLS listener refuses a plaintext dialer, and a plaintext listener a TLS dialer, with NET_TLS', async () => {
    const secure = await startNode('a', { tls: tlsOf('a') });
    const plain = await startNode('b');
    await dialOnly(secure, plain); // plaintext b dials TLS a
    await waitFor(() => tlsFailures(secure).length > 0, 'the TLS listener to refuse the plaintext dialer');
    expect(tlsFailures(secure)[0]!.msg).toMatch(/does not speak TLS/);
    expect(secure.transport.metrics().peers.b!.inboundConnected).toBe(false);

    const plainListener = await startNode('c');
    await dialOnly(plainListener, secure); // TLS a dials plaintext c
    await waitFor(() => tlsFailures(plainListener, 'TLS_WITHOUT_TLS_OPTION').length > 0 && tlsFailures(secure).some((r) => r.peer === 'c'), 'both ends of the TLS dial to report NET_TLS');
    expect(plainListener.transport.metrics().tlsFailures).toBeGreaterThan(0);
    expect(secure.transport.metrics().peers.c!.tlsFailures).toBeGreaterThan(0);
  });

  it('refuses a dialer with an expired certificate, one from another CA, or none, naming the reason on both ends', async () => {
    const a = await startNode('a', { tls: tlsOf('a') });
    for (const [name, tlsCode] of [['b-expired', 'CERT_HAS_EXPIRED'], ['b-other-ca', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']] as const) {
      const b = await startNode('b', { tls: tlsOf(name) });
      await dialOnly(a, b);
      await waitFor(() => tlsFailures(a, tlsCode).length > 0 && tlsFailures(b, 'REFUSED_BY_PEER').length > 0, `${name}: refusal on both ends`);
      expect(b.transport.metrics().peers.a!.connected).toBe(false);
      await b.transport.close();
      a.transport.removePeer('b');
    }
    const anonymous = await rawTlsClient(a.transport.address.port, null);
    await waitFor(() => tlsFailures(a, 'NO_CERTIFICATE').length > 0, 'a client without a certificate refused');
    await waitFor(() => anonymous.destroyed, 'the anonymous client closed');
    expect(a.transport.metrics().tlsFailures).toBeGreaterThanOrEqual(3);
  });

  it('a dialer refuses an acceptor with an expired certificate or one from another CA', async () => {
    for (const [name, tlsCode] of [['b-expired', 'CERT_HAS_EXPIRED'], ['b-other-ca', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']] as const) {
      const b = await startNode('b', { tls: tlsOf(name) });
      const a = await startNode('a', { tls: tlsOf('a') });
      await dialOnly(b, a);
      await waitFor(() => tlsFailures(a, tlsCode).length > 0, `${name}: the dialer to refuse`);
      expect(tlsFailures(a, tlsCode)[0]).toMatchObject({ peer: 'b', level: 'warn' });
      expect(a.transport.metrics().peers.b!.tlsFailures).toBeGreaterThan(0);
      await Promise.all([a.transport.close(), b.transport.close()]);
    }
  });

  it('binds certificates to node ids on both ends, and checks the dialed address where the certificate names one', async () => {
    const a = await startNode('a', { tls: tlsOf('a') });
    // a dialer whose certificate names c claims to be b
    const impostor = await startNode('b', { tls: tlsOf('b-as-c') });
    await dialOnly(a, impostor);
    await waitFor(() => tlsFailures(a, 'NODE_ID_MISMATCH').length > 0, 'the acceptor to refuse the hello');
    expect(tlsFailures(a, 'NODE_ID_MISMATCH')[0]!.detail).toMatchObject({ claimedId: 'b' });
    await impostor.transport.close();
    a.transport.removePeer('b');
    // an acceptor whose certificate names c is dialed as b
    const wrongAcceptor = await startNode('b', { tls: tlsOf('b-as-c') });
    const dialer = await startNode('a', { tls: tlsOf('a') });
    await dialOnly(wrongAcceptor, dialer);
    await waitFor(() => tlsFailures(dialer, 'NODE_ID_MISMATCH').length > 0, 'the dialer to refuse the acceptor');
    // an acceptor whose certificate names b but another IP address than the one dialed
    const elsewhere = await startNode('b', { tls: tlsOf('b-wrong-ip') });
    const dialer2 = await startNode('c', { tls: tlsOf('c') });
    await dialOnly(elsewhere, dialer2);
    await waitFor(() => tlsFailures(dialer2, 'ERR_TLS_CERT_ALTNAME_INVALID').length > 0, 'the dialer to check the IP address');
  });

  it('with requireNodeId, refuses a certificate that names no node id; without, accepts it', async () => {
    const strict = await startNode('a', { tls: tlsOf('a', { requireNodeId: true }) });
    const anonymous = await startNode('b', { tls: tlsOf('b-no-id') });
    await dialOnly(strict, anonymous);
    await waitFor(() => tlsFailures(strict, 'NO_NODE_ID').length > 0, 'the strict acceptor to refuse');
    const lenient = await startNode('c', { tls: tlsOf('c') });
    lenient.transport.addPeer('b', { host: HOST, port: 1 });
    anonymous.transport.addPeer('c', lenient.transport.address);
    await waitFor(() => lenient.transport.metrics().peers.b!.inboundConnected, 'the lenient acceptor to accept');
  });

  it('reloads the certificate for new connections while existing ones keep working', async () => {
    const a = await startNode('a', { tls: tlsOf('a') });
    const b = await startNode('b', { tls: tlsOf('b'), peers: { a: a.transport.address } });
    a.transport.addPeer('b', b.transport.address);
    await waitConnected([a, b]);
    const before = await rawTlsClient(a.transport.address.port, certs.get('c')!);
    const oldSerial = before.getPeerCertificate().serialNumber;
    before.destroy();

    a.transport.reloadTls(tlsOf('a-v2'));
    // a new connection to a's listener sees the new certificate
    const after = await rawTlsClient(a.transport.address.port, certs.get('c')!);
    expect(after.getPeerCertificate().serialNumber).not.toBe(oldSerial);
    expect(after.getPeerCertificate().serialNumber).toBe(serial(certs.get('a-v2')!));
    after.destroy();
    // a new connection dialed by a presents it too
    const presented: string[] = [];
    const z = createTlsServer({ ...certs.get('z')!, ca: ca.cert, requestCert: true, rejectUnauthorized: false }, (socket) => {
      presented.push(socket.getPeerCertificate().serialNumber);
      socket.destroy();
    });
    await new Promise<void>((resolve) => z.listen(0, HOST, resolve));
    a.transport.addPeer('z', { host: HOST, port: (z.address() as { port: number }).port });
    await waitFor(() => presented.length > 0, 'a to dial z');
    expect(presented[0]).toBe(serial(certs.get('a-v2')!));
    a.transport.removePeer('z');
    await new Promise<void>((resolve) => z.close(() => resolve()));
    // the connections made before the reload kept working
    expect(a.transport.metrics().peers.b!.reconnects).toBe(0);
    b.transport.send('a', { type: 'still', seq: 1 });
    a.transport.send('b', { type: 'still', seq: 2 });
    await waitFor(() => a.received.length === 1 && b.received.length === 1, 'messages on the old connections');
    // and a restarted peer connects with the new material on both sides
    const port = b.transport.address.port;
    await b.transport.close();
    const b2 = await startNode('b', { tls: tlsOf('b'), listen: { host: HOST, port }, peers: { a: a.transport.address } });
    await waitConnected([a, b2]);
    expect(a.transport.metrics().tlsFailures + b2.transport.metrics().tlsFailures).toBe(0);
  });

  it('refuses unusable material at start and at reload, keeping the old material', async () => {
    const mismatched = { ...tlsOf('a'), key: certs.get('b')!.key };
    await expect(startNode('a', { tls: mismatched })).rejects.toSatisfy((error: unknown) => isNetError(error, 'NET_INVALID_OPTION'));
    await expect(startNode('a', { tls: { ...tlsOf('a'), cert: 'not a certificate' } })).rejects.toSatisfy((error: unknown) => isNetError(error, 'NET_INVALID_OPTION'));
    const a = await startNode('a', { tls: tlsOf('a') });
    expect(() => a.transport.reloadTls(mismatched)).toThrow(expect.objectContaining({ code: 'NET_INVALID_OPTION' }));
    const client = await rawTlsClient(a.transport.address.port, certs.get('c')!);
    expect(client.getPeerCertificate().serialNumber).toBe(serial(certs.get('a')!));
    client.destroy();
    const plain = await startNode('p');
    expect(() => plain.transport.reloadTls(tlsOf('a'))).toThrow(expect.objectContaining({ code: 'NET_INVALID_OPTION' }));
  });

  it('a member restarting during a flood of connections without certificates gets in', async () => {
    const limits = { maxPendingHandshakes: 16, maxPendingHandshakesPerAddress: 8, handshakeTimeoutMs: 10_000, helloTimeoutMs: 5_000 };
    const a = await startNode('a', { ...limits, tls: tlsOf('a') });
    const b = await startNode('b', { ...limits, tls: tlsOf('b'), peers: { a: a.transport.address } });
    a.transport.addPeer('b', b.transport.address);
    await waitConnected([a, b]);
    const floods = [Flood.start(a.transport.address.port, { connections: 100, mode: 'idle' }), Flood.start(a.transport.address.port, { connections: 50, mode: 'garbage' })];
    await waitFor(() => a.transport.metrics().evictedHandshakes > 20 && a.transport.metrics().tlsFailures > 20, 'the flood to take effect');
    const port = b.transport.address.port;
    await b.transport.close({ deadlineMs: 0 });
    await waitFor(() => !a.transport.metrics().peers.b!.inboundConnected, 'a to see b gone');
    const restarted = await startNode('b', { ...limits, tls: tlsOf('b'), listen: { host: HOST, port }, peers: { a: a.transport.address } });
    await waitFor(() => a.transport.metrics().peers.b!.inboundConnected, 'the restarted b to get in', 30_000);
    expect(floods[0]!.openNow).toBeGreaterThan(16);
    restarted.transport.send('a', { type: 'up' });
    await waitFor(() => a.received.some((r) => r.message.type === 'up'), 'b to reach a', 30_000);
  });
});

describe('certificate names', () => {
  it('reads node ids from SAN URIs, quoted or not, and refuses names it cannot read', () => {
    expect(certificateNodeIds('URI:urn:synod:node:n1, IP Address:127.0.0.1')).toEqual(['n1']);
    expect(certificateNodeIds('DNS:"a, URI:urn:synod:node:evil", URI:urn:synod:node:n%201')).toEqual(['n 1']);
    expect(certificateNodeIds(undefined)).toEqual([]);
    expect(() => certificateNodeIds(`URI:${NODE_ID_URI_PREFIX}%E0%A4%A`)).toThrow(expect.objectContaining({ code: 'NET_TLS' }));
    expect(() => certificateNodeIds('garbage without a type')).toThrow(expect.objectContaining({ code: 'NET_TLS' }));
    expect(parseSubjectAltName('DNS:x, email:"a\\"b"')).toEqual([{ type: 'DNS', value: 'x' }, { type: 'email', value: 'a"b' }]);
  });
});

function serial(pem: Pem): string {
  return new X509Certificate(pem.cert).serialNumber;
}
