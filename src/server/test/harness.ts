// Test harness for real node processes: a local cluster started from source, an HTTP client
// that records every operation into a history for the linearizability checker, and helpers to
// wait for leaders and conditions.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalCluster, type ClusterHandle } from '../../supervisor/index.js';
import { reservePortBlock } from './port-block.js';
import { HistoryRecorder, type JsonValue, type Outcome } from '../../sim/index.js';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export { synodCommand, tsxCommand } from './synod-command.js';
import { synodCommand } from './synod-command.js';


/** Processes a test started itself; killed when the test process exits, however it exits. */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Remembers a process the test started, so that it never outlives the test run (even on a timeout). */
export function trackChild<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** A test's cluster: `cleanup({ keepPorts: true })` stops it but keeps its ports for a cluster restored on them. */
export interface TestClusterHandle extends ClusterHandle {
  cleanup(options?: { readonly keepPorts?: boolean }): Promise<void>;
  releasePorts(): void;
}

export async function startTestCluster(nodes: number, service?: string, serviceOptions?: Record<string, JsonValue>): Promise<TestClusterHandle> {
  const dataDir = mkdtempSync(join(tmpdir(), 'synod-real-'));
  const ports = await reservePortBlock();
  let handle: ClusterHandle;
  try {
    handle = await startLocalCluster({ ...(service === undefined ? {} : { service }), ...(serviceOptions === undefined ? {} : { serviceOptions }), nodes, dataDir, basePort: ports.base, faultInjection: true, logLevel: 'warn', command: synodCommand });
  } catch (err) {
    ports.release();
    throw err;
  }
  if (handle.clientTls.ca !== undefined) trustCa(handle.clientTls.ca);
  // a leader is not enough: under load a node may still be starting
  for (const url of Object.values(handle.endpoints)) await waitUntil(`${url} to answer`, async () => (await statusOf(url)) !== undefined, 30_000);
  return {
    ...handle,
    cleanup: async (options: { readonly keepPorts?: boolean } = {}) => {
      await handle.stop();
      if (options.keepPorts !== true) ports.release();
      rmSync(dataDir, { recursive: true, force: true });
    },
    releasePorts: () => ports.release(),
  };
}

export interface HttpAnswer {
  readonly status: number;
  readonly body: { result?: Record<string, JsonValue>; error?: { code: string }; [k: string]: unknown };
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });
/** CAs of the clusters this test process started: https:// requests trust them. */
const trusted: Buffer[] = [];
let httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 64 });

export function trustCa(ca: Buffer): void {
  trusted.push(ca);
  httpsAgent.destroy();
  httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 64, ca: trusted });
}

/** The CAs trusted so far (for clients a test builds itself). */
export function trustedCas(): readonly Buffer[] {
  return trusted;
}

