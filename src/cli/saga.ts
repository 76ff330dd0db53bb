// `synod saga list|show ID|resume ID` over an orchestrator's saga log — offline from its directory
// (--dir, the orchestrator stopped) or through a running orchestrator's HTTP API (--url) — and
// `synod demo saga`: the order saga with real HTTP services, run end to end and checked. Bad
// input exits 2; a refusal, an unreadable log or a failed check exits 1; one line, never a trace.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { JsonValue } from '../core/index.js';
import { checkSagaHistory } from '../saga/check.js';
import { foldSagaLog, type SagaLogEntry } from '../saga/log.js';
import { isSagaError, isSagaId, MAX_SAGA_ID_CHARS, type SagaView } from '../saga/types.js';
import { DEMO_ORDERS, openOrderOrchestrator, readOrderHistory, readSagaLog, startOrderServices } from '../saga-host/order-demo.js';
import { isStorageError } from '../storage/errors.js';
import { CliError } from './errors.js';
import { parseIntOption } from './options.js';

interface SourceFlags {
  dir?: string;
  url?: string;
  json?: boolean;
}

/** A saga as either source tells it. */
type Shown = SagaLogEntry | SagaView;

function sagaId(text: string): string {
  const chars = text.length;
  if (!isSagaId(text)) throw new CliError('SAGA_BAD_ID', `a saga id is 1 to ${MAX_SAGA_ID_CHARS} characters without "/" (got ${chars} characters)`);
  return text;
}

function source(f: SourceFlags, needUrl = false): { dir: string } | { url: string } {
  if (f.dir !== undefined && f.url !== undefined) throw new CliError('BAD_OPTION', 'give --dir or --url, not both');
  if (f.url !== undefined) {
    if (!/^https?:\/\/[^/\s]+\/?$/.test(f.url) || f.url.length > 300) throw new CliError('BAD_OPTION', `--url is http://host:port; got ${JSON.stringify(f.url.slice(0, 100))}`);
    return { url: f.url.replace(/\/$/, '') };
  }
  if (needUrl) throw new CliError('BAD_OPTION', 'resume drives a running orchestrator: give its --url');
  if (f.dir === undefined) throw new CliError('BAD_OPTION', 'give --dir (the orchestrator\'s log directory, e.g. DEMO_DIR/orchestrator) or --url (a running orchestrator)');
  if (!existsSync(f.dir) || !statSync(f.dir).isDirectory() || readdirSync(f.dir).length === 0) throw new CliError('BAD_OPTION', `no saga log in ${JSON.stringify(f.dir.slice(0, 200))}`);
  return { dir: f.dir };
}

async function readLog(dir: string): Promise<SagaLogEntry[]> {
  try {
    return foldSagaLog(await readSagaLog(dir));
  } catch (err) {
    if (isStorageError(err, 'STORAGE_LOCKED')) throw new CliError('SAGA_LOG_LOCKED', `${err.message.split(';')[0]}: an orchestrator is running on it; ask it with --url`, 1);
    if (isStorageError(err)) throw new CliError('SAGA_BAD_LOG', `cannot read the saga log: ${err.message.slice(0, 300)}`, 1);
    throw err;
  }
}

async function api(url: string, method: string, path: string): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, { method, signal: AbortSignal.timeout(20_000) });
  } catch (err) {
    throw new CliError('SAGA_UNREACHABLE', `no answer from ${url}: ${err instanceof Error ? err.message : String(err)}`, 1);
  }
  let body: Record<string, unknown>;
  try {
    body = (await res.json()) as Record<string, unknown>;
  } catch {
    throw new CliError('SAGA_BAD_ANSWER', `${url} did not answer JSON (HTTP ${res.status})`, 1);
  }
  if (!res.ok) throw new CliError(typeof body.code === 'string' ? body.code : 'SAGA_REFUSED', typeof body.error === 'string' ? body.error.slice(0, 300) : `HTTP ${res.status}`, 1);
  return body;
}

function line(s: Shown): string {
  const error = s.error === null ? '' : `  ${s.error}`;
  const attempts = s.attempts > 0 ? ` attempt ${s.attempts}` : '';
  return `${s.sagaId}  ${s.saga}  ${s.status}  step ${s.step}${attempts}${error}`;
}

