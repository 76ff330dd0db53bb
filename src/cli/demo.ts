// `synod demo` (what `npm start` runs for now): a five-node simulated cluster under a scripted
// nemesis, narrated as it runs, so a newcomer sees the simulator, its faults and its records.
import type { Command } from 'commander';
import { echoSpec, parseNemesisScript, runEchoWorkload, scheduleNemesis, Simulation } from '../sim/index.js';
import { parseIntOption } from './options.js';
import { registerSagaDemoCommand } from './saga.js';

const SCRIPT = `
at 1000 ms partition {1,2} | {3,4,5}
at 2500 ms heal
at 3000 ms crash 3
at 3200 ms pause 4 for 400 ms
at 4000 ms restart 3
at 4500 ms loss 0.2
at 5500 ms loss 0
`;

export function registerDemoCommand(program: Command): void {
  const demo = program
    .command('demo')
    .description('run a small simulated cluster under faults and narrate what happened (synod demo saga: the order saga with real services)')
    .option('--seed <s>', 'seed of the run', '1')
    .action((flags: { seed: string }) => runDemo(parseIntOption('--seed', flags.seed, 0, Number.MAX_SAFE_INTEGER)));
  registerSagaDemoCommand(demo);
}

function runDemo(seed: number): void {
  const out = (line: string): void => void process.stdout.write(line + '\n');
  out(`Synod demo: 5 nodes running a broadcast-with-acks core in the deterministic simulator (seed ${seed}).`);
  out('Three clients broadcast values through random nodes; an acknowledged value is held by a majority.\n');
  const sim = new Simulation({ seed, protocol: echoSpec(), nodes: 5, fsyncMs: 1 });
  runEchoWorkload(sim, { clients: 3, untilMs: 6000, thinkMs: 20, timeoutMs: 300 });
  const completed = { ok: 0, unknown: 0 };
  sim.subscribe((e) => {
    if (e.ev === 'complete' && e.outcome !== 'fail') completed[e.outcome]++;
    if (e.ev === 'note' && e.text.startsWith('nemesis:')) out(`  ${String(e.t).padStart(5)} ms  ${e.text}`);
    if (e.ev === 'restart') out(`  ${String(e.t).padStart(5)} ms  node ${e.node} recovered ${e.replayedOps} durable records from its disk`);
  });
  scheduleNemesis(sim, parseNemesisScript(SCRIPT));
  let last = { ok: 0, unknown: 0 };
  for (let t = 500; t <= 7000; t += 500) {
    sim.runUntil(t);
    const { ok, unknown } = completed;
    out(`  ${String(t).padStart(5)} ms  ${ok - last.ok} broadcasts acknowledged, ${unknown - last.unknown} timed out`);
    last = { ok, unknown };
  }
  const s = sim.stats.total;
  out(`\nMessages: ${s.sent} sent, ${s.delivered} delivered, ${s.dropped} dropped, ${s.duplicated} duplicated.`);
  for (const id of sim.nodeIds) out(`Node ${id} holds ${String(sim.annotations(id).get('delivered'))} values.`);
  out(`Trace: ${sim.trace?.count ?? 0} events, sha256 ${sim.trace?.sha256() ?? ''} (same seed, same hash).`);
  out('\nNext: synod sim run --help · synod check --help · docs/ARCHITECTURE.md');
}
