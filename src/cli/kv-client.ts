// The client library (src/client) as the CLI uses it: a SynodClient from the common flags
// (endpoints, TLS, credentials), its errors turned into one-line CLI errors, and values printed
// the way `synod kv get` prints them.
import { SynodClient, SynodError } from '../client/index.js';
import { CliError } from './errors.js';
import { connectionOf, type CommonFlags } from './kv.js';

export function clientOf(flags: CommonFlags, extra: { retryForMs?: number } = {}): SynodClient {
  const { endpoints, options } = connectionOf(flags);
  return new SynodClient({ endpoints, ...(options.tls === undefined ? {} : { tls: options.tls }), ...(options.headers === undefined ? {} : { headers: options.headers }), ...extra });
}

/**
 * Runs `body` with a client; a SynodError becomes a CliError: exit 2 for input the client refused
 * before sending anything, 1 for everything the cluster answered or could not (as `expectOk`).
 */
export async function withClient<T>(flags: CommonFlags, body: (client: SynodClient) => Promise<T>, extra: { retryForMs?: number } = {}): Promise<T> {
  const client = clientOf(flags, extra);
  try {
    return await body(client);
  } catch (err) {
    if (err instanceof SynodError) throw new CliError(err.code, err.message, err.status === 0 && err.code.startsWith('BAD_') ? 2 : 1);
    throw err;
  } finally {
    client.close();
  }
}

/** A value as `synod kv get` prints it: strings as they are (quoted if they hold control characters), anything else as JSON. */
export function shownValue(value: unknown): string {
  if (typeof value === 'string') return hasControl(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value) ?? 'null';
}

/** A key in a line of output: as it is, or quoted when it holds spaces or control characters (so the line stays readable). */
export function shownKey(key: string): string {
  return /[\s"]/.test(key) || hasControl(key) ? JSON.stringify(key) : key;
}

function hasControl(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f-\u009f]/.test(text);
}
