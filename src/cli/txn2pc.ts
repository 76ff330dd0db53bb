// `synod txn2pc`: atomic transactions across independent Synod clusters (shards) named in a shards
// file — a transfer between accounts, a set of writes, the recovery of transactions left in doubt
// by a dead coordinator, and a list of what is in flight. Bad input exits 2; an abort or an
// unreachable shard exits 1.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { SynodError } from '../client/index.js';
import type { JsonValue } from '../core/index.js';
import { commitAcross, parseAccount, readShardSetFile, recoverInDoubt, ShardSet, transfer, TxnKvError, TXN_PREFIX, type ShardWrite } from '../txn-kv/index.js';
import { CliError } from './errors.js';
import { parseIntOption } from './options.js';

interface Flags {
  shards?: string;
  cacert?: string;
  json?: boolean;
}

const SHARDS_HELP = 'the shards file: {"shards": {"a": ["https://127.0.0.1:2381", ...], "b": [...]}, "decisions": "a"} (default env SYNOD_SHARDS)';

function common(cmd: Command): Command {
  return cmd.option('--shards <file>', SHARDS_HELP).option('--cacert <files>', 'CA certificates of HTTPS shards, comma-separated').option('--json', 'print the result as JSON');
}

function openShards(f: Flags): ShardSet {
  const file = f.shards ?? process.env['SYNOD_SHARDS'];
  if (file === undefined || file === '') throw new CliError('BAD_OPTION', 'give the shards file with --shards FILE (or SYNOD_SHARDS)');
  const config = readShardSetFile(file);
  const cas = (f.cacert ?? '').split(',').filter(Boolean).map((path) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new CliError('BAD_OPTION', `--cacert: cannot read ${path}: ${(err as Error).message}`);
    }
  });
  return new ShardSet(config, cas.length === 0 ? {} : { tls: { ca: cas } });
}

function print(f: Flags, result: unknown, human: string): void {
  process.stdout.write((f.json === true ? JSON.stringify(result) : human) + '\n');
}

/** Runs a command with the shard set open, turning the library's errors into the CLI's. */
async function withShards(f: Flags, run: (set: ShardSet) => Promise<void>): Promise<void> {
  let set: ShardSet | undefined;
  try {
    set = openShards(f);
    await run(set);
  } catch (err) {
    if (err instanceof TxnKvError) throw new CliError(err.code, err.message, err.code === 'OUTCOME_UNKNOWN' || err.code === 'UNREACHABLE' ? 1 : 2);
    if (err instanceof SynodError) throw new CliError(err.code, err.message, 1);
    throw err;
  } finally {
    set?.close();
  }
}

/** `SHARD:KEY=VALUE`: the value is JSON when it parses as JSON, else the text itself; `SHARD:KEY=` deletes. */
export function parseWrite(text: string): ShardWrite {
  const eq = text.indexOf('=');
  if (eq < 0) throw new CliError('BAD_ARGUMENT', `a write is SHARD:KEY=VALUE (got ${JSON.stringify(text.slice(0, 80))})`);
  const { shard, key } = parseAccount(text.slice(0, eq));
  return { shard, key, value: parseValue(text.slice(eq + 1)) };
}

function parseValue(raw: string): JsonValue {
  if (raw === '') return null;
  try {
    return JSON.parse(raw) as JsonValue;
  } catch {
    return raw;
  }
}

export function registerTxn2pcCommands(program: Command): void {
  const txn = program.command('txn2pc').description('atomic transactions across several Synod clusters (shards): two-phase commit whose decisions live in a Raft group, so no crash blocks');

  common(txn.command('transfer <from> <to> <amount>').description('move AMOUNT between two accounts (SHARD:KEY holding an integer balance), atomically across their shards')).action(async (fromText: string, toText: string, amountText: string, f: Flags) => {
    const amount = parseIntOption('amount', amountText, 1, Number.MAX_SAFE_INTEGER);
    await withShards(f, async (set) => {
      const result = await transfer(set, parseAccount(fromText), parseAccount(toText), amount);
      print(f, result, result.kind === 'committed' ? `committed ${result.txnId} (${result.attempts} attempt${result.attempts === 1 ? '' : 's'})` : result.kind === 'insufficient' ? `refused: ${fromText} holds ${result.balance}` : `gave up after ${result.attempts} attempts: ${result.lastReason}`);
      if (result.kind !== 'committed') process.exitCode = 1;
    });
  });

  common(txn.command('put <writes...>').description('write SHARD:KEY=VALUE on every shard named, all or none (VALUE is JSON or text; empty deletes)')).action(async (texts: string[], f: Flags) => {
    const writes = texts.map(parseWrite);
    await withShards(f, async (set) => {
      const result = await commitAcross(set, writes);
      print(f, result, `${result.outcome === 'commit' ? 'committed' : 'aborted'} ${result.txnId}${result.outcome === 'abort' ? `: ${result.votes.filter((v) => !v.yes).map((v) => `${v.shard}: ${'reason' in v ? v.reason : ''}`).join('; ')}` : ''}${result.unapplied.length > 0 ? ` (not yet applied on ${result.unapplied.join(', ')}: recovery finishes it)` : ''}`);
      if (result.outcome !== 'commit') process.exitCode = 1;
    });
  });

  common(txn.command('recover').description('finish transactions left by coordinators that died: apply decisions, abort what stayed in doubt').option('--in-doubt-after-ms <ms>', 'abort an undecided transaction prepared longer ago than this', '10000')).action(async (f: Flags & { inDoubtAfterMs: string }) => {
    const inDoubtAfterMs = parseIntOption('--in-doubt-after-ms', f.inDoubtAfterMs, 0, 86_400_000);
    await withShards(f, async (set) => {
      const report = await recoverInDoubt(set, { inDoubtAfterMs });
      const lines = report.settled.map((s) => `${s.txnId}: ${s.outcome} (${s.how === 'decided-now' ? 'aborted now: in doubt' : 'decided before'})`);
      print(f, report, [...lines, `${report.settled.length} settled, ${report.waiting} still waiting${report.errors.length > 0 ? `, ${report.errors.length} errors: ${report.errors[0] ?? ''}` : ''}`].join('\n'));
      if (report.errors.length > 0) process.exitCode = 1;
    });
  });

  common(txn.command('list').description('the transactions in flight: intents on each shard and decisions not yet applied everywhere')).action(async (f: Flags) => {
    await withShards(f, async (set) => {
      const intents: { shard: string; txnId: string }[] = [];
      for (const shard of set.names) for (const item of (await set.client(shard).range({ prefix: `${TXN_PREFIX}intent/`, limit: 1000 })).items) intents.push({ shard, txnId: item.key.slice(`${TXN_PREFIX}intent/`.length, item.key.lastIndexOf('@')) });
      const decisions = (await set.decisionClient().range({ prefix: `${TXN_PREFIX}decision/`, limit: 1000 })).items.map((i) => ({ txnId: i.key.slice(`${TXN_PREFIX}decision/`.length), decision: i.value }));
      print(f, { intents, decisions }, [...intents.map((i) => `intent ${i.txnId} on ${i.shard}`), ...decisions.map((d) => `decision ${d.txnId}: ${JSON.stringify(d.decision)}`), `${intents.length} intents, ${decisions.length} decisions`].join('\n'));
    });
  });
}
