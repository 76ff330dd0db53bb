// Certificates for a cluster: a private CA and, signed by it, a certificate per node (valid as
// server and as client, for the client API and mutual TLS between peers) and, on request, client
// certificates. `synod cluster up` makes a throwaway set on first start so TLS is on by default;
// `synod certs create` makes or renews a set by hand. X.509 comes from @peculiar/x509 (Node's
// crypto parses certificates but cannot make them), over Node's WebCrypto; it needs the
// reflect-metadata polyfill, so this module is loaded only when certificates are made.
import 'reflect-metadata';
import { X509Certificate as NodeX509, webcrypto } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

export interface KeyPair {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface CertificateRequest {
  readonly commonName: string;
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** e.g. urn:synod:node:1, which peers check against the node id a connection claims. */
  readonly uris?: readonly string[];
  readonly days: number;
  readonly server: boolean;
  readonly client: boolean;
}

function serial(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1');
}

async function keyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  const body = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`;
}

export async function createCa(commonName: string, days: number, now = new Date()): Promise<KeyPair> {
  const keys = await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${commonName}`,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + days * DAY_MS),
    keys,
    signingAlgorithm: KEY_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await keyPem(keys.privateKey) };
}

export async function issueCertificate(ca: KeyPair, request: CertificateRequest, now = new Date()): Promise<KeyPair> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await webcrypto.subtle.importKey('pkcs8', Buffer.from(ca.keyPem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64'), KEY_ALGORITHM, false, ['sign']);
  const keys = await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const names: x509.JsonGeneralName[] = [
    ...(request.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(request.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
    ...(request.uris ?? []).map((value) => ({ type: 'url' as const, value })),
  ];
  const usages = [...(request.server ? [x509.ExtendedKeyUsage.serverAuth] : []), ...(request.client ? [x509.ExtendedKeyUsage.clientAuth] : [])];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${request.commonName}`,
    issuer: caCert.subject,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + request.days * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: KEY_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension(usages, false),
      ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names, false)] : []),
      await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await keyPem(keys.privateKey) };
}

/** The files of a cluster's TLS set in `dir`. */
export function clusterTlsFiles(dir: string, nodeId: string): { caFile: string; certFile: string; keyFile: string } {
  return { caFile: join(dir, 'ca.crt'), certFile: join(dir, `node-${nodeId}.crt`), keyFile: join(dir, `node-${nodeId}.key`) };
}

export interface ClusterTlsOptions {
  readonly nodeIds: readonly string[];
  /** Host names and addresses every node certificate covers (the local cluster's are loopback). */
  readonly hosts: readonly string[];
  readonly days?: number;
  /** Node certificates expiring sooner than this are made anew. */
  readonly renewWithinDays?: number;
  readonly now?: Date;
}

/**
 * Makes whatever is missing of a cluster's TLS set in `dir` (CA, a certificate per node), and
 * renews node certificates that expire soon or no longer cover `hosts`. Keys are written 0600.
 * Returns what it wrote, for the caller to say.
 */
export async function ensureClusterTls(dir: string, o: ClusterTlsOptions): Promise<{ created: string[]; renewed: string[] }> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const now = o.now ?? new Date();
  const days = o.days ?? 365;
  const created: string[] = [];
  const renewed: string[] = [];
  const caFile = join(dir, 'ca.crt');
  const caKeyFile = join(dir, 'ca.key');
  let ca: KeyPair;
  if (existsSync(caFile) && existsSync(caKeyFile)) {
    ca = { certPem: readFileSync(caFile, 'utf8'), keyPem: readFileSync(caKeyFile, 'utf8') };
  } else {
    ca = await createCa('Synod local cluster CA', 10 * 365, now);
    writeSecret(caKeyFile, ca.keyPem);
    writeFileSync(caFile, ca.certPem);
    created.push(caFile);
  }
  for (const id of o.nodeIds) {
    const files = clusterTlsFiles(dir, id);
    const state = certificateState(files.certFile, o.hosts, now, o.renewWithinDays ?? 30);
    if (state === 'ok') continue;
    const pair = await issueCertificate(ca, nodeCertificateRequest(id, o.hosts, days), now);
    writeSecret(files.keyFile, pair.keyPem);
    writeFileSync(files.certFile, pair.certPem);
    (state === 'missing' ? created : renewed).push(files.certFile);
  }
  return { created, renewed };
}

/** A node's certificate: its id as common name and URI, every host as DNS name or IP address. */
export function nodeCertificateRequest(id: string, hosts: readonly string[], days: number): CertificateRequest {
  return {
    commonName: id,
    dnsNames: hosts.filter((h) => isIP(h) === 0),
    ipAddresses: hosts.filter((h) => isIP(h) !== 0),
    uris: [`urn:synod:node:${id}`],
    days,
    server: true,
    client: true,
  };
}

function certificateState(certFile: string, hosts: readonly string[], now: Date, renewWithinDays: number): 'ok' | 'missing' | 'renew' {
  if (!existsSync(certFile)) return 'missing';
  try {
    const cert = new NodeX509(readFileSync(certFile));
    if (new Date(cert.validTo).getTime() - now.getTime() < renewWithinDays * DAY_MS) return 'renew';
    const covers = hosts.every((h) => (isIP(h) !== 0 ? cert.checkIP(h) !== undefined : cert.checkHost(h) !== undefined));
    return covers ? 'ok' : 'renew';
  } catch {
    return 'renew';
  }
}

function writeSecret(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** A client certificate signed by the cluster's CA in `dir`, with `name` as its common name (the user it authenticates). */
export async function writeClientCertificate(dir: string, name: string, days: number, now = new Date()): Promise<string> {
  const ca: KeyPair = { certPem: readFileSync(join(dir, 'ca.crt'), 'utf8'), keyPem: readFileSync(join(dir, 'ca.key'), 'utf8') };
  const pair = await issueCertificate(ca, { commonName: name, days, server: false, client: true }, now);
  const safe = name.replace(/[^A-Za-z0-9_.-]/g, '_');
  writeSecret(join(dir, `client-${safe}.key`), pair.keyPem);
  writeFileSync(join(dir, `client-${safe}.crt`), pair.certPem);
  return join(dir, `client-${safe}.crt`);
}
