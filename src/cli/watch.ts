// `synod watch KEY`: prints the changes of a key, a range or a prefix as they are committed, one
// line per event (or one JSON line per revision with --json); when the node it reads from fails
// it resumes on another endpoint from the revision after the last one printed, and says so on
// standard error. Runs until interrupted; exit 1 when the history it needs was compacted away or
// no node could serve it, 2 for bad input.
import type { Command } from 'commander';
import type { KvEvent, WatchMessage, WatchOptions, WatchSelector } from '../client/index.js';
import { CliError } from './errors.js';
import { common, keySegment, type CommonFlags } from './kv.js';
import { shownKey, shownValue, withClient } from './kv-client.js';
import { parseIntOption } from './options.js';

interface WatchFlags extends CommonFlags {
  prefix?: boolean;
  end?: string;
  rev?: string;
  prevKv?: boolean;
  put: boolean;
  delete: boolean;
  progress?: boolean;
  progressMs?: string;
  reconnectFor?: string;
}

const HELP = `
Output: one line per event, "[REVISION] PUT KEY = VALUE" or "[REVISION] DELETE KEY" (with
--prev-kv also "(was VALUE)"); with --json one line per revision, {"revision":N,"events":[...]}
(the events as the API gives them). --progress adds "[REVISION] progress" lines (JSON:
{"revision":N,"progress":true}): every change up to REVISION has been printed. When the node
fails, the watch resumes on the next endpoint from the revision after the last one printed (a
line on standard error says so): no event is missed or printed twice.`;

export function registerWatchCommand(program: Command): void {
  common(
    program
      .command('watch <key>')
      .description('print the changes of a key, a range (--end) or a prefix (--prefix) as they happen')
      .option('--prefix', 'watch every key starting with <key> ("" for all keys)')
      .option('--end <end>', 'watch the keys in [<key>, <end>)')
      .option('--rev <n>', 'start at revision n (past revisions are replayed from history)')
      .option('--prev-kv', "print each key's previous value too")
      .option('--no-put', 'leave out puts')
      .option('--no-delete', 'leave out deletes')
      .option('--progress', 'print progress lines (every change up to a revision has been printed)')
      .option('--progress-ms <ms>', 'ask for a progress note after this long without events (default: the node\'s, 5000)')
      .option('--reconnect-for <seconds>', 'give up after this long without any node serving the watch', '30')
      .addHelpText('after', HELP),
  ).action((key: string, f: WatchFlags) => watch(key, f));
}

async function watch(key: string, f: WatchFlags): Promise<void> {
  if (f.prefix === true && f.end !== undefined) throw new CliError('BAD_OPTION', '--prefix and --end do not go together');
  if (f.prefix !== true) keySegment(key);
  const selector: WatchSelector = f.prefix === true ? { prefix: key } : f.end === undefined ? { key } : { key, end: f.end };
  const options: WatchOptions = {
    ...(f.rev === undefined ? {} : { startRevision: parseIntOption('--rev', f.rev, 1, Number.MAX_SAFE_INTEGER) }),
    ...(f.prevKv === true ? { prevKv: true } : {}),
    ...(f.put === false ? { noPut: true } : {}),
    ...(f.delete === false ? { noDelete: true } : {}),
    ...(f.progressMs === undefined ? {} : { progressMs: parseIntOption('--progress-ms', f.progressMs, 100, 600_000) }),
    reconnectForMs: parseIntOption('--reconnect-for', f.reconnectFor ?? '30', 1, 86_400) * 1000,
    onReconnect: (info) => process.stderr.write(`synod: watch: ${info.from}: ${info.reason}; resuming from revision ${info.nextRevision} on ${info.to}\n`),
  };
  await withClient(f, async (client) => {
    const stream = client.watch(selector, options);
    const stop = (): void => stream.close();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      for await (const message of stream) {
        const text = f.json === true ? jsonLine(message, f.progress === true) : humanLines(message, f.progress === true);
        if (text !== '') process.stdout.write(text);
      }
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  });
}

function jsonLine(message: WatchMessage, progress: boolean): string {
  if (message.type === 'progress') return progress ? `${JSON.stringify({ revision: message.revision, progress: true })}\n` : '';
  return `${JSON.stringify({ revision: message.revision, events: message.events })}\n`;
}

function humanLines(message: WatchMessage, progress: boolean): string {
  if (message.type === 'progress') return progress ? `[${message.revision}] progress\n` : '';
  return message.events.map((e) => `[${message.revision}] ${describeEvent(e)}\n`).join('');
}

function describeEvent(e: KvEvent): string {
  const was = e.prevKv === undefined ? '' : ` (was ${shownValue(e.prevKv.value)})`;
  return e.type === 'put' ? `PUT ${shownKey(e.kv.key)} = ${shownValue(e.kv.value)}${was}` : `DELETE ${shownKey(e.kv.key)}${was}`;
}
