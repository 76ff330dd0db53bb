// Forwarding a request from a follower to the leader, following leadership changes: when this
// node learns of a newer leader while a forward waits on the old one (paused, partitioned), the
// forward is abandoned, and redirected to the new leader when that cannot apply a write twice.
// Errors say whether the request can have taken effect, so clients know when a retry is safe.
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { SecureContextOptions } from 'node:tls';
import { HttpError, type ApiRequest, type ApiResponse } from './http.js';

/** Marks a forwarded request, so the node it reaches answers it or refuses (never forwards again). */
export const FORWARDED_HEADER = 'x-synod-forwarded';
/** How many times one request may be redirected to a newer leader. */
const MAX_REDIRECTS = 3;
/** Answers by which a leader says it no longer leads (so a safe request may follow the next one). */
const STEPPED_DOWN_CODES: ReadonlySet<string> = new Set(['LEADERSHIP_LOST', 'NOT_LEADER', 'NO_LEADER']);
/** Headers a forward carries over from the client's request. */
const PASSED_HEADERS = ['authorization', 'content-type'] as const;

/** The leader as this node knows it, and word of changes. */
export interface LeaderWatch {
  leader(): string | null;
  /** Calls `listener` whenever this node's idea of the leader or term changes; returns a function that stops it. */
  onChange(listener: () => void): () => void;
}

export interface ForwarderOptions {
  readonly selfId: string;
  readonly clientUrl: (id: string) => string | undefined;
  readonly watch: LeaderWatch;
  readonly timeoutMs: number;
  /** TLS to the leader's client API: the CA to trust (and a client certificate when the API asks for one). */
  readonly tls?: () => SecureContextOptions;
  /** The Authorization header a forward carries (instead of the client's), for a caller this node authenticated. */
  readonly authorization?: (req: ApiRequest) => string | undefined;
}

/** What the forward did when it did not come back with the leader's answer. */
type ForwardFailure =
  | { readonly kind: 'unreachable'; readonly message: string } // never connected: nothing reached the leader
  | { readonly kind: 'leader-changed'; readonly newLeader: string; readonly connected: boolean }
  | { readonly kind: 'broken'; readonly message: string } // connected, then lost: outcome unknown
  | { readonly kind: 'timeout' };

