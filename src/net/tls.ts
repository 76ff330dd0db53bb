// Mutual TLS under the peer protocol: certificate material and its validation, the contexts used
// for new connections (swapped by reload; existing connections keep theirs), the acceptor's TLS
// engine fed with sockets the transport has already admitted, the dialer's connect, and the
// binding of a certificate to a node id through a `urn:synod:node:<id>` SAN URI.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { isIP, type Socket } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, createSecureContext, createServer as createTlsServer, type PeerCertificate, type SecureContext, type SecureContextOptions, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { NodeId } from '../core/index.js';
import { NetError, describeCause, failNet } from './errors.js';
import type { PeerAddress } from './options.js';

/** PEM material for this node: its key, its certificate (chain), and the cluster CA(s) it trusts. */
export interface TlsMaterial {
  readonly key: string | Uint8Array;
  readonly cert: string | Uint8Array;
  readonly ca: string | Uint8Array | readonly (string | Uint8Array)[];
}

export interface TlsOptions extends TlsMaterial {
  /** Refuse peers whose certificate names no node id (no `urn:synod:node:` SAN URI). Default false. */
  readonly requireNodeId?: boolean;
}

/** The SAN URI prefix that binds a certificate to a node id (the id follows, percent-encoded as in any URI). */
export const NODE_ID_URI_PREFIX = 'urn:synod:node:';
/** Peers speak TLS 1.3 only: both ends are this code, and 1.3 has the fewest options to get wrong. */
const MIN_TLS_VERSION = 'TLSv1.3';

/** What an accepted socket's TLS handshake ended in. */
export interface TlsAcceptHandlers {
  secured(socket: TLSSocket): void;
  failed(error: NetError): void;
}

/**
 * Node ids a certificate is bound to, from its `urn:synod:node:<id>` SAN URIs (usually one).
 * Throws NET_TLS (tlsCode BAD_NODE_ID) for a SAN list it cannot read or an id it cannot decode:
 * a name we cannot read must not count as no name.
 */
export function certificateNodeIds(subjectAltName: string | undefined): string[] {
  const ids: string[] = [];
  for (const { type, value } of parseSubjectAltName(subjectAltName ?? '')) {
    if (type !== 'URI' || !value.startsWith(NODE_ID_URI_PREFIX)) continue;
    let id: string;
    try {
      id = decodeURIComponent(value.slice(NODE_ID_URI_PREFIX.length));
    } catch {
      throw tlsError('BAD_NODE_ID', `certificate SAN URI ${JSON.stringify(value)} is not a valid node id URI`);
    }
    if (id === '') throw tlsError('BAD_NODE_ID', `certificate SAN URI ${JSON.stringify(value)} names an empty node id`);
    ids.push(id);
  }
  return ids;
}

/**
 * Node's `subjectaltname` text: entries `TYPE:value` joined by ", ", where a value holding a
 * separator or quote is written as a JSON string. Bounded by the text (each step consumes some).
 */
export function parseSubjectAltName(text: string): { type: string; value: string }[] {
  const entries: { type: string; value: string }[] = [];
  let pos = 0;
  while (pos < text.length) {
    const colon = text.indexOf(':', pos);
    if (colon < 0) throw tlsError('BAD_NODE_ID', `cannot read the certificate's subject alternative names: ${JSON.stringify(text)}`);
    const type = text.slice(pos, colon);
    let end: number;
    let value: string;
    if (text[colon + 1] === '"') {
      end = colon + 2;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      end += 1;
      try {
        value = JSON.parse(text.slice(colon + 1, end)) as string;
      } catch {
        throw tlsError('BAD_NODE_ID', `cannot read the certificate's subject alternative names: ${JSON.stringify(text)}`);
      }
    } else {
      const separator = text.indexOf(', ', colon + 1);
      end = separator < 0 ? text.length : separator;
      value = text.slice(colon + 1, end);
    }
    entries.push({ type, value });
    pos = text.startsWith(', ', end) ? end + 2 : text.length;
  }
  return entries;
}

export function tlsError(tlsCode: string, message: string, cause?: unknown): NetError {
  return new NetError('NET_TLS', message, { ...(cause === undefined ? {} : { cause }), detail: { tlsCode } });
}

