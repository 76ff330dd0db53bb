// A small HTTP client for the node API, used by the CLI commands: tries each endpoint in turn
// until one answers, and turns the API's JSON errors into one-line CLI errors.
import { request } from 'node:http';
import { CliError } from './errors.js';

export interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly endpoint: string;
}

export const DEFAULT_ENDPOINTS = 'http://127.0.0.1:7001,http://127.0.0.1:7002,http://127.0.0.1:7003';

export function parseEndpoints(text: string): string[] {
  const list = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const e of list) {
    let url: URL;
    try {
      url = new URL(e);
    } catch {
      throw new CliError('BAD_ENDPOINT', `bad endpoint "${e}" (expected e.g. http://127.0.0.1:7001)`);
    }
    if (url.protocol !== 'http:') throw new CliError('BAD_ENDPOINT', `bad endpoint "${e}": only http:// is supported`);
  }
  if (list.length === 0) throw new CliError('BAD_ENDPOINT', 'no endpoints given');
  return list;
}

function once(endpoint: string, method: string, path: string, body: unknown, timeoutMs: number): Promise<ApiAnswer> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(new URL(path, endpoint), { method, timeout: timeoutMs, headers: data === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // metrics and other text answers stay text
        }
        resolve({ status: res.statusCode ?? 0, body: parsed, endpoint });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

/** Calls the first endpoint that answers at all (any HTTP status); fails when none does. */
export async function callApi(endpoints: readonly string[], method: string, path: string, body?: unknown, timeoutMs = 10_000): Promise<ApiAnswer> {
  const failures: string[] = [];
  for (const endpoint of endpoints) {
    try {
      return await once(endpoint, method, path, body, timeoutMs);
    } catch (err) {
      failures.push(`${endpoint}: ${(err as Error).message}`);
    }
  }
  throw new CliError('UNREACHABLE', `no endpoint answered (${failures.join('; ')})`, 1);
}

/** The body of a 2xx answer; otherwise a CliError carrying the API's error code and message. */
export function expectOk(answer: ApiAnswer): unknown {
  if (answer.status >= 200 && answer.status < 300) return answer.body;
  const err = (answer.body as { error?: { code?: string; message?: string } } | null)?.error;
  throw new CliError(err?.code ?? `HTTP_${answer.status}`, `${err?.message ?? `HTTP ${answer.status}`} (from ${answer.endpoint})`, 1);
}
