// Runs etcd 3.4's own lock service (v3lock over the JSON gateway) on a local cluster under
// randomized clients and faults, then judges every grant against the lock's key history with
// checkQueueGrants (src/lock/test/etcd-lock-run.ts does the work). Exit 0: no violation; 1: violations; 2: bad input.
// Usage: node --import tsx scripts/etcd-lock-check.ts [--seed N] [--duration 60s] [--clients 5] [--members 3] [--no-faults] [--json] [--help]
import { runEtcdLockCheck, type EtcdLockRunResult } from '../src/lock/test/etcd-lock-run.js';
import { fail, interruptSignal, parseDurationMs, parseIntFlag, runCheck } from './lib/run-args.js';

const USAGE = 'usage: etcd-lock-check.ts [--seed N] [--duration 60s|90000ms|2m] [--clients 1-64] [--members 1-7] [--no-faults] [--json] [--help]';

const options = { seed: 1, durationMs: 60_000, clients: 5, members: 3, faults: true, json: false };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const a = args[i] as string;
  if (a === '--help' || a === '-h') {
    process.stdout.write(`${USAGE}\nExit status: 0 no violation found, 1 violations found, 2 bad input.\n`);
    process.exit(0);
  } else if (a === '--seed') options.seed = parseIntFlag('--seed', args[++i], 0, Number.MAX_SAFE_INTEGER);
  else if (a === '--duration') options.durationMs = parseDurationMs(args[++i] ?? '');
  else if (a === '--clients') options.clients = parseIntFlag('--clients', args[++i], 1, 64);
  else if (a === '--members') options.members = parseIntFlag('--members', args[++i], 1, 7);
  else if (a === '--no-faults') options.faults = false;
  else if (a === '--json') options.json = true;
  else fail(`unknown argument ${JSON.stringify(a)}; ${USAGE}`);
}

const signal = interruptSignal('the clients and the cluster');

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

await runCheck(
  signal,
  () => runEtcdLockCheck({ ...options, signal, log: (line) => process.stderr.write(`${line}\n`) }),
  (r) => r.check.ok,
  (result) => {
    if (!options.json) return void process.stdout.write(report(result));
    const { changes: _changes, grants: _grants, ...summary } = result;
    process.stdout.write(`${JSON.stringify({ ...summary, check: { ...result.check, violations: result.check.violations.slice(0, 20) } })}\n`);
  },
);