/** The error of a failed TLS handshake or verification, named by its OpenSSL/Node code. */
export function tlsFailure(what: string, cause: unknown): NetError {
  const { code, reason } = (cause ?? {}) as { code?: unknown; reason?: unknown };
  const tlsCode = typeof code === 'string' ? code : 'UNKNOWN';
  // OpenSSL's messages carry a stack of library:function:file:line; its `reason` is the readable part.
  const why = typeof reason === 'string' && reason !== '' ? reason : describeCause(cause).trim();
  return tlsError(tlsCode, `${what}: ${why} [${tlsCode}]${HINTS[tlsCode] ?? ''}`, cause);
}

/** What a code usually means here, where that is not obvious from OpenSSL's words. */
const HINTS: Readonly<Record<string, string>> = {
  ERR_SSL_WRONG_VERSION_NUMBER: ' (the peer does not speak TLS: does it lack the tls option?)',
  ERR_SSL_HTTP_REQUEST: ' (the peer does not speak TLS: does it lack the tls option?)',
  ECONNRESET: ' (the peer closed during the TLS handshake: does it listen without TLS?)',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: ' (the certificate is not from a CA we trust)',
  SELF_SIGNED_CERT_IN_CHAIN: ' (the certificate is not from a CA we trust)',
  DEPTH_ZERO_SELF_SIGNED_CERT: ' (the certificate is not from a CA we trust)',
};

/**
 * The TLS state of a transport. The acceptor side is a `tls.Server` that never listens: the
 * transport's own listener admits each socket (pending-handshake limits, deadlines) and hands it
 * over, so a TLS handshake occupies a pending slot like any other. `reload` swaps the contexts
 * for new connections; established ones keep theirs.
 */
export class TlsState {
  private clientContext: SecureContext;
  private readonly engine: TlsServer;
  /** Accepted sockets whose TLS handshake is running, by "address|port" (unique per live connection to one listener). */
  private readonly handshaking = new Map<string, TlsAcceptHandlers>();

  constructor(
    material: TlsMaterial,
    readonly requireNodeId: boolean,
    handshakeTimeoutMs: number,
  ) {
    const options = contextOptions(material, 'tls');
    this.clientContext = createSecureContext(options);
    // requestCert with rejectUnauthorized false: the handshake completes even for a bad client
    // certificate, so we can name the reason (expired, unknown CA) in the log and tell the dialer,
    // instead of Node dropping the socket silently; `authorized` says whether it verified.
    this.engine = createTlsServer({ ...options, requestCert: true, rejectUnauthorized: false, handshakeTimeout: handshakeTimeoutMs });
    this.engine.on('secureConnection', (socket: TLSSocket) => this.take(socket)?.secured(socket));
    this.engine.on('tlsClientError', (error: Error, socket: TLSSocket) => this.take(socket)?.failed(tlsFailure('TLS handshake failed', error)));
  }

  /** Validates `material` and uses it for every new connection from now on. Throws NET_INVALID_OPTION. */
  reload(material: TlsMaterial): void {
    const options = contextOptions(material, 'reloadTls');
    this.clientContext = createSecureContext(options);
    // setSecureContext rebuilds the server's context from these options alone, so they carry
    // everything (minVersion included); requestCert stays as set at creation.
    this.engine.setSecureContext(options);
  }

  /** Runs the server side of a TLS handshake on an admitted socket. */
  accept(raw: Socket, handlers: TlsAcceptHandlers): void {
    const key = socketKey(raw);
    if (key === null) {
      handlers.failed(tlsError('NO_ADDRESS', 'connection closed before its TLS handshake'));
      return;
    }
    this.handshaking.set(key, handlers);
    raw.once('close', () => {
      if (this.handshaking.get(key) === handlers) this.handshaking.delete(key);
    });
    this.engine.emit('connection', raw);
  }

  /** Dials `address` and checks that its certificate names `peer` (and the host, where it names hosts). */
  connect(address: PeerAddress, peer: NodeId): TLSSocket {
    return tlsConnect({
      host: address.host,
      port: address.port,
      secureContext: this.clientContext,
      minVersion: MIN_TLS_VERSION,
      // SNI carries host names only; Node refuses an IP address there.
      ...(isIP(address.host) === 0 ? { servername: address.host } : {}),
      checkServerIdentity: (host, cert) => this.checkAcceptor(host, cert, peer),
    });
  }

