// `synod txn [FILE]`: runs a transaction from a JSON document or the etcdctl-like text form (a file,
// or standard input), and prints which branch ran and each operation's result. Exit codes: 0 the
// compares held (success branch), 1 they did not (failure branch) or the cluster refused or could
// not be reached, 2 bad input.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { TxnInput, TxnOp, TxnOpResult, TxnResult } from '../client/index.js';
import { CliError } from './errors.js';
import { common, type CommonFlags } from './kv.js';
import { shownKey, shownValue, withClient } from './kv-client.js';
import { parseTxnText } from './txn-text.js';

const HELP = `
The text form (as etcdctl txn reads it): compares, a blank line, the success operations, a blank
line, the failure operations. Lines starting with # are comments. Start with a blank line for a
txn without compares.

  compares     TARGET(KEY) OP VALUE   TARGET: value, version, create, mod, lease; OP: = != < >
  operations   put KEY VALUE [--lease ID] [--ignore-lease] [--prev-kv]
               get KEY | get KEY END | get PREFIX --prefix   [--limit N]
               del KEY | del KEY END | del PREFIX --prefix   [--prev-kv]

Keys and values are bare words or JSON ("a b", {"x": 1}); a value is JSON when it parses
(5, true, null), else the text itself. Example:

  version("lock") = 0

  put lock "me"
  get config

  get lock

The JSON form is the body of POST /v1/txn: {"compare": [...], "success": [...], "failure": [...]}
(nested txns only in this form). Exit codes: 0 the compares held, 1 they did not (TXN_FAILED, the
failure branch's results are printed) or the request failed, 2 bad input.`;

export function registerTxnCommand(program: Command): void {
  common(program.command('txn [file]').description('run a transaction (compares, then success or failure operations) from FILE or standard input').addHelpText('after', HELP)).action(
    async (file: string | undefined, f: CommonFlags) => {
      const text = readInput(file);
      const txn = parseTxn(text);
      const result = await withClient(f, (client) => client.txn(txn));
      process.stdout.write(f.json === true ? `${JSON.stringify(result)}\n` : describe(txn, result));
      if (!result.succeeded) throw new CliError('TXN_FAILED', 'the compares did not hold: the failure branch ran', 1);
    },
  );
}

function readInput(file: string | undefined): string {
  try {
    return readFileSync(file === undefined || file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new CliError('BAD_OPTION', `cannot read ${file === undefined || file === '-' ? 'standard input' : file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** JSON when the input starts with "{", the text form otherwise. */
export function parseTxn(text: string): TxnInput {
  if (!text.trimStart().startsWith('{')) return parseTxnText(text);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CliError('BAD_TXN', `the txn is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new CliError('BAD_TXN', 'the txn must be a JSON object {compare, success, failure}');
  // the server checks every field and answers BAD_REQUEST with the reason
  return raw as TxnInput;
}

/** The branch that ran and one line per operation result (nested txns indented). */
export function describe(txn: TxnInput, result: TxnResult): string {
  const lines = [`${result.succeeded ? 'SUCCESS' : 'FAILURE'} (revision ${result.revision})`];
  describeResults(result.succeeded ? txn.success ?? [] : txn.failure ?? [], result.results, '', lines);
  return `${lines.join('\n')}\n`;
}

function describeResults(ops: readonly TxnOp[], results: readonly TxnOpResult[], indent: string, lines: string[]): void {
  ops.forEach((op, i) => {
    const r = (results[i] ?? {}) as Record<string, unknown>;
    switch (op.op) {
      case 'put':
        lines.push(`${indent}put ${shownKey(op.key)}: version ${String(r['version'])}`);
        break;
      case 'get':
        lines.push(`${indent}get ${shownKey(op.key)}: ${r['value'] === null || r['value'] === undefined ? '(absent)' : shownValue(r['value'])}`);
        break;
      case 'delete': {
        const what = 'prefix' in op ? `--prefix ${shownKey(op.prefix)}` : 'end' in op ? `${shownKey(op.key)} ${shownKey(op.end)}` : shownKey(op.key);
        const deleted = r['deleted'];
        lines.push(`${indent}del ${what}: ${typeof deleted === 'number' ? `${deleted} deleted` : deleted === true ? 'deleted' : 'not found'}`);
        break;
      }
      case 'range': {
        const items = (r['items'] ?? []) as { key: string; value: unknown }[];
        lines.push(`${indent}range: ${items.length} key${items.length === 1 ? '' : 's'}${r['more'] === true ? ' (more)' : ''}`);
        for (const item of items) lines.push(`${indent}  ${shownKey(item.key)} = ${shownValue(item.value)}`);
        break;
      }
      case 'leaseGrant':
        lines.push(`${indent}lease grant ${op.id}: ttl ${String(r['ttlMs'])} ms`);
        break;
      case 'txn': {
        const succeeded = r['succeeded'] === true;
        lines.push(`${indent}txn: ${succeeded ? 'SUCCESS' : 'FAILURE'}`);
        describeResults(succeeded ? op.success : op.failure, (r['results'] ?? []) as TxnOpResult[], `${indent}  `, lines);
        break;
      }
    }
  });
}
