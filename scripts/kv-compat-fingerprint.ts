// The Raft chaos and scenario fingerprints with every KV snapshot cut down to the layout of the
// KV before history ({revision, items}), so that snapshot transfers carry the same bytes as then.
// The full snapshot now also carries history and leases, which changes the trace of every run
// that sends one; with this cut, a build whose commands and queries answer exactly as before
// prints exactly the lines of scripts/chaos-fingerprint.ts and scenario-fingerprint.ts of that older build.
// Usage: node --import tsx scripts/kv-compat-fingerprint.ts chaos [FIRST_SEED] [COUNT] | scenario [SEEDS]
import type { JsonValue } from '../src/core/index.js';
import { KvStore } from '../src/kv/store.js';
import { runChaos } from '../src/raft/chaos.js';
import { runScenario, SCENARIOS } from '../src/raft/scenarios/index.js';

const full = KvStore.prototype.snapshot;
KvStore.prototype.snapshot = function legacySnapshot(this: KvStore): JsonValue {
  const s = full.call(this) as { revision: number; items: JsonValue };
  return { revision: s.revision, items: s.items };
};

const [mode, a, b] = process.argv.slice(2);
if (mode === 'chaos') {
  const first = Number(a ?? 1);
  const count = Number(b ?? 100);
  for (let seed = first; seed < first + count; seed++) {
    const r = runChaos({ seed, trace: { keepLines: false } });
    process.stdout.write(`${seed} ${r.ok ? 'ok' : 'VIOLATION'} ${r.linearizability} ${r.traceSha256 ?? '-'}\n`);
  }
} else if (mode === 'scenario') {
  const seeds = Number(a ?? 3);
  for (const scenario of SCENARIOS) {
    for (let seed = 1; seed <= seeds; seed++) {
      const r = runScenario(scenario, seed, { trace: { keepLines: false } });
      process.stdout.write(`${scenario.name} ${seed} ${r.ok ? 'ok' : `FAILED ${r.failure ?? ''}`} ${r.cluster.traceSha256() ?? '-'}\n`);
    }
  }
} else {
  process.stderr.write('usage: kv-compat-fingerprint.ts chaos [FIRST_SEED] [COUNT] | scenario [SEEDS]\n');
  process.exit(2);
}
