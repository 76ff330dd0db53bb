// TLS material for a node: reads the certificate, key and CA files, checks them before use
// (present, parseable, in date, key matching the certificate, signed by the CA, naming the host
// the node is reached at) with one clear error each, and watches them so that renewed files take
// effect without a restart. A renewal that does not pass the checks is refused and logged; the
// files in use stay in use.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import type { SecureContextOptions } from 'node:tls';

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** The CA that signed every member's certificate (and the clients' certificates, when they present one). */
  readonly caFile: string;
}

export type TlsErrorCode = 'TLS_FILE_MISSING' | 'TLS_BAD_CERT' | 'TLS_BAD_KEY' | 'TLS_KEY_MISMATCH' | 'TLS_CERT_EXPIRED' | 'TLS_CERT_NOT_YET_VALID' | 'TLS_CERT_UNTRUSTED' | 'TLS_CERT_NAME_MISMATCH';

export class TlsError extends Error {
  constructor(
    readonly code: TlsErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TlsError';
  }
}

/** Checked TLS material, ready for a SecureContext. */
export interface TlsMaterial extends SecureContextOptions {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
  /** When the certificate expires. */
  readonly notAfter: Date;
  /** The names (DNS and IP) the certificate is valid for. */
  readonly names: readonly string[];
}

/**
 * Reads and checks TLS files. `hosts`: the names the node is reached at (its client and peer
 * hosts); the certificate must be valid for each. Throws a TlsError naming the file and the problem.
 */
export function loadTls(files: TlsFiles, hosts: readonly string[], now: Date = new Date()): TlsMaterial {
  const cert = readTlsFile(files.certFile, 'certificate');
  const key = readTlsFile(files.keyFile, 'key');
  const ca = readTlsFile(files.caFile, 'CA certificate');
  const leaf = parseCertificate(cert, files.certFile);
  const authority = parseCertificate(ca, files.caFile);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new TlsError('TLS_BAD_KEY', `${files.keyFile} is not a PEM private key: ${(err as Error).message}`);
  }
  if (!leaf.checkPrivateKey(privateKey)) throw new TlsError('TLS_KEY_MISMATCH', `the key in ${files.keyFile} does not belong to the certificate in ${files.certFile}`);
  const notBefore = new Date(leaf.validFrom);
  const notAfter = new Date(leaf.validTo);
  if (now < notBefore) throw new TlsError('TLS_CERT_NOT_YET_VALID', `the certificate in ${files.certFile} is valid only from ${notBefore.toISOString()} (check the clock)`);
  if (now > notAfter) throw new TlsError('TLS_CERT_EXPIRED', `the certificate in ${files.certFile} expired on ${notAfter.toISOString()}; renew it (synod certs create) and it is picked up without a restart`);
  if (now > new Date(authority.validTo)) throw new TlsError('TLS_CERT_EXPIRED', `the CA certificate in ${files.caFile} expired on ${new Date(authority.validTo).toISOString()}`);
  if (!leaf.checkIssued(authority) || !leaf.verify(authority.publicKey)) throw new TlsError('TLS_CERT_UNTRUSTED', `the certificate in ${files.certFile} was not signed by the CA in ${files.caFile}`);
  const names = namesOf(leaf);
  for (const host of hosts) {
    const ok = isIP(host) !== 0 ? leaf.checkIP(host) !== undefined : leaf.checkHost(host) !== undefined;
    if (!ok) throw new TlsError('TLS_CERT_NAME_MISMATCH', `the certificate in ${files.certFile} is for ${names.join(', ') || 'no name'}, not ${host} (the address this node is reached at)`);
  }
  return { cert, key, ca, notAfter, names };
}

function readTlsFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new TlsError('TLS_FILE_MISSING', `cannot read the ${what} file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function parseCertificate(pem: Buffer, path: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new TlsError('TLS_BAD_CERT', `${path} is not a PEM certificate: ${(err as Error).message}`);
  }
}

function namesOf(cert: X509Certificate): string[] {
  const san = cert.subjectAltName ?? '';
  return san.split(',').map((s) => s.trim()).filter((s) => s.startsWith('DNS:') || s.startsWith('IP Address:')).map((s) => s.replace(/^DNS:|^IP Address:/, ''));
}

/**
 * Watches TLS files and calls `onChange` with the checked new material after one changed, or
 * `onError` when the changed files do not pass the checks (the old material stays in use). Also
 * `check()` on demand (SIGHUP). Polls modification times: file watching is unreliable across
 * the editors, symlink swaps and configuration-management tools that renew certificates.
 */
export class TlsWatcher {
  private stamps: string;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly files: TlsFiles,
    private readonly hosts: readonly string[],
    private readonly onChange: (material: TlsMaterial) => void,
    private readonly onError: (err: Error) => void,
    intervalMs = 5000,
  ) {
    this.stamps = this.stampOf();
    this.timer = setInterval(() => this.poll(), intervalMs);
    this.timer.unref();
  }

  /** Reloads now if the files changed since the last load (or always, with `force`). */
  check(force = false): void {
    const stamps = this.stampOf();
    if (!force && stamps === this.stamps) return;
    this.stamps = stamps;
    try {
      this.onChange(loadTls(this.files, this.hosts));
    } catch (err) {
      this.onError(err as Error);
    }
  }

  close(): void {
    clearInterval(this.timer);
  }

  private poll(): void {
    this.check(false);
  }

  private stampOf(): string {
    return [this.files.certFile, this.files.keyFile, this.files.caFile]
      .map((f) => {
        try {
          const s = statSync(f);
          return `${s.mtimeMs}:${s.size}:${s.ino}`;
        } catch {
          return 'missing';
        }
      })
      .join('|');
  }
}