  /** Node ids of an authorized client certificate; throws NET_TLS if it names none and one is required. */
  clientNodeIds(socket: TLSSocket): string[] {
    const ids = certificateNodeIds(socket.getPeerX509Certificate()?.subjectAltName);
    if (ids.length === 0 && this.requireNodeId) throw tlsError('NO_NODE_ID', `the peer's certificate names no node id (${NODE_ID_URI_PREFIX}<id>) and tls.requireNodeId is set`);
    return ids;
  }

  private checkAcceptor(host: string, cert: PeerCertificate, peer: NodeId): Error | undefined {
    let ids: string[];
    try {
      ids = certificateNodeIds(cert.subjectaltname);
    } catch (error) {
      return withCode(error as NetError);
    }
    if (ids.length > 0 && !ids.includes(peer)) {
      return withCode(tlsError('NODE_ID_MISMATCH', `we dialed ${peer} but its certificate names ${ids.join(', ')}`));
    }
    if (ids.length === 0 && this.requireNodeId) return withCode(tlsError('NO_NODE_ID', `${peer}'s certificate names no node id and tls.requireNodeId is set`));
    // Host names are checked where the certificate names hosts; a certificate that names only a
    // node id is bound by that id (addresses change with membership, ids do not).
    const names = parseSubjectAltName(cert.subjectaltname ?? '');
    if (names.some((n) => n.type === 'DNS' || n.type === 'IP Address')) return checkServerIdentity(host, cert);
    return undefined;
  }

  private take(socket: TLSSocket): TlsAcceptHandlers | undefined {
    const key = socketKey(socket);
    if (key === null) return undefined;
    const handlers = this.handshaking.get(key);
    this.handshaking.delete(key);
    return handlers;
  }
}

/** Validates material as the options of a secure context; `name` is the option named in errors. */
function contextOptions(material: TlsMaterial, name: string): SecureContextOptions {
  if (typeof material !== 'object' || material === null) return failNet('NET_INVALID_OPTION', `option ${name} must be { key, cert, ca }`);
  const pem = (value: unknown, field: string): string | Buffer => {
    if (typeof value === 'string' && value !== '') return value;
    if (value instanceof Uint8Array && value.length > 0) return Buffer.from(value);
    return failNet('NET_INVALID_OPTION', `option ${name}.${field} must be PEM text or bytes`);
  };
  const cas = Array.isArray(material.ca) ? material.ca : [material.ca];
  if (cas.length === 0) failNet('NET_INVALID_OPTION', `option ${name}.ca must name at least one CA certificate`);
  const options: SecureContextOptions = {
    key: pem(material.key, 'key'),
    cert: pem(material.cert, 'cert'),
    ca: cas.map((ca: unknown) => pem(ca, 'ca')),
    minVersion: MIN_TLS_VERSION,
  };
  try {
    // OpenSSL drops a key that does not match the certificate without an error, and every
    // handshake would then fail; check here so a bad reload is refused and the old one kept.
    if (!new X509Certificate(options.cert as string | Buffer).checkPrivateKey(createPrivateKey(options.key as string | Buffer))) {
      failNet('NET_INVALID_OPTION', `option ${name}.key does not belong to ${name}.cert`);
    }
    createSecureContext(options);
  } catch (error) {
    if (error instanceof NetError) throw error;
    failNet('NET_INVALID_OPTION', `option ${name} is not usable TLS material: ${describeCause(error)}`, error);
  }
  return options;
}

function socketKey(socket: Socket): string | null {
  const { remoteAddress, remotePort } = socket;
  return remoteAddress === undefined || remotePort === undefined ? null : `${remoteAddress}|${remotePort}`;
}

/** checkServerIdentity must return an Error whose `code` Node reports as the failure's code. */
function withCode(error: NetError): Error {
  return Object.assign(new Error(error.message), { code: String(error.detail?.tlsCode ?? 'UNKNOWN') });
}
