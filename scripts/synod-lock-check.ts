// Runs Synod's own lock recipe (KvLock over SynodLeaseKv) on a local cluster of real processes
// under randomized clients and faults (SIGSTOP, SIGKILL and restart of nodes), then judges every
// grant against the lock's key history with checkQueueGrants and checks that the fencing tokens
// only grow (src/lock/test/synod-lock-run.ts does the work). Exit 0: no violation; 1: violations;
// 2: bad input. The same check as scripts/etcd-lock-check.ts, aimed at our own lock.
// Usage: node --import tsx scripts/synod-lock-check.ts [--seed N] [--duration 60s] [--clients 5] [--nodes 3] [--no-faults] [--base-port P] [--json] [--help]
import { runSynodLockCheck, type SynodLockRunResult } from '../src/lock/test/synod-lock-run.js';
import { fail, interruptSignal, parseDurationMs, parseIntFlag, runCheck } from './lib/run-args.js';

const USAGE = 'usage: synod-lock-check.ts [--seed N] [--duration 60s|90000ms|2m] [--clients 1-64] [--nodes 1-7] [--no-faults] [--base-port 1024-64000] [--json] [--help]';

const options = { seed: 1, durationMs: 60_000, clients: 5, nodes: 3, faults: true, basePort: 28300, json: false };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const a = args[i] as string;
  if (a === '--help' || a === '-h') {
    process.stdout.write(`${USAGE}\nExit status: 0 no violation found, 1 violations found, 2 bad input, 3 the run failed.\n`);
    process.exit(0);
  } else if (a === '--seed') options.seed = parseIntFlag('--seed', args[++i], 0, Number.MAX_SAFE_INTEGER);
  else if (a === '--duration') options.durationMs = parseDurationMs(args[++i] ?? '');
  else if (a === '--clients') options.clients = parseIntFlag('--clients', args[++i], 1, 64);
  else if (a === '--nodes') options.nodes = parseIntFlag('--nodes', args[++i], 1, 7);
  else if (a === '--base-port') options.basePort = parseIntFlag('--base-port', args[++i], 1024, 64_000);
  else if (a === '--no-faults') options.faults = false;
  else if (a === '--json') options.json = true;
  else fail(`unknown argument ${JSON.stringify(a)}; ${USAGE}`);
}

const signal = interruptSignal('the clients and the cluster');

function report(r: SynodLockRunResult): string {
  const c = r.check;
  const s = r.stats;
  const modes = (x: Record<string, number>): string => Object.entries(x).map(([k, v]) => `${k} ${v}`).join(', ');
  const lines = [
    `Synod, ${r.nodes} nodes, ${r.clients} clients, seed ${r.seed}, ${r.durationMs / 1000} s, lease TTL ${r.ttlMs} ms, lock ${JSON.stringify(r.lockName)}`,
    `attempts: ${modes(s.attempts)}; gave up waiting (LOCK_TIMEOUT) ${s.timeouts}; faults: ${s.pauses} pauses, ${s.kills} kills`,
    `grants: ${c.grants} (${modes(s.grants)}); releases that found the lease gone: ${modes(s.releasesLost)}`,
    `history: ${r.changes.length} changes under the lock's prefix, up to revision ${r.lastRevision}`,
    `errors: ${Object.keys(s.errors).length === 0 ? 'none' : modes(s.errors)}`,
    `tokens: ${r.tokenRegressions === 0 ? 'every grant above all earlier ones' : `${r.tokenRegressions} grant(s) not above an earlier one`}`,
    `verdict: ${c.ok && r.tokenRegressions === 0 ? 'no violation' : `${c.violationCount} queue violation(s): ${modes(c.byKind)}; by how the client waited: ${modes(r.violationsByMode)}; ${r.tokenRegressions} token regression(s)`}`,
    ...c.violations.slice(0, 5).map((v) => `  ${v.kind}: ${v.message}`),
  ];
  return `${lines.join('\n')}\n`;
}

await runCheck(
  signal,
  () => runSynodLockCheck({ ...options, signal, log: (line) => process.stderr.write(`${line}\n`) }),
  (r) => r.check.ok && r.tokenRegressions === 0,
  (result) => {
    if (!options.json) return void process.stdout.write(report(result));
    const { changes: _changes, grants: _grants, tokens: _tokens, ...summary } = result;
    process.stdout.write(`${JSON.stringify({ ...summary, check: { ...result.check, violations: result.check.violations.slice(0, 20) } })}\n`);
  },
);
