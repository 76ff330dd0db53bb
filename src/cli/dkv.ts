// Client commands of the leaderless store (`synod cluster up --service quorum`): `synod dkv get|put|
// del|incr|add|remove|repair|join|leave` and `synod ring`. Each takes --endpoints and --json, prints the
// siblings and the causal context to pass back, one clear line on failure, and exits non-zero
// (2 for bad input, 1 when the store refused or could not reach its quorum).
import type { Command } from 'commander';
import { callApi } from '../supervisor/node-client.js';
import { expectOk } from './client.js';
import { CliError } from './errors.js';
import { common, connectionOf, keySegment, type CommonFlags } from './kv.js';
import { parseIntOption } from './options.js';

const BUCKET_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
const DEFAULT_BUCKET = 'default';

interface DkvFlags extends CommonFlags {
  bucket: string;
  r?: string;
  w?: string;
  n?: string;
  context?: string;
}

/** A level flag: a count or one, quorum, all (and any for writes). */
function levelOf(flag: string, text: string | undefined, allowAny: boolean): string | number | undefined {
  if (text === undefined) return undefined;
  if (text === 'one' || text === 'quorum' || text === 'all' || (allowAny && text === 'any')) return text;
  if (/^\d+$/.test(text)) return parseIntOption(flag, text, 1, 16);
  throw new CliError('BAD_OPTION', `${flag} is a replica count or one, quorum, all${allowAny ? ', any' : ''}; got ${JSON.stringify(text)}`);
}

function bucketOf(f: DkvFlags): string {
  if (!BUCKET_PATTERN.test(f.bucket)) throw new CliError('BAD_OPTION', `--bucket must match ${BUCKET_PATTERN.source}; got ${JSON.stringify(f.bucket)}`);
  return f.bucket;
}

function pathOf(f: DkvFlags, key: string, suffix = ''): string {
  return `/v1/dkv/${encodeURIComponent(bucketOf(f))}/${keySegment(key)}${suffix}`;
}

/** Tries each endpoint in turn until one answers; the store itself forwards to a home replica. */
async function call(f: CommonFlags, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const { endpoints, options } = connectionOf(f);
  return expectOk(await callApi(endpoints, method, path, body, 15_000, options)) as Record<string, unknown>;
}

function print(f: CommonFlags, result: unknown, human: () => string): void {
  process.stdout.write((f.json === true ? JSON.stringify(result) : human()) + '\n');
}

function withDkvFlags(cmd: Command, levels: 'r' | 'w' | 'none'): Command {
  common(cmd).option('--bucket <name>', 'the bucket (its type — plain, lww, counter, orset — is set in the cluster file)', DEFAULT_BUCKET).option('--n <count>', 'N for this request (keep N fixed per bucket)');
  if (levels === 'r') cmd.option('--r <level>', 'replicas to hear from: a count, one, quorum or all (default: the cluster\'s R)');
  if (levels === 'w') cmd.option('--w <level>', 'replicas that must store the write: a count, one, quorum, all or any (default: the cluster\'s W)');
  return cmd;
}

function requestOptions(f: DkvFlags): Record<string, string | number> {
  const w = levelOf('--w', f.w, true);
  const n = f.n === undefined ? undefined : parseIntOption('--n', f.n, 1, 32);
  return { ...(w === undefined ? {} : { w }), ...(n === undefined ? {} : { n }) };
}

interface RingChangeFlags {
  wait?: boolean;
  timeout: string;
}

/** What a ring answer says about a change under way and this node's hand-off. */
function changeLines(r: Record<string, unknown>): string[] {
  const handoff = r['handoff'] as { streams: number; streamsDone: number; keysSent: number; strayKeys: number } | undefined;
  const next = r['next'] as string[] | undefined;
  const lines: string[] = [];
  if (next !== undefined) lines.push(`changing to: ${next.join(', ')}${r['waitingFor'] === undefined ? '' : `; waiting for ${(r['waitingFor'] as string[]).join(', ') || 'the commit'}`}`);
  if (handoff !== undefined && (handoff.streams > 0 || handoff.strayKeys > 0 || handoff.keysSent > 0)) lines.push(`this node's hand-off: ${handoff.streamsDone}/${handoff.streams} streams done, ${handoff.keysSent} keys sent, ${handoff.strayKeys} keys left to hand off`);
  return lines;
}