function detail(s: Shown): string {
  const lines = [`saga ${s.sagaId} (${s.saga}): ${s.status}`, `  input: ${JSON.stringify(s.input)}`, `  current step: ${s.step}${s.attempts > 0 ? `, attempt ${s.attempts}` : ''}`];
  for (const [step, out] of Object.entries(s.outputs)) lines.push(`  output of ${step}: ${JSON.stringify(out)}`);
  if (s.error !== null) lines.push(`  error: ${s.error}`);
  if ('problems' in s) for (const p of s.problems) lines.push(`  problem in the log: ${p}`);
  return lines.join('\n');
}

function print(f: SourceFlags, value: unknown, human: string): void {
  process.stdout.write(`${f.json === true ? JSON.stringify(value) : human}\n`);
}

function withSource(cmd: Command, withDir = true): Command {
  if (withDir) cmd.option('--dir <path>', 'the orchestrator\'s log directory (read offline; the orchestrator must be stopped)');
  return cmd.option('--url <url>', 'a running orchestrator\'s HTTP API, http://host:port').option('--json', 'print JSON');
}

export function registerSagaCommands(program: Command): void {
  const saga = program.command('saga').description('inspect and drive an orchestrator\'s saga log (exit 0: ok, 1: refused or unreadable, 2: bad input)');
  withSource(saga.command('list').description('every saga in the log: id, definition, status, current step'))
    .addHelpText('after', '\nExamples:\n  synod saga list --dir ./saga-demo/orchestrator\n  synod saga list --url http://127.0.0.1:8400 --json')
    .action(async (f: SourceFlags) => {
      const src = source(f);
      const sagas: Shown[] = 'dir' in src ? await readLog(src.dir) : ((await api(src.url, 'GET', '/sagas')).sagas as SagaView[]);
      print(f, { sagas }, sagas.length === 0 ? 'no sagas' : sagas.map(line).join('\n'));
    });
  withSource(saga.command('show').argument('<id>', 'the saga id').description('one saga: status, input, current step, outputs, error'))
    .addHelpText('after', '\nExample:\n  synod saga show order-3 --dir ./saga-demo/orchestrator')
    .action(async (idText: string, f: SourceFlags) => {
      const id = sagaId(idText);
      const src = source(f);
      let shown: Shown | undefined;
      if ('dir' in src) shown = (await readLog(src.dir)).find((s) => s.sagaId === id);
      else shown = (await api(src.url, 'GET', `/sagas/${encodeURIComponent(id)}`)).saga as SagaView;
      if (shown === undefined) throw new CliError('SAGA_NOT_FOUND', `no saga ${JSON.stringify(id)} in the log`, 1);
      print(f, { saga: shown }, detail(shown));
    });
  withSource(saga.command('resume').argument('<id>', 'the saga id').description('a running orchestrator tries the saga\'s current step again now, without waiting out its backoff'), false)
    .addHelpText('after', '\nExample:\n  synod saga resume order-3 --url http://127.0.0.1:8400')
    .action(async (idText: string, f: SourceFlags) => {
      const id = sagaId(idText);
      const src = source(f, true) as { url: string };
      const shown = (await api(src.url, 'POST', `/sagas/${encodeURIComponent(id)}/resume`)).saga as SagaView;
      print(f, { saga: shown }, `resumed: ${line(shown)}`);
    });
}

interface DemoFlags {
  dir?: string;
  flakyPercent: string;
  delayMs: string;
  json?: boolean;
}

