// Runs many seeds of the kv-lease chaos runs (src/raft/chaos-lease.ts) and prints one line per
// seed (verdict, lease counts, trace SHA-256) and a summary; a failing seed's violations follow its
// line, and `synod chaos --protocol kv-lease --seeds 1 --first-seed N` replays it.
// Usage: node --import tsx scripts/kv-lease-chaos.ts [FIRST_SEED] [COUNT] [NODES]
import { runLeaseChaos } from '../src/raft/chaos-lease.js';

const first = Number(process.argv[2] ?? 1);
const count = Number(process.argv[3] ?? 100);
const nodes = Number(process.argv[4] ?? 5);
if (![first, count, nodes].every(Number.isSafeInteger) || count < 1 || nodes < 1) {
  process.stderr.write('usage: kv-lease-chaos.ts [FIRST_SEED] [COUNT] [NODES]\n');
  process.exit(2);
}
const totals = { seeds: 0, failed: 0, granted: 0, keptAlive: 0, expired: 0, revoked: 0, lost: 0, promisesChecked: 0, unknownVerdicts: 0 };
const started = performance.now();
for (let seed = first; seed < first + count; seed++) {
  const r = runLeaseChaos({ seed, nodes, trace: { keepLines: false } });
  const l = r.leases;
  totals.seeds++;
  if (!r.ok) totals.failed++;
  if (r.linearizability === 'unknown') totals.unknownVerdicts++;
  totals.granted += l.granted;
  totals.keptAlive += l.keptAlive;
  totals.expired += l.expired;
  totals.revoked += l.revoked;
  totals.lost += l.lost;
  totals.promisesChecked += l.promisesChecked;
  process.stdout.write(`${seed} ${r.ok ? 'ok' : 'VIOLATION'} ${r.linearizability} granted=${l.granted} keptAlive=${l.keptAlive} expired=${l.expired} revoked=${l.revoked} lost=${l.lost} promises=${l.promisesChecked} ${r.traceSha256 ?? '-'}\n`);
  for (const v of r.violations.slice(0, 5)) process.stdout.write(`  ${v.kind} at ${v.atMs} ms: ${v.message}\n`);
}
process.stdout.write(`# ${JSON.stringify(totals)} in ${Math.round((performance.now() - started) / 1000)} s\n`);
process.exitCode = totals.failed === 0 ? 0 : 1;