async function changeRing(f: CommonFlags & RingChangeFlags, path: string, body: Record<string, unknown>): Promise<void> {
  const timeoutS = parseIntOption('--timeout', f.timeout, 1, 86_400);
  const started = await call(f, 'POST', path, body);
  if (f.wait !== true) return print(f, started, () => [`ring epoch ${String(started['epoch'])}: moving to ${(started['next'] as string[] | undefined)?.join(', ') ?? '?'}`, ...changeLines(started).slice(1)].join('\n'));
  const deadline = Date.now() + timeoutS * 1000;
  let last = '';
  for (;;) {
    const r = await call(f, 'GET', '/v1/ring');
    if (r['next'] === undefined && (r['epoch'] as number) > (started['epoch'] as number)) return print(f, r, () => `committed: ring epoch ${String(r['epoch'])}, members ${(r['members'] as string[]).join(', ')}`);
    const line = changeLines(r).join('; ');
    if (f.json !== true && line !== last) process.stderr.write(`${line}\n`);
    last = line;
    if (Date.now() > deadline) throw new CliError('TIMEOUT', `the ring change was not committed within ${timeoutS} s (${line || 'no progress reported'})`, 1);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function writeLine(r: Record<string, unknown>): string {
  const dot = r['dot'] as { actor: string; counter: number } | null;
  const values = (r['values'] as string[] | undefined) ?? [];
  // concurrent versions the coordinator holds next to this one: the context covers them too
  const siblings = values.length > 1 ? `\nsiblings now: ${values.map((v) => JSON.stringify(v)).join(', ')}` : '';
  return `OK (${String(r['acks'])} replicas${dot === null ? '' : `, version ${dot.actor}:${dot.counter}`})${siblings}\ncontext: ${String(r['context'])}`;
}

export function registerDkvCommands(program: Command): void {
  const dkv = program.command('dkv').description('read and write the leaderless store (a cluster started with --service quorum)');
  withDkvFlags(dkv.command('get <key>').description('read a key: every sibling value and the causal context to pass to the next write'), 'r').action(async (key: string, f: DkvFlags) => {
    const q = new URLSearchParams();
    const r = levelOf('--r', f.r, false);
    if (r !== undefined) q.set('r', String(r));
    if (f.n !== undefined) q.set('n', String(parseIntOption('--n', f.n, 1, 32)));
    const query = q.toString();
    const result = await call(f, 'GET', pathOf(f, key) + (query === '' ? '' : `?${query}`));
    print(f, result, () => {
      if (typeof result['count'] === 'number') return String(result['count']);
      if (result['found'] !== true) throw new CliError('NOT_FOUND', `key "${key}" does not exist in bucket ${f.bucket} (context: ${String(result['context'])})`, 1);
      const values = result['values'] as string[];
      const lines = values.length === 1 ? [values[0] as string] : values.map((v, i) => `sibling ${i + 1}: ${v}`);
      return [...lines, `context: ${String(result['context'])}`].join('\n');
    });
  });
  withDkvFlags(dkv.command('put <key> <value>').description('write a value; pass the context a read returned to replace exactly the siblings it saw (without one the write is concurrent with everything)').option('--context <c>', 'the causal context from a read or an earlier write'), 'w').action(
    async (key: string, value: string, f: DkvFlags) => {
      const result = await call(f, 'PUT', pathOf(f, key), { value, ...(f.context === undefined ? {} : { context: f.context }), ...requestOptions(f) });
      print(f, result, () => writeLine(result));
    },
  );
  withDkvFlags(dkv.command('del <key>').description('delete a key (a tombstone replacing the siblings the context saw)').option('--context <c>', 'the causal context from a read'), 'w').action(async (key: string, f: DkvFlags) => {
    const result = await call(f, 'DELETE', pathOf(f, key), { ...(f.context === undefined ? {} : { context: f.context }), ...requestOptions(f) });
    print(f, result, () => writeLine(result));
  });
  withDkvFlags(dkv.command('incr <key> [delta]').description('add to a counter (a bucket of type counter; default 1)'), 'w').action(async (key: string, delta: string | undefined, f: DkvFlags) => {
    const by = delta === undefined ? 1 : Number(delta);
    if (!Number.isSafeInteger(by) || by === 0) throw new CliError('BAD_OPTION', `delta is a non-zero integer; got ${JSON.stringify(delta)}`);
    const result = await call(f, 'POST', pathOf(f, key, '/increment'), { delta: by, ...requestOptions(f) });
    print(f, result, () => writeLine(result));
  });
  for (const op of ['add', 'remove'] as const) {
    withDkvFlags(dkv.command(`${op} <key> <element>`).description(`${op} an element of a set (a bucket of type orset; a concurrent add wins over a remove)`), 'w').action(async (key: string, element: string, f: DkvFlags) => {
      const result = await call(f, 'POST', pathOf(f, key, `/${op}`), { element, ...requestOptions(f) });
      print(f, result, () => writeLine(result));
    });
  }
  common(dkv.command('repair').description('start anti-entropy now: every node exchanges Merkle trees with the other replicas of each partition it holds')).action(async (f: CommonFlags) => {
    const { endpoints, options } = connectionOf(f);
    const rows: { endpoint: string; exchanges?: number; error?: string }[] = [];
    for (const endpoint of endpoints) {
      try {
        const r = expectOk(await callApi([endpoint], 'POST', '/v1/dkv-repair', undefined, 5_000, options)) as { exchanges: number };
        rows.push({ endpoint, exchanges: r.exchanges });
      } catch (err) {
        rows.push({ endpoint, error: (err as Error).message });
      }
    }
    print(f, rows, () => rows.map((r) => (r.error === undefined ? `${r.endpoint}: ${String(r.exchanges)} exchanges started` : `${r.endpoint}: unreachable`)).join('\n'));
    if (rows.every((r) => r.error !== undefined)) throw new CliError('UNREACHABLE', 'no node answered', 1);
  });

  const ringChange = (cmd: Command): Command => common(cmd).option('--wait', 'wait until the change is committed, printing the hand-off\'s progress').option('--timeout <seconds>', 'with --wait: give up after this long (exit 1)', '600');
  ringChange(
    dkv
      .command('join <node>')
      .description('add a node to the ring: partitions stream to it from their current homes; start the node with --join (before or after)')
      .option('--peer-addr <host:port>', 'the new node\'s peer address (for real processes the other members must learn it)')
      .option('--client-addr <url>', 'the new node\'s client API, e.g. https://127.0.0.1:7004'),
  ).action(async (node: string, f: CommonFlags & RingChangeFlags & { peerAddr?: string; clientAddr?: string }) => {
    if ((f.peerAddr === undefined) !== (f.clientAddr === undefined)) throw new CliError('BAD_OPTION', 'give both --peer-addr and --client-addr, or neither');
    if (f.peerAddr !== undefined && !/^[^\s:]+:\d{1,5}$/.test(f.peerAddr)) throw new CliError('BAD_OPTION', `--peer-addr is HOST:PORT; got ${JSON.stringify(f.peerAddr)}`);
    await changeRing(f, '/v1/ring/join', { node, ...(f.peerAddr === undefined ? {} : { peer: f.peerAddr, client: f.clientAddr }) });
  });
  ringChange(dkv.command('leave <node>').description('take a node out of the ring: its partitions stream to the others; stop it once `synod ring` shows it holds nothing').option('--force', 'the node is gone for good: do not wait for it to hand off (what only it held is lost)')).action(
    async (node: string, f: CommonFlags & RingChangeFlags & { force?: boolean }) => {
      await changeRing(f, '/v1/ring/leave', { node, ...(f.force === true ? { force: true } : {}) });
    },
  );

  common(program.command('ring [key]').description('show the leaderless store\'s placement: partitions per node, and where a key lives (its preference list)').option('--bucket <name>', 'the key\'s bucket', DEFAULT_BUCKET).option('--partitions', 'list every partition and its node')).action(
    async (key: string | undefined, f: CommonFlags & { bucket: string; partitions?: boolean }) => {
      if (!BUCKET_PATTERN.test(f.bucket)) throw new CliError('BAD_OPTION', `--bucket must match ${BUCKET_PATTERN.source}`);
      if (key !== undefined) keySegment(key);
      const q = new URLSearchParams(key === undefined ? {} : { bucket: f.bucket, key });
      const query = q.toString();
      const r = await call(f, 'GET', `/v1/ring${query === '' ? '' : `?${query}`}`);
      print(f, r, () => {
        const lines = [`${(r['members'] as string[]).length} nodes, ${String(r['partitionCount'])} partitions, N = ${String(r['replicas'])} (+${String(r['standIns'])} stand-ins); ring epoch ${String(r['epoch'])}`];
        lines.push(...changeLines(r));
        for (const [node, count] of Object.entries(r['ownership'] as Record<string, number>)) lines.push(`  node ${node}: ${count} partitions`);
        if (f.partitions === true) for (const p of r['partitions'] as { start: number; node: string }[]) lines.push(`  partition at ${p.start}: node ${p.node}`);
        const where = r['key'] as { bucket: string; key: string; position: number; partition: number; homeReplicas: string[]; standIns: string[] } | undefined;
        if (where !== undefined) lines.push(`${where.bucket}/${where.key}: position ${where.position}, partition ${where.partition}; home replicas ${where.homeReplicas.join(', ')}; stand-ins ${where.standIns.join(', ') || '-'}`);
        return lines.join('\n');
      });
    },
  );
}
