// Prints one line per (scenario, seed) of the Raft scenario library: whether it passed and the
// SHA-256 of its full trace. Two builds that print the same lines ran every scenario identically
// (used to show that a refactoring of the scenario interpreter changed no behaviour).
// Usage: node --import tsx scripts/scenario-fingerprint.ts [SEEDS]
import { runScenario, SCENARIOS } from '../src/raft/scenarios/index.js';

const seeds = Number(process.argv[2] ?? 3);
if (!Number.isSafeInteger(seeds) || seeds < 1) {
  process.stderr.write('usage: scenario-fingerprint.ts [SEEDS]\n');
  process.exit(2);
}
for (const scenario of SCENARIOS) {
  for (let seed = 1; seed <= seeds; seed++) {
    const r = runScenario(scenario, seed, { trace: { keepLines: false } });
    process.stdout.write(`${scenario.name} ${seed} ${r.ok ? 'ok' : `FAILED ${r.failure ?? ''}`} ${r.cluster.traceSha256() ?? '-'}\n`);
  }
}
