// Browser-facing checks that run before routing, on the node API and on the supervisor's control
// API: a web page on another origin must not drive the cluster (cross-origin requests carry an
// Origin header we do not allow), and DNS rebinding must not either (it reaches us with a Host
// header naming the attacker's domain). Clients that are not browsers send neither problem.
import { isIP } from 'node:net';
import { HttpError, type RequestGuard } from './http.js';

export interface OriginPolicy {
  /** Host names (no port) accepted in the Host header besides IP literals and "localhost". */
  readonly allowedHosts?: readonly string[];
  /** Origins ("http://host:port") whose pages may send requests; compared exactly, case-insensitively. */
  readonly allowedOrigins?: readonly string[];
  /** Told of each refusal, for metrics. */
  readonly onRefused?: (reason: 'host' | 'origin') => void;
  /** How to allow more, for the refusal's message (the node's flags, say). */
  readonly hint?: string;
}

/** The host name of a Host header value ("a.b:80", "[::1]:7001", "10.0.0.1"), lower-cased; undefined if malformed. */
export function hostNameOf(hostHeader: string): string | undefined {
  const text = hostHeader.trim().toLowerCase();
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return undefined;
    const rest = text.slice(close + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined;
    return text.slice(1, close);
  }
  const m = /^([^:]+)(:\d{1,5})?$/.exec(text);
  return m === null ? undefined : (m[1] as string);
}

export function originGuard(policy: OriginPolicy): RequestGuard {
  const hosts = new Set((policy.allowedHosts ?? []).map((h) => h.toLowerCase()));
  const origins = new Set((policy.allowedOrigins ?? []).map((o) => o.toLowerCase().replace(/\/$/, '')));
  return (request) => {
    const host = request.headers.get('host');
    if (host !== undefined) {
      const name = hostNameOf(host);
      // IP literals and localhost cannot be rebound to us by someone else's DNS
      const allowed = name !== undefined && (isIP(name) !== 0 || name === 'localhost' || hosts.has(name));
      if (!allowed) {
        policy.onRefused?.('host');
        throw new HttpError(403, 'HOST_NOT_ALLOWED', `requests for host ${JSON.stringify(host.slice(0, 100))} are refused (DNS rebinding protection); use an IP address or localhost${policy.hint === undefined ? '' : `, or ${policy.hint}`}`);
      }
    }
    const origin = request.headers.get('origin');
    if (origin !== undefined && !origins.has(origin.toLowerCase())) {
      policy.onRefused?.('origin');
      throw new HttpError(403, 'ORIGIN_NOT_ALLOWED', `requests from web pages at ${JSON.stringify(origin.slice(0, 100))} are refused${policy.hint === undefined ? '' : `; ${policy.hint}`}`);
    }
  };
}
