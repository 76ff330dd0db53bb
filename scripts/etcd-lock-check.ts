// Runs etcd 3.4's own lock service (v3lock over the JSON gateway) on a local cluster under
// randomized clients and faults, then judges every grant against the lock's key history with
// checkQueueGrants (src/lock/test/etcd-lock-run.ts does the work). Exit 0: no violation; 1: violations; 2: bad input.
// Usage: node --import tsx scripts/etcd-lock-check.ts [--seed N] [--duration 60s] [--clients 5] [--members 3] [--no-faults] [--json] [--help]
import { runEtcdLockCheck, type EtcdLockRunResult } from '../src/lock/test/etcd-lock-run.js';

const USAGE = 'usage: etcd-lock-check.ts [--seed N] [--duration 60s|90000ms|2m] [--clients 1-64] [--members 1-7] [--no-faults] [--json] [--help]';

function fail(message: string): never {
  process.stderr.write(`synod: ${message} [BAD_OPTION]\n`);
  process.exit(2);
}

function parseDurationMs(text: string): number {
  const m = /^(\d+)(ms|s|m)?$/.exec(text);
  if (m === null) fail(`--duration ${JSON.stringify(text)} is not a duration like 60s, 2m or 5000ms`);
  const ms = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000);
  if (ms < 1000 || ms > 24 * 3_600_000) fail(`--duration must be between 1s and 24h, got ${text}`);
  return ms;
}

function parseInt(flag: string, text: string | undefined, min: number, max: number): number {
  const n = Number(text);
  if (text === undefined || !/^-?\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) fail(`${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(text ?? '')}`);
  return n;
}

const options = { seed: 1, durationMs: 60_000, clients: 5, members: 3, faults: true, json: false };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const a = args[i] as string;
  if (a === '--help' || a === '-h') {
    process.stdout.write(`${USAGE}\nExit status: 0 no violation found, 1 violations found, 2 bad input.\n`);
    process.exit(0);
  } else if (a === '--seed') options.seed = parseInt('--seed', args[++i], 0, Number.MAX_SAFE_INTEGER);
  else if (a === '--duration') options.durationMs = parseDurationMs(args[++i] ?? '');
  else if (a === '--clients') options.clients = parseInt('--clients', args[++i], 1, 64);
  else if (a === '--members') options.members = parseInt('--members', args[++i], 1, 7);
  else if (a === '--no-faults') options.faults = false;
  else if (a === '--json') options.json = true;
  else fail(`unknown argument ${JSON.stringify(a)}; ${USAGE}`);
}

const controller = new AbortController();
let interrupts = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (++interrupts > 1) process.exit(130);
    process.stderr.write(`${sig}: stopping the clients and the cluster (again to leave at once)\n`);
    controller.abort();
  });
}

function report(r: EtcdLockRunResult): string {
  const c = r.check;
  const s = r.stats;
  const modes = (x: Record<string, number>): string => Object.entries(x).map(([k, v]) => `${k} ${v}`).join(', ');
  const lines = [
    `etcd ${r.etcdVersion}, ${r.members} members, ${r.clients} clients, seed ${r.seed}, ${r.durationMs / 1000} s, lease TTL ${r.ttlSeconds} s, lock ${JSON.stringify(r.lockName)}`,
    `attempts: ${modes(s.attempts)}; abandoned lock calls ${s.abandoned}; faults: ${s.pauses} pauses, ${s.kills} kills`,
    `grants: ${c.grants} (${modes(s.grants)}); the lease already gone right after the grant: ${modes(s.grantsWithLeaseGone)}`,
    `history: ${r.changes.length} changes under ${JSON.stringify(`${r.lockName}/`)}, up to revision ${r.lastRevision}`,
    `errors: ${Object.keys(s.errors).length === 0 ? 'none' : modes(s.errors)}`,
    `verdict: ${c.ok ? 'no violation' : `${c.violationCount} violation(s): ${modes(c.byKind)}; by how the client waited: ${modes(r.violationsByMode)}`}`,
    ...c.violations.slice(0, 5).map((v) => `  ${v.kind}: ${v.message}`),
  ];
  return `${lines.join('\n')}\n`;
}

try {
  const result = await runEtcdLockCheck({ ...options, signal: controller.signal, log: (line) => process.stderr.write(`${line}\n`) });
  if (options.json) {
    const { changes: _changes, grants: _grants, ...summary } = result;
    process.stdout.write(`${JSON.stringify({ ...summary, check: { ...result.check, violations: result.check.violations.slice(0, 20) } })}\n`);
  } else process.stdout.write(report(result));
  process.exitCode = result.check.ok ? 0 : 1;
} catch (err) {
  if (controller.signal.aborted) {
    process.stderr.write('synod: interrupted; the cluster was stopped and its directory removed [INTERRUPTED]\n');
    process.exitCode = 130;
  } else {
    process.stderr.write(`synod: ${(err as Error).message} [RUN_FAILED]\n`);
    process.exitCode = 3;
  }
}
