// Runs the order saga under crashes in the simulator and prints a summary; exits 1 on any violation.
// Kill mode: for each seed, each target (the orchestrator, each service) and each boundary k
// (the orchestrator's k-th log record, a service's k-th invocation), crash just before and just
// after it is durable, restart, and check. Random mode: the random nemesis on every node.
// A failing run replays from its seed (and kill plan) printed on its line.
// Usage: node --import tsx scripts/saga-chaos.ts [--kill-seeds N] [--sagas N] [--random-seeds N] [--first-seed N] [--no-dedupe] [--quiet]
import { performance } from 'node:perf_hooks';
import { runSagaChaos } from '../src/saga/sim/chaos.js';
import { KILL_TARGETS, killPlans, runOrderSagaKill } from '../src/saga/sim/order-saga.js';

const flags = { killSeeds: 20, sagas: 1, randomSeeds: 200, first: 1, dedupe: true, quiet: false };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const num = (): number => {
    const n = Number(args[++i]);
    if (!Number.isSafeInteger(n) || n < 0) {
      process.stderr.write(`saga-chaos: ${a} needs a whole number\n`);
      process.exit(2);
    }
    return n;
  };
  if (a === '--kill-seeds') flags.killSeeds = num();
  else if (a === '--sagas') flags.sagas = Math.max(1, num());
  else if (a === '--random-seeds') flags.randomSeeds = num();
  else if (a === '--first-seed') flags.first = num();
  else if (a === '--no-dedupe') flags.dedupe = false;
  else if (a === '--quiet') flags.quiet = true;
  else {
    process.stderr.write('usage: saga-chaos.ts [--kill-seeds N] [--sagas N] [--random-seeds N] [--first-seed N] [--no-dedupe] [--quiet]\n');
    process.exit(2);
  }
}

const started = performance.now();
const failing: string[] = [];
const kill = { runs: 0, crashed: 0, committed: 0, compensated: 0, effects: 0 };
/** Boundaries tried per target: past the last one a run has no crash, so stop there. */
const MAX_BOUNDARY = 40;
for (let seed = flags.first; seed < flags.first + flags.killSeeds; seed++) {
  for (const target of KILL_TARGETS) {
    for (const plan of killPlans(target, MAX_BOUNDARY)) {
      const r = runOrderSagaKill({ seed, kill: plan, sagas: flags.sagas, dedupe: flags.dedupe });
      kill.runs++;
      if (r.crashed) kill.crashed++;
      kill.committed += r.check.committed;
      kill.compensated += r.check.compensated;
      kill.effects += r.check.effects;
      if (!r.check.ok || !r.settled) {
        const line = `kill seed ${seed} ${target} boundary ${plan.boundary} ${plan.when}: ${r.settled ? '' : 'did not settle; '}${r.check.violations.map((v) => `${v.code} ${v.message}`).slice(0, 3).join('; ')}`;
        failing.push(line);
        if (!flags.quiet) process.stdout.write(`${line}\n`);
      }
      if (!r.crashed && plan.when === 'after') break; // the target has no more boundaries in this run
    }
  }
}
const random = { runs: 0, committed: 0, compensated: 0, effects: 0, starts: 0, unknownStarts: 0 };
for (let seed = flags.first; seed < flags.first + flags.randomSeeds; seed++) {
  const r = runSagaChaos({
    seed,
    dedupe: flags.dedupe,
    onCheck: (c) => {
      random.committed += c.committed;
      random.compensated += c.compensated;
      random.effects += c.effects;
    },
  });
  random.runs++;
  random.starts += r.ops.ok + r.ops.fail + r.ops.unknown;
  random.unknownStarts += r.ops.unknown;
  if (!r.ok) {
    const line = `random seed ${seed}: ${r.violations.map((v) => `${v.kind} ${v.message}`).slice(0, 3).join('; ')}`;
    failing.push(line);
    if (!flags.quiet) process.stdout.write(`${line}\n`);
  }
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
process.stdout.write(
  `kill runs: ${kill.runs} (${kill.crashed} crashed at their boundary); sagas committed ${kill.committed}, compensated ${kill.compensated}; effects ${kill.effects}\n` +
    `random-nemesis runs: ${random.runs}; sagas committed ${random.committed}, compensated ${random.compensated}; effects ${random.effects}; start requests ${random.starts} (${random.unknownStarts} unanswered)\n` +
    `runs with a violation: ${failing.length}; ${seconds} s\n`,
);
process.exit(failing.length === 0 ? 0 : 1);
