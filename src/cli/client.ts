// What the CLI commands add to the node client (src/supervisor/node-client.ts): endpoints from flags
// or the cluster file, and the API's JSON errors turned into one-line CLI errors.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CliError } from './errors.js';
import type { ApiAnswer } from '../supervisor/node-client.js';

export const DEFAULT_ENDPOINTS = 'http://127.0.0.1:7001,http://127.0.0.1:7002,http://127.0.0.1:7003';
/** Where `npm start` (synod cluster up) keeps its cluster by default, relative to the working directory. */
export const DEFAULT_CLUSTER_FILE = join('synod-data', 'cluster.json');

export function parseEndpoints(text: string): string[] {
  const list = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const e of list) {
    let url: URL;
    try {
      url = new URL(e);
    } catch {
      throw new CliError('BAD_ENDPOINT', `bad endpoint "${e}" (expected e.g. https://127.0.0.1:7001)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError('BAD_ENDPOINT', `bad endpoint "${e}": only http:// and https:// are supported`);
  }
  if (list.length === 0) throw new CliError('BAD_ENDPOINT', 'no endpoints given');
  return list;
}

/** The body of a 2xx answer; otherwise a CliError carrying the API's error code and message. */
export function expectOk(answer: ApiAnswer): unknown {
  if (answer.status >= 200 && answer.status < 300) return answer.body;
  const err = (answer.body as { error?: { code?: string; message?: string } } | null)?.error;
  throw new CliError(err?.code ?? `HTTP_${answer.status}`, `${err?.message ?? `HTTP ${answer.status}`} (from ${answer.endpoint})`, 1);
}

/** Whether an error answer says the request certainly did not take effect, so another endpoint may be tried. */
export function safeToRetry(answer: ApiAnswer): boolean {
  const err = (answer.body as { error?: { safeToRetry?: unknown } } | null)?.error;
  return err?.safeToRetry === true;
}

/** What a cluster file (synod-data/cluster.json) tells a client: the endpoints and the CA. */
export interface ClusterFileClientView {
  readonly endpoints: string[];
  readonly caFile?: string;
}

/** Reads endpoints and CA from a cluster file, if it exists; undefined when there is none. */
export function readClusterFileForClient(path: string): ClusterFileClientView | undefined {
  if (!existsSync(path)) return undefined;
  let file: { members?: Record<string, { client?: string }>; tls?: { caFile?: string } };
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as typeof file;
  } catch (err) {
    throw new CliError('BAD_CONFIG', `cannot read ${path}: ${(err as Error).message}`);
  }
  const endpoints = Object.values(file.members ?? {}).map((m) => m.client).filter((c): c is string => typeof c === 'string');
  if (endpoints.length === 0) return undefined;
  const caFile = file.tls?.caFile === undefined ? undefined : resolve(dirname(path), file.tls.caFile);
  return { endpoints, ...(caFile === undefined ? {} : { caFile }) };
}