export function http(method: string, url: string, body?: unknown, timeoutMs = 3000): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const https = url.startsWith('https:');
    const send = https ? httpsRequest : request;
    const req = send(url, { method, agent: https ? httpsAgent : agent, timeout: timeoutMs, headers: data === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as HttpAnswer['body'] });
        } catch (err) {
          reject(err as Error);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

/** An answer with its headers (httpCall). */
export interface HttpCallAnswer extends HttpAnswer {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/**
 * A request with headers (credentials) and, for https://, an optional client certificate; the
 * answer's body parsed as JSON when it is JSON, else `{ text }`.
 */
export function httpCall(method: string, url: string, o: { body?: unknown; headers?: Readonly<Record<string, string>>; timeoutMs?: number; clientCert?: { cert: Buffer | string; key: Buffer | string } } = {}): Promise<HttpCallAnswer> {
  return new Promise((resolve, reject) => {
    const data = o.body === undefined ? undefined : JSON.stringify(o.body);
    const https = url.startsWith('https:');
    const headers = { ...o.headers, ...(data === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(data)) }) };
    const tlsOptions = o.clientCert === undefined ? { agent: httpsAgent } : { ca: [...trusted], cert: o.clientCert.cert, key: o.clientCert.key, agent: false as const };
    const onAnswer = (res: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: HttpAnswer['body'];
        try {
          body = JSON.parse(text) as HttpAnswer['body'];
        } catch {
          body = { text };
        }
        resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
      });
    };
    const req = https ? httpsRequest(url, { method, timeout: o.timeoutMs ?? 5000, headers, ...tlsOptions }, onAnswer) : request(url, { method, agent, timeout: o.timeoutMs ?? 5000, headers }, onAnswer);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

export async function statusOf(endpoint: string): Promise<{ id: string; role: string; term: number; leader: string | null; commit: number; applied: number; voters: string[]; learners: string[] } | undefined> {
  try {
    const a = await http('GET', `${endpoint}/v1/status`, undefined, 500);
    return a.status === 200 ? (a.body as unknown as Awaited<ReturnType<typeof statusOf>>) : undefined;
  } catch {
    return undefined;
  }
}

export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The id of the node that leads, as seen by the given endpoints (ignoring the excluded ones). */
export async function leaderAmong(endpoints: Record<string, string>, exclude: readonly string[] = []): Promise<string> {
  let leader = '';
  await waitUntil('a leader', async () => {
    for (const [id, url] of Object.entries(endpoints)) {
      if (exclude.includes(id)) continue;
      const s = await statusOf(url);
      if (s?.role === 'leader') {
        leader = id;
        return true;
      }
    }
    return false;
  });
  return leader;
}

/**
 * Writes and reads through the HTTP API and records each operation for the kv model:
 * 200 is ok; a definite refusal (4xx, no leader known) is fail; anything else (timeouts, a node
 * dying mid-request) is unknown for writes. Reads that fail have no effect and count as fail.
 */
export class RecordingClient {
  readonly history = new HistoryRecorder();
  private readonly t0 = performance.now();

  constructor(private readonly endpoints: readonly string[]) {}

  private now(): number {
    return performance.now() - this.t0;
  }

  async put(process: string, key: string, value: JsonValue, endpoint = this.pick()): Promise<Outcome> {
    const index = this.history.invoke(process, 'put', { key, value }, this.now());
    const outcome = await this.call('PUT', `${endpoint}/v1/kv/${encodeURIComponent(key)}`, { value }, true);
    this.history.complete(index, outcome.outcome, null, this.now());
    return outcome.outcome;
  }

  async get(process: string, key: string, endpoint = this.pick()): Promise<{ outcome: Outcome; value: JsonValue }> {
    const index = this.history.invoke(process, 'get', { key }, this.now());
    const r = await this.call('GET', `${endpoint}/v1/kv/${encodeURIComponent(key)}`, undefined, false);
    const value = (r.answer?.body.result?.['value'] ?? null) as JsonValue;
    this.history.complete(index, r.outcome, value, this.now());
    return { outcome: r.outcome, value };
  }

  /**
   * Reads each key (recorded as process "final"), trying the endpoints in turn for up to 60 tries
   * 100 ms apart (a node restarted a moment ago may not serve yet); returns the keys that never
   * read back a value, with their last answer.
   */
  async unreadable(keys: readonly string[], endpoints: readonly string[]): Promise<{ key: string; outcome: Outcome; value: JsonValue }[]> {
    const missing: { key: string; outcome: Outcome; value: JsonValue }[] = [];
    for (const key of keys) {
      let r = await this.get('final', key, endpoints[0]);
      for (let attempt = 1; r.outcome !== 'ok' && attempt < 60; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        r = await this.get('final', key, endpoints[attempt % endpoints.length]);
      }
      if (r.outcome !== 'ok' || r.value === null) missing.push({ key, ...r });
    }
    return missing;
  }

  private pick(): string {
    return this.endpoints[Math.floor(Math.random() * this.endpoints.length)] as string;
  }

  private async call(method: string, url: string, body: unknown, isWrite: boolean): Promise<{ outcome: Outcome; answer?: HttpAnswer }> {
    try {
      const answer = await http(method, url, body, 3000);
      if (answer.status === 200) return { outcome: 'ok', answer };
      const definite = answer.status === 400 || answer.body.error?.code === 'NO_LEADER' || answer.body.error?.code === 'NOT_LEADER';
      return { outcome: !isWrite || definite ? 'fail' : 'unknown', answer };
    } catch {
      return { outcome: isWrite ? 'unknown' : 'fail' };
    }
  }
}
