// Plays a lock scenario (src/lockcore/sim/scenarios.ts) and prints its verdicts, the storage's
// writes, the operations and the trace's SHA-256; with no name, lists the scenarios.
// Usage: node --import tsx scripts/lock-scenario.ts [NAME [SEED]]
import { LOCK_SCENARIOS, lockScenarioByName, runLockScenario } from '../src/lockcore/sim/scenarios.js';

const name = process.argv[2];
if (name === undefined) {
  for (const s of LOCK_SCENARIOS) process.stdout.write(`${s.name} (seed ${s.seed}): ${s.caption}\n`);
  process.exit(0);
}
const scenario = lockScenarioByName(name);
const seed = process.argv[3] === undefined ? scenario?.seed : Number(process.argv[3]);
if (scenario === undefined || seed === undefined || !Number.isSafeInteger(seed)) {
  process.stderr.write(`usage: lock-scenario.ts [NAME [SEED]]; names: ${LOCK_SCENARIOS.map((s) => s.name).join(', ')}\n`);
  process.exit(2);
}
const r = runLockScenario(scenario, seed, { trace: {} });
const out: string[] = [`${scenario.name}, seed ${seed}: ${scenario.caption}`];
if (r.failure !== undefined) out.push(`step failed: ${r.failure}`);
out.push(`verdicts: ${Object.entries(r.verdicts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
out.push(r.mismatches.length === 0 ? 'as recorded' : `NOT as recorded: ${r.mismatches.join('; ')}`);
for (const o of [...r.details.service.overlaps, ...r.details.client.overlaps, ...r.details.clientValid.overlaps].slice(0, 3)) out.push(`  ${o.message}`);
for (const v of r.details.resource.violations.slice(0, 3)) out.push(`  ${v.message}`);
if (r.inventory !== undefined) out.push(`inventory: ${r.inventory.message}`);
out.push(`storage writes: ${r.system.writes.map((w) => `${w.holder} token ${w.token ?? '-'} at ${w.atMs} ms ${w.accepted ? 'accepted' : 'refused'}`).join('; ') || 'none under a lock'}`);
out.push(`operations: ${r.system.history().ops.map((o) => `${o.process} ${o.f} ${o.outcome}${o.output === null ? '' : ` ${JSON.stringify(o.output)}`}`).join('; ')}`);
if (r.system.poweredOff.length > 0) out.push(`powered off: ${r.system.poweredOff.map((p) => `${p.target} by ${p.requester} at ${p.atMs} ms`).join('; ')}`);
out.push(`trace sha256 ${r.system.traceSha256() ?? '-'}`);
process.stdout.write(`${out.join('\n')}\n`);
process.exitCode = r.failure === undefined && r.mismatches.length === 0 ? 0 : 1;
