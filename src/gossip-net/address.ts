// Node ids of gossip agents are their advertised address "host:port" (UDP and TCP on the same
// port). This is the one parser of that form, used on `send` and on every received envelope, so
// both ends agree on what a valid id is.

/** An id is at most this long, like a gossip node id (src/gossip MAX_ID_LENGTH). */
export const MAX_ADDRESS_CHARS = 200;

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

// IPv4 literals and host names only: the sockets are udp4 (an IPv6 literal would need brackets
// and a udp6 socket)
const HOST = /^[A-Za-z0-9._-]+$/;
const PORT = /^[0-9]{1,5}$/;

/** `host:port` split and checked (port 1–65535), or undefined for anything else. */
export function parseAddress(text: unknown): PeerAddress | undefined {
  if (typeof text !== 'string' || text.length < 3 || text.length > MAX_ADDRESS_CHARS) return undefined;
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (!HOST.test(host) || !PORT.test(portText)) return undefined;
  const port = Number(portText);
  return port >= 1 && port <= 65_535 ? { host, port } : undefined;
}

export function formatAddress(address: PeerAddress): string {
  return `${address.host}:${address.port}`;
}
