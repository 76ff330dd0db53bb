// Prints one line per seed of Raft chaos runs: the verdict and the SHA-256 of the full trace.
// Two builds that print the same lines behaved identically, message for message (used to show
// that a refactoring of the Raft core changed no behaviour).
// Usage: node --import tsx scripts/chaos-fingerprint.ts [FIRST_SEED] [COUNT]
import { runChaos } from '../src/raft/chaos.js';

const first = Number(process.argv[2] ?? 1);
const count = Number(process.argv[3] ?? 100);
if (!Number.isSafeInteger(first) || !Number.isSafeInteger(count) || count < 1) {
  process.stderr.write('usage: chaos-fingerprint.ts [FIRST_SEED] [COUNT]\n');
  process.exit(2);
}
for (let seed = first; seed < first + count; seed++) {
  const r = runChaos({ seed, trace: { keepLines: false } });
  process.stdout.write(`${seed} ${r.ok ? 'ok' : 'VIOLATION'} ${r.linearizability} ${r.traceSha256 ?? '-'}\n`);
}
