// Throwaway certificate authorities and node certificates for the TLS tests, made with the
// openssl command-line tool (tests only: the product never generates certificates). Each call
// works in its own temporary directory, removed before it returns; the PEM text stays in memory.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pem {
  readonly key: string;
  readonly cert: string;
}

export interface IssueOptions {
  /** Common name; default the node id or "peer". */
  readonly cn?: string;
  /** Adds the SAN URI urn:synod:node:<nodeId>. */
  readonly nodeId?: string;
  /** Further SAN entries in openssl syntax; default IP:127.0.0.1. */
  readonly sans?: readonly string[];
  /** Valid only in January 2020. */
  readonly expired?: boolean;
}

export interface TestCa extends Pem {
  issue(options?: IssueOptions): Pem;
}

// A self-contained configuration, so the system's openssl.cnf cannot change what is made.
const CONFIG = `
[ ca ]
default_ca = test_ca
[ test_ca ]
database = ./index.txt
new_certs_dir = .
serial = ./serial
default_md = sha256
policy = policy_any
unique_subject = no
[ policy_any ]
commonName = supplied
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = placeholder
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ leaf ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = $ENV::SYNOD_TEST_SAN
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

const KEY_ARGS = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Runs `work` in a fresh directory holding the configuration, then removes the directory. */
function inTempDir<T>(work: (dir: string, run: (args: string[], san?: string) => void) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'synod-certs-'));
  try {
    writeFileSync(join(dir, 'cnf'), CONFIG);
    const run = (args: string[], san = 'DNS:unused.invalid'): void => {
      execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', env: { ...process.env, SYNOD_TEST_SAN: san } });
    };
    return work(dir, run);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let serial = 1;

export function createCa(name: string): TestCa {
  const ca = inTempDir((dir, run) => {
    run(['req', '-x509', '-config', 'cnf', '-extensions', 'v3_ca', ...KEY_ARGS, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', `/CN=${name}`]);
    return { key: readFileSync(join(dir, 'ca.key'), 'utf8'), cert: readFileSync(join(dir, 'ca.crt'), 'utf8') };
  });
  return { ...ca, issue: (options = {}) => issue(ca, options) };
}

function issue(ca: Pem, options: IssueOptions): Pem {
  return inTempDir((dir, run) => {
    writeFileSync(join(dir, 'ca.key'), ca.key);
    writeFileSync(join(dir, 'ca.crt'), ca.cert);
    writeFileSync(join(dir, 'index.txt'), '');
    serial += 1;
    writeFileSync(join(dir, 'serial'), `${serial.toString(16).padStart(4, '0')}\n`);
    const cn = options.cn ?? options.nodeId ?? 'peer';
    run(['req', '-new', '-config', 'cnf', ...KEY_ARGS, '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', `/CN=${cn}`]);
    const sans = [...(options.nodeId === undefined ? [] : [`URI:urn:synod:node:${options.nodeId}`]), ...(options.sans ?? ['IP:127.0.0.1'])];
    const validity = options.expired === true ? ['-startdate', '20200101000000Z', '-enddate', '20200102000000Z'] : ['-days', '2'];
    run(['ca', '-batch', '-config', 'cnf', '-extensions', 'leaf', '-cert', 'ca.crt', '-keyfile', 'ca.key', ...validity, '-in', 'leaf.csr', '-out', 'leaf.crt', '-notext'], sans.join(','));
    return { key: readFileSync(join(dir, 'leaf.key'), 'utf8'), cert: readFileSync(join(dir, 'leaf.crt'), 'utf8') };
  });
}
