// Client commands against a running cluster: `synod kv get|put|del|cas|incr|list|compact`,
// `synod status`, `synod member add|remove|promote`, `synod leader transfer`. Each takes
// --endpoints and --json, prints one clear line on failure and exits non-zero.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { callApi, encodeSegment, type ApiAnswer, type CallOptions } from '../supervisor/node-client.js';
import { DEFAULT_CLUSTER_FILE, DEFAULT_ENDPOINTS, expectOk, parseEndpoints, readClusterFileForClient, safeToRetry } from './client.js';
import { CliError } from './errors.js';
import { parseIntOption, parseLeaseId } from './options.js';

export interface CommonFlags {
  endpoints?: string;
  json?: boolean;
  cacert?: string;
  cert?: string;
  key?: string;
  user?: string;
  passwordStdin?: boolean;
}

export function common(cmd: Command): Command {
  return cmd
    .option('--endpoints <urls>', `comma-separated node URLs (default: env SYNOD_ENDPOINTS, else the members in ./${DEFAULT_CLUSTER_FILE}, else ${DEFAULT_ENDPOINTS})`)
    .option('--cacert <file>', `CA certificate to trust for https endpoints (default: env SYNOD_CACERT, else the CA named in ./${DEFAULT_CLUSTER_FILE})`)
    .option('--cert <file>', 'client certificate, for nodes that ask for one; with authentication on, its name is the user (or env SYNOD_CERT)')
    .option('--key <file>', 'key of the client certificate (or env SYNOD_KEY)')
    .option('--user <name>', 'authenticate as this user (or env SYNOD_USER); the password comes from env SYNOD_PASSWORD, --password-stdin, or NAME:PASSWORD')
    .option('--password-stdin', 'read the password from the first line of standard input')
    .option('--json', 'print the raw JSON answer');
}

