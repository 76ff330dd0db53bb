// TLS on the client API (a node in this process): certificates checked at start with one clear
// error each (missing, expired, wrong name, wrong key, another CA), renewed files taken up without
// a restart, clients told what is wrong (no CA, plain HTTP to an HTTPS port), and a client
// certificate naming the user when authentication is on.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi } from '../supervisor/node-client.js';
import { clusterTlsFiles, createCa, ensureClusterTls, issueCertificate, nodeCertificateRequest, writeClientCertificate } from '../supervisor/certs.js';
import { startNode } from './kv-service.js';
import type { RunningNode } from './node.js';
import { freePort } from './test/in-process.js';
import { waitUntil } from './test/harness.js';
import { loadTls, TlsError } from './tls.js';

let dir = '';
let node: RunningNode | undefined;
let url = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'synod-tls-'));
  await ensureClusterTls(join(dir, 'tls'), { nodeIds: ['1', 'x'], hosts: ['127.0.0.1', 'localhost'] });
  await writeClientCertificate(join(dir, 'tls'), 'alice', 30);
}, 30_000);

afterAll(async () => {
  await node?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function start(files = clusterTlsFiles(join(dir, 'tls'), '1'), clientCertAuth: 'none' | 'request' | 'require' = 'request'): Promise<RunningNode> {
  url = `https://127.0.0.1:${await freePort()}`;
  const peer = `127.0.0.1:${await freePort()}`;
  return startNode({ id: '1', dataDir: join(dir, `data-${Math.random().toString(36).slice(2)}`), members: { '1': { peer, client: url } }, secret: 'tls-test-secret-0123456789', logLevel: 'fatal', tls: { ...files, clientCertAuth } });
}

function tlsCode(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof TlsError ? err.code : `not a TlsError: ${String(err)}`;
  }
}

/** The serial number of the certificate a TLS server presents now. */
function servedSerial(target: string, ca: Buffer): Promise<string> {
  const { hostname, port } = new URL(target);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: hostname, port: Number(port), ca, servername: undefined }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.on('error', reject);
  });
}