export class Forwarder {
  private httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 256 });
  private httpsAgent: HttpsAgent | undefined;

  constructor(private readonly options: ForwarderOptions) {
    this.httpsAgent = this.makeHttpsAgent();
  }

  /** New TLS files (after a certificate reload): later forwards use them. */
  reloadTls(): void {
    this.httpsAgent?.destroy();
    this.httpsAgent = this.makeHttpsAgent();
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent?.destroy();
  }

  /**
   * Sends `req` to `leader` and returns its answer. `redirectSafe`: the request cannot take effect
   * twice (a read, or a write with a client session), so it may be sent to a newer leader even
   * after the old one may have received it. `local` answers it on this node (when it became leader).
   */
  async forward(req: ApiRequest, leader: string, redirectSafe: boolean, local: () => Promise<ApiResponse>, redirects = 0): Promise<ApiResponse> {
    const url = this.options.clientUrl(leader);
    if (url === undefined) throw new HttpError(503, 'NO_LEADER', 'no leader is known right now; retry shortly', { leaderHint: leader, safeToRetry: true });
    const outcome = await this.send(new URL(url), req, leader);
    if ('status' in outcome) {
      // the old leader stepped down before this node heard of its successor: wait for one (bounded)
      // and redirect, when that cannot apply the request twice
      const code = errorCode(outcome.body) ?? '';
      // NOT_LEADER and NO_LEADER are definite (the request was not taken); LEADERSHIP_LOST is not
      const redirectable = redirectSafe || code === 'NOT_LEADER' || code === 'NO_LEADER';
      if (!redirectable || redirects >= MAX_REDIRECTS || !STEPPED_DOWN_CODES.has(code)) return outcome;
      const next = await this.waitForLeaderOtherThan(leader);
      if (next === null) return outcome;
      return next === this.options.selfId ? local() : this.forward(req, next, redirectSafe, local, redirects + 1);
    }
    switch (outcome.kind) {
      case 'unreachable':
        throw new HttpError(503, 'LEADER_UNREACHABLE', `the leader (node ${leader}) could not be reached, so the request did not reach it: ${outcome.message}`, { leaderHint: leader, safeToRetry: true });
      case 'timeout':
        throw new HttpError(504, 'TIMEOUT', `the leader (node ${leader}) did not answer within ${this.options.timeoutMs} ms; the operation may or may not have taken effect`, { leaderHint: leader, safeToRetry: redirectSafe });
      case 'broken':
        throw new HttpError(503, 'FORWARD_FAILED', `the connection to the leader (node ${leader}) broke before it answered; the operation may or may not have taken effect: ${outcome.message}`, { leaderHint: leader, safeToRetry: redirectSafe });
      case 'leader-changed': {
        const safe = redirectSafe || !outcome.connected;
        if (safe && redirects < MAX_REDIRECTS) {
          return outcome.newLeader === this.options.selfId ? local() : this.forward(req, outcome.newLeader, redirectSafe, local, redirects + 1);
        }
        throw new HttpError(503, 'LEADER_CHANGED', `node ${outcome.newLeader} took over from node ${leader} while the request waited on it; the operation may or may not have taken effect (send writes with clientId and seq to make retries safe)`, { leaderHint: outcome.newLeader, safeToRetry: safe });
      }
    }
  }

  /** The next leader this node learns of that is not `old`, or null if none within the forward timeout. */
  private waitForLeaderOtherThan(old: string): Promise<string | null> {
    const known = this.options.watch.leader();
    if (known !== null && known !== old) return Promise.resolve(known);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(null), this.options.timeoutMs);
      const stop = this.options.watch.onChange(() => {
        const now = this.options.watch.leader();
        if (now !== null && now !== old) done(now);
      });
      function done(result: string | null): void {
        clearTimeout(timer);
        stop();
        resolve(result);
      }
    });
  }

  private send(url: URL, req: ApiRequest, leader: string): Promise<ApiResponse | ForwardFailure> {
    return new Promise((resolve) => {
      const data = req.body === undefined ? undefined : JSON.stringify(req.body);
      const headers: Record<string, string | number> = { [FORWARDED_HEADER]: this.options.selfId };
      for (const name of PASSED_HEADERS) {
        const value = req.headers.get(name);
        if (value !== undefined) headers[name] = value;
      }
      const authorization = this.options.authorization?.(req);
      if (authorization !== undefined) headers['authorization'] = authorization;
      if (data !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(data);
      }
      const https = url.protocol === 'https:';
      const options = { host: url.hostname, port: Number(url.port), method: req.method, path: req.target, headers, agent: https ? this.httpsAgent : this.httpAgent };
      // the target is sent as received (validated ASCII, no empty segments): never re-parsed, so
      // "%2e%2e" stays a key and cannot become "..", nor "//x" a host
      let out: ClientRequest;
      let connected = false;
      let settled = false;
      const finish = (result: ApiResponse | ForwardFailure): void => {
        if (settled) return;
        settled = true;
        stopWatching();
        clearTimeout(timer);
        resolve(result);
      };
      const stopWatching = this.options.watch.onChange(() => {
        const now = this.options.watch.leader();
        if (now === null || now === leader) return;
        finish({ kind: 'leader-changed', newLeader: now, connected });
        out.destroy();
      });
      const timer = setTimeout(() => {
        finish({ kind: 'timeout' });
        out.destroy();
      }, this.options.timeoutMs);
      try {
        out = (https ? httpsRequest : httpRequest)(options, (res) => this.readAnswer(res, finish));
      } catch (err) {
        finish({ kind: 'unreachable', message: (err as Error).message });
        return;
      }
      out.on('socket', (socket) => {
        // a pooled socket is connected already; a new one once its TCP (and TLS) handshake is done,
        // for only then can request bytes leave this node
        if (out.reusedSocket) connected = true;
        else socket.once(https ? 'secureConnect' : 'connect', () => (connected = true));
      });
      out.on('error', (err) => finish(connected ? { kind: 'broken', message: err.message } : { kind: 'unreachable', message: err.message }));
      if (data !== undefined) out.write(data);
      out.end();
    });
  }

  private readAnswer(res: IncomingMessage, finish: (r: ApiResponse | ForwardFailure) => void): void {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('error', (err) => finish({ kind: 'broken', message: err.message }));
    res.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = { error: { code: 'BAD_GATEWAY', message: 'the leader answered with something that is not JSON', safeToRetry: false } };
        return finish({ status: 502, body });
      }
      finish({ status: res.statusCode ?? 502, body });
    });
  }

  private makeHttpsAgent(): HttpsAgent | undefined {
    const tls = this.options.tls;
    return tls === undefined ? undefined : new HttpsAgent({ keepAlive: true, maxSockets: 256, ...tls() });
  }
}

function errorCode(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const error = (body as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
