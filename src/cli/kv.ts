// Client commands against a running cluster: `synod kv get|put|del|cas|incr|list`,
// `synod status`, `synod member add|remove|promote`, `synod leader transfer`. Each takes
// --endpoints and --json, prints one clear line on failure and exits non-zero.
import type { Command } from 'commander';
import { callApi, DEFAULT_ENDPOINTS, expectOk, parseEndpoints } from './client.js';
import { CliError } from './errors.js';
import { parseIntOption } from './options.js';

interface CommonFlags {
  endpoints: string;
  json?: boolean;
}

function common(cmd: Command): Command {
  return cmd.option('--endpoints <urls>', 'comma-separated node URLs (or env SYNOD_ENDPOINTS)', process.env['SYNOD_ENDPOINTS'] ?? DEFAULT_ENDPOINTS).option('--json', 'print the raw JSON answer');
}

/** A value on the command line: JSON when it parses (5, true, {"a":1}), else the text itself. */
export function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const enc = encodeURIComponent;

async function run(flags: CommonFlags, method: string, path: string, body: unknown, human: (result: unknown) => string): Promise<void> {
  const answer = await callApi(parseEndpoints(flags.endpoints), method, path, body);
  const result = expectOk(answer);
  process.stdout.write((flags.json === true ? JSON.stringify(result) : human(result)) + '\n');
}

type Res = { result?: Record<string, unknown> };
const field = (r: unknown, name: string): unknown => (r as Res).result?.[name];

export function registerKvCommands(program: Command): void {
  const kv = program.command('kv').description('read and write keys in a running cluster');
  common(kv.command('get <key>').description('read a key (linearizable unless --serializable)').option('--serializable', 'answer from the contacted node, possibly stale')).action(
    (key: string, f: CommonFlags & { serializable?: boolean }) =>
      run(f, 'GET', `/v1/kv/${enc(key)}${f.serializable === true ? '?consistency=serializable' : ''}`, undefined, (r) => {
        const value = field(r, 'value');
        if (value === null || value === undefined) throw new CliError('NOT_FOUND', `key "${key}" does not exist`, 1);
        return typeof value === 'string' ? value : JSON.stringify(value);
      }),
  );
  common(kv.command('put <key> <value>').description('write a key (value parsed as JSON when possible)')).action((key: string, value: string, f: CommonFlags) =>
    run(f, 'PUT', `/v1/kv/${enc(key)}`, { value: parseValue(value) }, (r) => `OK (revision ${String(field(r, 'revision'))})`),
  );
  common(kv.command('del <key>').description('delete a key')).action((key: string, f: CommonFlags) =>
    run(f, 'DELETE', `/v1/kv/${enc(key)}`, undefined, (r) => (field(r, 'deleted') === true ? 'deleted' : 'no such key')),
  );
  common(kv.command('cas <key> <from> <to>').description('set to <to> only if the value is <from> (use null for "absent")')).action((key: string, from: string, to: string, f: CommonFlags) =>
    run(f, 'POST', `/v1/kv/${enc(key)}/cas`, { from: parseValue(from), to: parseValue(to) }, (r) => {
      if (field(r, 'swapped') !== true) throw new CliError('CAS_FAILED', `key "${key}" did not hold ${from}: not swapped`, 1);
      return 'swapped';
    }),
  );
  common(kv.command('incr <key> [by]').description('add a number (default 1); an absent key counts as 0')).action((key: string, by: string | undefined, f: CommonFlags) => {
    const amount = by === undefined ? 1 : Number(by);
    if (!Number.isFinite(amount)) throw new CliError('BAD_OPTION', `"${by ?? ''}" is not a number`);
    return run(f, 'POST', `/v1/kv/${enc(key)}/incr`, { by: amount }, (r) => {
      if (field(r, 'error') === 'not-a-number') throw new CliError('NOT_A_NUMBER', `key "${key}" does not hold a number`, 1);
      return String(field(r, 'value'));
    });
  });
  common(kv.command('list').description('list keys').option('--prefix <p>', 'only keys starting with p').option('--limit <n>', 'at most n keys', '100')).action(
    (f: CommonFlags & { prefix?: string; limit: string }) => {
      const limit = parseIntOption('--limit', f.limit, 1, 10_000);
      const q = new URLSearchParams({ limit: String(limit), ...(f.prefix === undefined ? {} : { prefix: f.prefix }) });
      return run(f, 'GET', `/v1/kv?${q.toString()}`, undefined, (r) => {
        const items = (field(r, 'items') ?? []) as { key: string; value: unknown }[];
        return items.map((i) => `${i.key} = ${typeof i.value === 'string' ? i.value : JSON.stringify(i.value)}`).join('\n') + (field(r, 'more') === true ? '\n...' : '');
      });
    },
  );

  common(program.command('status').description('show every node\'s role, term, leader and indexes')).action(async (f: CommonFlags) => {
    const rows: unknown[] = [];
    for (const endpoint of parseEndpoints(f.endpoints)) {
      try {
        rows.push({ endpoint, ...(expectOk(await callApi([endpoint], 'GET', '/v1/status', undefined, 2000)) as object) });
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
  common(member.command('add <id>').description('add a node as a learner (it catches up before promotion)').requiredOption('--peer <host:port>', 'its peer address').requiredOption('--client <host:port>', 'its client address')).action(
    (id: string, f: CommonFlags & { peer: string; client: string }) => run(f, 'POST', '/v1/members', { id, peer: f.peer, client: `http://${f.client}` }, () => `node ${id} added as a learner`),
  );
  common(member.command('promote <id>').description('make a caught-up learner a voter')).action((id: string, f: CommonFlags) =>
    run(f, 'POST', `/v1/members/${enc(id)}/promote`, undefined, () => `node ${id} is a voter`),
  );
  common(member.command('remove <id>').description('remove a node from the cluster')).action((id: string, f: CommonFlags) =>
    run(f, 'DELETE', `/v1/members/${enc(id)}`, undefined, () => `node ${id} removed`),
  );
  common(program.command('snapshot').description('compact each given node\'s log now (a snapshot at its applied index)')).action(async (f: CommonFlags) => {
    for (const endpoint of parseEndpoints(f.endpoints)) {
      const r = expectOk(await callApi([endpoint], 'POST', '/v1/snapshot')) as { node?: string; snapshotIndex?: number };
      process.stdout.write(f.json === true ? JSON.stringify(r) + '\n' : `node ${String(r.node)}: snapshot at index ${String(r.snapshotIndex)}\n`);
    }
  });
  const leader = program.command('leader').description('leadership');
  common(leader.command('transfer').description('hand leadership to another voter').requiredOption('--to <id>', 'the new leader')).action((f: CommonFlags & { to: string }) =>
    run(f, 'POST', '/v1/leader/transfer', { to: f.to }, () => `leadership transferred to ${f.to}`),
  );
}
