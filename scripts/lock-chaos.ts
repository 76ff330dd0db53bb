// Runs many seeds of lock chaos (src/lockcore/sim/chaos.ts) and prints one line per seed (verdict,
// operations, grants, refused writes, trace SHA-256) and a summary; a failing seed's violations
// follow its line, and `synod chaos --protocol VARIANT --seeds 1 --first-seed N` replays it.
// Usage: node --import tsx scripts/lock-chaos.ts [FIRST_SEED] [COUNT] [VARIANT] [NODES]
//   VARIANT: lock (default: Synod with fenced storage), lock-unfenced, lock-redis, redlock
import { LOCK_VARIANTS, runLockChaos } from '../src/lockcore/sim/chaos.js';

const first = Number(process.argv[2] ?? 1);
const count = Number(process.argv[3] ?? 100);
const variant = LOCK_VARIANTS.find((v) => v.name === (process.argv[4] ?? 'lock'));
const nodes = process.argv[5] === undefined ? undefined : Number(process.argv[5]);
if (![first, count].every(Number.isSafeInteger) || count < 1 || variant === undefined || (nodes !== undefined && !Number.isSafeInteger(nodes))) {
  process.stderr.write(`usage: lock-chaos.ts [FIRST_SEED] [COUNT] [${LOCK_VARIANTS.map((v) => v.name).join('|')}] [NODES]\n`);
  process.exit(2);
}
const totals = { seeds: 0, failed: 0, ok: 0, fail: 0, unknown: 0, grants: 0, acceptedWrites: 0, refusedWrites: 0, clientOverlaps: 0, clientValidOverlaps: 0, elections: 0, unknownVerdicts: 0 };
const failing: number[] = [];
const started = performance.now();
for (let seed = first; seed < first + count; seed++) {
  const r = runLockChaos({ seed, variant, ...(nodes === undefined ? {} : { nodes }), trace: {} });
  const l = r.lock;
  totals.seeds++;
  if (!r.ok) {
    totals.failed++;
    failing.push(seed);
  }
  if (r.linearizability === 'unknown') totals.unknownVerdicts++;
  totals.ok += r.ops.ok;
  totals.fail += r.ops.fail;
  totals.unknown += r.ops.unknown;
  totals.grants += l.grants;
  totals.acceptedWrites += l.acceptedWrites;
  totals.refusedWrites += l.refusedWrites;
  totals.clientOverlaps += l.clientOverlaps;
  totals.clientValidOverlaps += l.clientValidOverlaps;
  totals.elections += r.elections;
  process.stdout.write(`${seed} ${r.ok ? 'ok' : 'VIOLATION'} ${r.linearizability} ops=${r.ops.ok}/${r.ops.fail}/${r.ops.unknown} grants=${l.grants} accepted=${l.acceptedWrites} refused=${l.refusedWrites} ${r.traceSha256 ?? '-'}\n`);
  for (const v of r.violations.slice(0, 5)) process.stdout.write(`  ${v.kind} at ${v.atMs} ms: ${v.message}\n`);
}
const seconds = Math.round((performance.now() - started) / 1000);
process.stdout.write(`# ${variant.name}: ${JSON.stringify(totals)} in ${seconds} s${failing.length > 0 ? `; failing seeds ${failing.slice(0, 50).join(', ')}${failing.length > 50 ? ', ...' : ''}` : ''}\n`);
process.exitCode = totals.failed === 0 ? 0 : 1;