describe('TLS on the client API', () => {
  it('refuses to start with bad certificate files, one clear error each', async () => {
    const good = clusterTlsFiles(join(dir, 'tls'), '1');
    expect(tlsCode(() => loadTls({ ...good, certFile: join(dir, 'nope.crt') }, ['127.0.0.1']))).toBe('TLS_FILE_MISSING');
    expect(tlsCode(() => loadTls({ ...good, keyFile: clusterTlsFiles(join(dir, 'tls'), 'x').keyFile }, ['127.0.0.1']))).toBe('TLS_KEY_MISMATCH');
    expect(tlsCode(() => loadTls(good, ['node1.example.com']))).toBe('TLS_CERT_NAME_MISMATCH');
    expect(tlsCode(() => loadTls(good, ['127.0.0.1'], new Date(Date.now() + 400 * 86_400_000)))).toBe('TLS_CERT_EXPIRED');
    const otherCa = await createCa('another CA', 30);
    writeFileSync(join(dir, 'other-ca.crt'), otherCa.certPem);
    expect(tlsCode(() => loadTls({ ...good, caFile: join(dir, 'other-ca.crt') }, ['127.0.0.1']))).toBe('TLS_CERT_UNTRUSTED');
    // an expired certificate stops the node from starting, with the reason
    const ca = { certPem: (await import('node:fs')).readFileSync(good.caFile, 'utf8'), keyPem: (await import('node:fs')).readFileSync(join(dir, 'tls', 'ca.key'), 'utf8') };
    const old = await issueCertificate(ca, nodeCertificateRequest('1', ['127.0.0.1'], 1), new Date(Date.now() - 10 * 86_400_000));
    writeFileSync(join(dir, 'old.crt'), old.certPem);
    writeFileSync(join(dir, 'old.key'), old.keyPem);
    await expect(start({ ...good, certFile: join(dir, 'old.crt'), keyFile: join(dir, 'old.key') })).rejects.toMatchObject({ code: 'TLS_CERT_EXPIRED' });
  });

  it('serves HTTPS to clients that trust the CA; says what is wrong to those that do not', async () => {
    node = await start();
    const ca = (await import('node:fs')).readFileSync(join(dir, 'tls', 'ca.crt'));
    await waitUntil('the node to lead', async () => ((await callApi([url], 'GET', '/v1/status', undefined, 2000, { tls: { ca } })).body as { role?: string }).role === 'leader');
    expect((await callApi([url], 'PUT', '/v1/kv/a', { value: 1 }, 5000, { tls: { ca } })).status).toBe(200);
    await expect(callApi([url], 'GET', '/v1/status', undefined, 2000)).rejects.toThrow(/not signed by a CA we trust.*--cacert/);
    await expect(callApi([url.replace('https:', 'http:')], 'GET', '/v1/status', undefined, 2000)).rejects.toThrow(/socket hang up|ECONNRESET|closed/);
  });

  it('takes renewed certificate files without a restart, and keeps serving', async () => {
    const files = clusterTlsFiles(join(dir, 'tls'), '1');
    const fs = await import('node:fs');
    const ca = fs.readFileSync(files.caFile);
    const before = await servedSerial(url, ca);
    const pair = await issueCertificate({ certPem: ca.toString(), keyPem: fs.readFileSync(join(dir, 'tls', 'ca.key'), 'utf8') }, nodeCertificateRequest('1', ['127.0.0.1', 'localhost'], 90));
    writeFileSync(files.keyFile, pair.keyPem);
    writeFileSync(files.certFile, pair.certPem);
    node?.reloadTls(); // what SIGHUP does; without it the files are noticed within a few seconds
    await waitUntil('the renewed certificate to be served', async () => (await servedSerial(url, ca)) !== before, 15_000);
    expect((await callApi([url], 'GET', '/v1/kv/a', undefined, 5000, { tls: { ca } })).status).toBe(200);
  });

  it('a client certificate from the cluster CA names the user once authentication is on', async () => {
    const fs = await import('node:fs');
    const tls = { ca: fs.readFileSync(join(dir, 'tls', 'ca.crt')), cert: fs.readFileSync(join(dir, 'tls', 'client-alice.crt')), key: fs.readFileSync(join(dir, 'tls', 'client-alice.key')) };
    const ask = (method: string, path: string, body?: unknown, withCert = true) => callApi([url], method, path, body, 10_000, { tls: withCert ? tls : { ca: tls.ca } });
    expect((await ask('PUT', '/v1/auth/users/root', { password: 'root-password-xyz', roles: ['root'] })).status).toBe(200);
    expect((await ask('PUT', '/v1/auth/roles/reader', { permissions: [{ prefix: '', access: 'read' }] })).status).toBe(200);
    expect((await ask('PUT', '/v1/auth/users/alice', { noPassword: true, roles: ['reader'] })).status).toBe(200);
    expect((await ask('POST', '/v1/auth/enable', {})).status).toBe(200);
    await waitUntil('auth on', async () => ((await ask('GET', '/v1/auth/whoami')).body as { authEnabled?: boolean }).authEnabled === true);
    expect((await ask('GET', '/v1/auth/whoami')).body).toMatchObject({ user: 'alice', via: 'certificate' });
    expect((await ask('GET', '/v1/kv/a')).status).toBe(200);
    expect((await ask('PUT', '/v1/kv/a', { value: 2 })).status).toBe(403);
    expect((await ask('GET', '/v1/kv/a', undefined, false)).status).toBe(401);
    // a certificate from another CA is not accepted at all
    const other = await createCa('stranger CA', 30);
    const strangerCert = await issueCertificate(other, { commonName: 'root', days: 1, server: false, client: true });
    const status = await new Promise<number | string>((resolve) => {
      const { port } = new URL(url);
      const req = httpsRequest({ host: '127.0.0.1', port: Number(port), path: '/v1/kv/a', ca: tls.ca, cert: strangerCert.certPem, key: strangerCert.keyPem }, (res) => resolve(res.statusCode ?? 0));
      req.on('error', (err) => resolve(err.message));
      req.end();
    });
    // 'request' mode: an unverifiable certificate is not a user (401), never root
    expect(status).toBe(401);
  });
});