/** `synod demo saga`, a subcommand of `synod demo`. */
export function registerSagaDemoCommand(demo: Command): void {
  demo
    .command('saga')
    .description('the order saga with real HTTP services: starts order, payment, inventory and shipping services and the orchestrator, runs orders (some fail), prints how each saga ended and the saga checker\'s verdict (exit 0: checked, and without --flaky-percent each saga ended as expected; 1: not; 2: bad input)')
    .option('--dir <path>', 'keep the logs in this new or empty directory (default: a temporary one, removed at the end)')
    .option('--flaky-percent <n>', 'every service call fails transiently this often (0-50); retries with the same idempotency key absorb it', '0')
    .option('--delay-ms <n>', 'each service call takes this long (0-5000)', '0')
    .option('--json', 'print one JSON object')
    .addHelpText('after', '\nExamples:\n  synod demo saga\n  synod demo saga --flaky-percent 30 --dir ./saga-demo && synod saga list --dir ./saga-demo/orchestrator')
    .action(async (f: DemoFlags) => {
      const flaky = parseIntOption('--flaky-percent', f.flakyPercent, 0, 50) / 100;
      const delayMs = parseIntOption('--delay-ms', f.delayMs, 0, 5_000);
      if (f.dir !== undefined && existsSync(f.dir) && (!statSync(f.dir).isDirectory() || readdirSync(f.dir).length > 0)) throw new CliError('BAD_OPTION', `--dir ${JSON.stringify(f.dir.slice(0, 200))} must be a new or empty directory`);
      process.exitCode = await runSagaDemo({ flaky, delayMs, json: f.json === true, ...(f.dir === undefined ? {} : { dir: f.dir }) });
    });
}

async function runSagaDemo(o: { dir?: string; flaky: number; delayMs: number; json: boolean }): Promise<number> {
  const dir = o.dir ?? (await mkdtemp(join(tmpdir(), 'synod-saga-demo-')));
  const out = (text: string): void => {
    if (!o.json) process.stdout.write(`${text}\n`);
  };
  try {
    const services = await startOrderServices({ dir, flaky: o.flaky, delayMs: o.delayMs });
    out('Order saga demo: four HTTP services, each with a durable ledger deduplicating by idempotency key:');
    for (const [name, url] of Object.entries(services.urls)) out(`  ${name.padEnd(9)} ${url}`);
    const orchestrator = await openOrderOrchestrator({ dir, urls: services.urls });
    out(`and the orchestrator, its saga log on the WAL in ${join(dir, 'orchestrator')}.\n`);
    const results: { sagaId: string; saga: string; input: JsonValue; expected: string; view: SagaView }[] = [];
    try {
      for (const order of DEMO_ORDERS) await orchestrator.start(order.saga, order.input, { sagaId: order.sagaId });
      for (const order of DEMO_ORDERS) {
        const view = await orchestrator.wait(order.sagaId, 60_000);
        results.push({ sagaId: order.sagaId, saga: order.saga, input: order.input, expected: order.expect, view });
        const why = view.status === 'compensated' ? `: ${view.error ?? ''}, earlier steps undone in reverse` : '';
        out(`  ${order.sagaId} (${order.saga}) ${JSON.stringify(order.input)}\n    ${view.status}${why}`);
      }
    } finally {
      await orchestrator.close();
      await services.close();
    }
    const check = checkSagaHistory(await readOrderHistory(dir));
    // with flaky services a step may run out of attempts and compensate: only the checker judges then
    const asExpected = o.flaky > 0 || results.every((r) => r.view.status === r.expected);
    out(`\nsaga checker: ${check.ok ? 'ok' : 'VIOLATIONS'} — ${check.committed} committed, ${check.compensated} compensated, ${check.unfinished} unfinished; ${check.effects} effects`);
    for (const v of check.violations.slice(0, 5)) out(`  ${v.code}: ${v.sagaId}: ${v.message}`);
    if (!asExpected) out('some sagas did not end as the demo expects');
    if (o.dir !== undefined) out(`\nInspect: synod saga list --dir ${join(dir, 'orchestrator')}`);
    if (o.json) process.stdout.write(`${JSON.stringify({ sagas: results.map((r) => ({ sagaId: r.sagaId, saga: r.saga, input: r.input, expected: r.expected, status: r.view.status, error: r.view.error, outputs: r.view.outputs })), check: { ok: check.ok, committed: check.committed, compensated: check.compensated, unfinished: check.unfinished, effects: check.effects, violations: check.violations } })}\n`);
    return check.ok && asExpected ? 0 : 1;
  } catch (err) {
    if (isSagaError(err)) throw new CliError(err.code, err.message, 1);
    if (isStorageError(err)) throw new CliError(err.code, err.message, 1);
    throw err;
  } finally {
    if (o.dir === undefined) await rm(dir, { recursive: true, force: true });
  }
}