/** Where and how to reach the cluster, from flags, then the environment, then the local cluster file. */
export function connectionOf(flags: CommonFlags): { endpoints: string[]; options: CallOptions } {
  const local = readClusterFileForClient(DEFAULT_CLUSTER_FILE);
  const endpointsText = flags.endpoints ?? process.env['SYNOD_ENDPOINTS'] ?? local?.endpoints.join(',') ?? DEFAULT_ENDPOINTS;
  const caFile = flags.cacert ?? process.env['SYNOD_CACERT'] ?? local?.caFile;
  const certFile = flags.cert ?? process.env['SYNOD_CERT'];
  const keyFile = flags.key ?? process.env['SYNOD_KEY'];
  if ((certFile === undefined) !== (keyFile === undefined)) throw new CliError('BAD_OPTION', '--cert and --key go together');
  const read = (file: string, flag: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new CliError('BAD_OPTION', `cannot read ${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const tls = {
    ...(caFile === undefined ? {} : { ca: read(caFile, '--cacert') }),
    ...(certFile === undefined || keyFile === undefined ? {} : { cert: read(certFile, '--cert'), key: read(keyFile, '--key') }),
  };
  const authorization = authorizationOf(flags);
  return { endpoints: parseEndpoints(endpointsText), options: { tls, ...(authorization === undefined ? {} : { headers: { authorization } }) } };
}

let stdinPassword: string | undefined;

/** HTTP Basic credentials from --user (NAME or NAME:PASSWORD), SYNOD_USER and SYNOD_PASSWORD or --password-stdin. */
function authorizationOf(flags: CommonFlags): string | undefined {
  const userText = flags.user ?? process.env['SYNOD_USER'];
  if (userText === undefined) return undefined;
  const colon = userText.indexOf(':');
  const name = colon < 0 ? userText : userText.slice(0, colon);
  let password = colon < 0 ? undefined : userText.slice(colon + 1);
  if (password === undefined && flags.passwordStdin === true) {
    stdinPassword ??= (readFileSync(0, 'utf8').split(/\r?\n/, 1)[0] ?? '');
    password = stdinPassword;
  }
  password ??= process.env['SYNOD_PASSWORD'];
  if (password === undefined) throw new CliError('BAD_OPTION', `no password for ${name}: set SYNOD_PASSWORD, pass --password-stdin, or --user ${name}:PASSWORD`);
  return `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`;
}

/** A value on the command line: JSON when it parses (5, true, {"a":1}), else the text itself. */
export function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * A key from the command line, as a path segment. Node reads arguments as UTF-8 and turns bytes
 * that are not UTF-8 into U+FFFD, so two different byte strings would name one key: refused.
 */
export function keySegment(key: string): string {
  if (key.includes('\uFFFD')) throw new CliError('BAD_KEY', `the key ${JSON.stringify(key)} holds U+FFFD: the shell passed bytes that are not UTF-8 (keys are Unicode text), or the key really holds U+FFFD, which the command line cannot tell apart`);
  if (key.length === 0) throw new CliError('BAD_KEY', 'the key is empty');
  return encodeSegment(key);
}

const enc = keySegment;

/** How long a command keeps retrying when the cluster says a retry is safe (no leader yet, leader changed). */
const RETRY_FOR_MS = 10_000;

/**
 * Sends a request, retrying on another endpoint while the answer says the request certainly did
 * not take effect (safeToRetry), or it is a write with a session (a retry applies at most once).
 */
async function send(flags: CommonFlags, method: string, path: string, body: unknown): Promise<ApiAnswer> {
  const { endpoints, options } = connectionOf(flags);
  const deadline = Date.now() + RETRY_FOR_MS;
  let order = endpoints;
  for (let attempt = 0; ; attempt++) {
    const answer = await callApi(order, method, path, body, 10_000, options);
    const retryable = answer.status >= 500 && (safeToRetry(answer) || hasSession(body));
    if (!retryable || Date.now() >= deadline) return answer;
    order = [...order.slice(1), order[0] as string];
    await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 1000)));
  }
}

function hasSession(body: unknown): boolean {
  return typeof body === 'object' && body !== null && typeof (body as { clientId?: unknown }).clientId === 'string';
}

/** `?revision=N&consistency=serializable` from a read's flags ('' when neither is given). */
function readQuery(f: { serializable?: boolean; rev?: string }): string {
  const q = new URLSearchParams();
  if (f.rev !== undefined) q.set('revision', String(parseIntOption('--rev', f.rev, 1, Number.MAX_SAFE_INTEGER)));
  if (f.serializable === true) q.set('consistency', 'serializable');
  const text = q.toString();
  return text === '' ? '' : `?${text}`;
}

/** A one-off client session, so that the command may be retried without applying twice. */
export function session(): { clientId: string; seq: number } {
  return { clientId: `cli-${randomBytes(9).toString('base64url')}`, seq: 1 };
}

export async function run(flags: CommonFlags, method: string, path: string, body: unknown, human: (result: unknown) => string): Promise<void> {
  const result = expectOk(await send(flags, method, path, body));
  process.stdout.write((flags.json === true ? JSON.stringify(result) : human(result)) + '\n');
}

type Res = { result?: Record<string, unknown> };
const field = (r: unknown, name: string): unknown => (r as Res).result?.[name];

export function registerKvCommands(program: Command): void {
  const kv = program.command('kv').description('read and write keys in a running cluster');
  common(kv.command('get <key>').description('read a key (linearizable unless --serializable)').option('--serializable', 'answer from the contacted node, possibly stale').option('--rev <n>', 'read as of revision n (a past revision still kept; see kv compact)')).action(
    (key: string, f: CommonFlags & { serializable?: boolean; rev?: string }) =>
      run(f, 'GET', `/v1/kv/${enc(key)}${readQuery(f)}`, undefined, (r) => {
        const value = field(r, 'value');
        if (value === null || value === undefined) throw new CliError('NOT_FOUND', `key "${key}" does not exist`, 1);
        return typeof value === 'string' ? value : JSON.stringify(value);
      }),
  );
  common(
    kv
      .command('put <key> <value>')
      .description('write a key (value parsed as JSON when possible)')
      .option('--lease <id>', 'attach the key to this lease: it is deleted when the lease is revoked or runs out (a put without --lease detaches it)'),
  ).action((key: string, value: string, f: CommonFlags & { lease?: string }) => {
    const lease = f.lease === undefined ? undefined : parseLeaseId(f.lease);
    return run(f, 'PUT', `/v1/kv/${enc(key)}`, { value: parseValue(value), ...(lease === undefined ? {} : { lease }), ...session() }, (r) => {
      if (field(r, 'error') === 'lease-not-found') throw new CliError('LEASE_NOT_FOUND', `lease ${String(lease)} does not exist (revoked, expired or never granted): nothing written`, 1);
      return `OK (revision ${String(field(r, 'revision'))})`;
    });
  });
  common(kv.command('del <key>').description('delete a key, or every key under a prefix (--prefix) or in [key, end) (--end)').option('--prefix', 'delete every key starting with <key> ("" for all keys)').option('--end <end>', 'delete the keys in [<key>, <end>)')).action((key: string, f: CommonFlags & { prefix?: boolean; end?: string }) => {
    if (f.prefix !== true && f.end === undefined) return run(f, 'DELETE', `/v1/kv/${enc(key)}`, session(), (r) => (field(r, 'deleted') === true ? 'deleted' : 'no such key'));
    if (f.prefix === true && f.end !== undefined) throw new CliError('BAD_OPTION', '--prefix and --end do not go together');
    const q = new URLSearchParams(f.prefix === true ? { prefix: key } : { start: key, end: f.end as string });
    return run(f, 'DELETE', `/v1/kv?${q.toString().replaceAll('+', '%20')}`, session(), (r) => `${String(field(r, 'deleted'))} deleted (revision ${String(field(r, 'revision'))})`);
  });
  common(kv.command('cas <key> <from> <to>').description('set to <to> only if the value is <from> (use null for "absent")')).action((key: string, from: string, to: string, f: CommonFlags) =>
    run(f, 'POST', `/v1/kv/${enc(key)}/cas`, { from: parseValue(from), to: parseValue(to), ...session() }, (r) => {
      if (field(r, 'swapped') !== true) throw new CliError('CAS_FAILED', `key "${key}" did not hold ${from}: not swapped`, 1);
      return 'swapped';
    }),
  );
  common(kv.command('incr <key> [by]').description('add a number (default 1); an absent key counts as 0')).action((key: string, by: string | undefined, f: CommonFlags) => {
    const amount = by === undefined ? 1 : Number(by);
    if (!Number.isFinite(amount)) throw new CliError('BAD_OPTION', `"${by ?? ''}" is not a number`);
    return run(f, 'POST', `/v1/kv/${enc(key)}/incr`, { by: amount, ...session() }, (r) => {
      if (field(r, 'error') === 'not-a-number') throw new CliError('NOT_A_NUMBER', `key "${key}" does not hold a number`, 1);
      return String(field(r, 'value'));
    });
  });
  common(kv.command('list').description('list keys').option('--prefix <p>', 'only keys starting with p').option('--limit <n>', 'at most n keys', '100').option('--rev <n>', 'as of revision n (a past revision still kept)')).action(
    (f: CommonFlags & { prefix?: string; limit: string; rev?: string }) => {
      const limit = parseIntOption('--limit', f.limit, 1, 10_000);
      const q = new URLSearchParams({ limit: String(limit), ...(f.prefix === undefined ? {} : { prefix: f.prefix }), ...(f.rev === undefined ? {} : { revision: String(parseIntOption('--rev', f.rev, 1, Number.MAX_SAFE_INTEGER)) }) });
      return run(f, 'GET', `/v1/kv?${q.toString()}`, undefined, (r) => {
        const items = (field(r, 'items') ?? []) as { key: string; value: unknown }[];
        return items.map((i) => `${i.key} = ${typeof i.value === 'string' ? i.value : JSON.stringify(i.value)}`).join('\n') + (field(r, 'more') === true ? '\n...' : '');
      });
    },
  );

  common(kv.command('compact <revision>').description('forget the history before a revision (reads and watches below it get COMPACTED)')).action((revision: string, f: CommonFlags) =>
    run(f, 'POST', '/v1/compact', { revision: parseIntOption('<revision>', revision, 1, Number.MAX_SAFE_INTEGER), ...session() }, (r) => `compacted: history before revision ${String(field(r, 'compactRevision'))} is gone (current revision ${String(field(r, 'revision'))})`),
  );

  common(program.command('status').description('show every node\'s role, term, leader and indexes')).action(async (f: CommonFlags) => {
    const rows: unknown[] = [];
    const { endpoints, options } = connectionOf(f);
    for (const endpoint of endpoints) {
      try {
        rows.push({ endpoint, ...(expectOk(await callApi([endpoint], 'GET', '/v1/status', undefined, 2000, options)) as object) });
      } catch (err) {
        rows.push({ endpoint, error: (err as Error).message });
      }
    }
    if (f.json === true) return void process.stdout.write(JSON.stringify(rows) + '\n');
    for (const r of rows as Record<string, unknown>[]) {
      process.stdout.write(r['error'] !== undefined ? `${String(r['endpoint'])}: unreachable\n` : `node ${String(r['id'])} ${String(r['role']).padEnd(9)} term ${String(r['term'])} leader ${String(r['leader'] ?? '-')} commit ${String(r['commit'])} applied ${String(r['applied'])} last ${String(r['lastIndex'])} voters [${String(r['voters'])}] learners [${String(r['learners'])}]\n`);
    }
    if (rows.every((r) => (r as { error?: string }).error !== undefined)) throw new CliError('UNREACHABLE', 'no node answered', 1);
  });

  const member = program.command('member').description('change the cluster\'s membership');
  common(member.command('add <id>').description('add a node as a learner (it catches up before promotion)').requiredOption('--peer <host:port>', 'its peer address').requiredOption('--client <url>', 'its client address (https://host:port, or host:port for http)')).action(
    (id: string, f: CommonFlags & { peer: string; client: string }) => run(f, 'POST', '/v1/members', { id, peer: f.peer, client: /^https?:\/\//.test(f.client) ? f.client : `http://${f.client}` }, () => `node ${id} added as a learner`),
  );
  common(member.command('promote <id>').description('make a caught-up learner a voter')).action((id: string, f: CommonFlags) =>
    run(f, 'POST', `/v1/members/${enc(id)}/promote`, undefined, () => `node ${id} is a voter`),
  );
  common(member.command('remove <id>').description('remove a node from the cluster')).action((id: string, f: CommonFlags) =>
    run(f, 'DELETE', `/v1/members/${enc(id)}`, undefined, () => `node ${id} removed`),
  );
  common(member.command('list').description('list the voters and learners with their addresses')).action((f: CommonFlags) =>
    run(f, 'GET', '/v1/members', undefined, (r) =>
      ((r as { members?: { id: string; role: string; peer: string | null; client: string | null }[] }).members ?? [])
        .map((m) => `${m.id.padEnd(6)} ${m.role.padEnd(8)} peer ${m.peer ?? '?'}  client ${m.client ?? '?'}`)
        .join('\n'),
    ),
  );
  const leader = program.command('leader').description('leadership');
  common(leader.command('transfer').description('hand leadership to another voter').requiredOption('--to <id>', 'the new leader')).action((f: CommonFlags & { to: string }) =>
    run(f, 'POST', '/v1/leader/transfer', { to: f.to }, () => `leadership transferred to ${f.to}`),
  );
}
