// Runs the order saga under crashes in the simulator and prints a summary; exits 1 on any violation.
// Three modes, all seeded (a failing run replays from the seed and plan printed on its line):
// - kill seeds (protocol saga-kill): seed s kills the target, at the moment and boundary that
//   killPlanForSeed(s) picks (every target, every moment, every boundary over 1,000 seeds);
// - exhaustive: for each seed, each target and each moment, every boundary k until the run has
//   no k-th boundary any more;
// - random (protocol saga): the random nemesis on every node while sagas start.
// Usage: node --import tsx scripts/saga-chaos.ts [--kill-seeds N] [--exhaustive-seeds N] [--sagas N]
//        [--random-seeds N] [--first-seed N] [--no-dedupe] [--quiet]
import { performance } from 'node:perf_hooks';
import { killPlanForSeed, runSagaChaos, runSagaKillChaos } from '../src/saga/sim/chaos.js';
import { KILL_MOMENTS, KILL_TARGETS, runOrderSagaKill, type KillRunResult } from '../src/saga/sim/order-saga.js';

const USAGE = 'usage: saga-chaos.ts [--kill-seeds N] [--exhaustive-seeds N] [--sagas N] [--random-seeds N] [--first-seed N] [--no-dedupe] [--quiet]\n';
const flags = { killSeeds: 2_000, exhaustiveSeeds: 10, sagas: 2, randomSeeds: 200, first: 1, dedupe: true, quiet: false };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const num = (): number => {
    const n = Number(args[++i]);
    if (!Number.isSafeInteger(n) || n < 0 || n > 1_000_000) {
      process.stderr.write(`saga-chaos: ${a} needs a whole number from 0 to 1000000\n`);
      process.exit(2);
    }
    return n;
  };
  if (a === '--kill-seeds') flags.killSeeds = num();
  else if (a === '--exhaustive-seeds') flags.exhaustiveSeeds = num();
  else if (a === '--sagas') flags.sagas = Math.max(1, num());
  else if (a === '--random-seeds') flags.randomSeeds = num();
  else if (a === '--first-seed') flags.first = num();
  else if (a === '--no-dedupe') flags.dedupe = false;
  else if (a === '--quiet') flags.quiet = true;
  else {
    process.stderr.write(USAGE);
    process.exit(2);
  }
}

const started = performance.now();
const failing: string[] = [];
const fail = (line: string): void => {
  failing.push(line);
  if (!flags.quiet) process.stdout.write(`${line}\n`);
};
const describe = (r: KillRunResult): string =>
  `${r.invariant !== undefined ? `invariant ${r.invariant}; ` : ''}${r.settled ? '' : 'did not settle; '}${r.check.violations.map((v) => `${v.code} ${v.message}`).slice(0, 3).join('; ')}`;

// 1. kill seeds (what `synod chaos --protocol saga-kill` runs)
const seeded = { runs: 0, crashed: 0, crashedTwice: 0, committed: 0, compensated: 0, effects: 0 };
for (let seed = flags.first; seed < flags.first + flags.killSeeds; seed++) {
  let run: KillRunResult | undefined;
  const r = runSagaKillChaos(seed, undefined, (k) => (run = k));
  seeded.runs++;
  if (run !== undefined) {
    if (run.crashed) seeded.crashed++;
    if (run.crashes > 1) seeded.crashedTwice++;
    seeded.committed += run.check.committed;
    seeded.compensated += run.check.compensated;
    seeded.effects += run.check.effects;
  }
  if (!r.ok) {
    const { kill, sagas } = killPlanForSeed(seed);
    fail(`kill seed ${seed} (${kill.target} boundary ${kill.boundary} ${kill.when}, ${sagas} sagas): ${r.violations.map((v) => `${v.kind} ${v.message}`).slice(0, 3).join('; ')}`);
  }
}

// 2. exhaustive: every boundary of every target at every moment
const exhaustive = { runs: 0, crashed: 0, committed: 0, compensated: 0, effects: 0 };
/** Boundaries tried at most per target and moment (past the last one a run has no crash: stop there). */
const MAX_BOUNDARY = 60;
for (let seed = flags.first; seed < flags.first + flags.exhaustiveSeeds; seed++) {
  for (const target of KILL_TARGETS) {
    for (const when of KILL_MOMENTS) {
      for (let boundary = 0; boundary < MAX_BOUNDARY; boundary++) {
        const r = runOrderSagaKill({ seed, kill: { target, boundary, when }, sagas: flags.sagas, dedupe: flags.dedupe });
        exhaustive.runs++;
        if (r.crashed) exhaustive.crashed++;
        exhaustive.committed += r.check.committed;
        exhaustive.compensated += r.check.compensated;
        exhaustive.effects += r.check.effects;
        if (!r.check.ok || !r.settled || r.invariant !== undefined) fail(`exhaustive seed ${seed} ${target} boundary ${boundary} ${when} (${flags.sagas} sagas): ${describe(r)}`);
        if (!r.crashed) break; // the target has no more boundaries of this kind in this run
      }
    }
  }
}

// 3. the random nemesis (what `synod chaos --protocol saga` runs)
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
  if (!r.ok) fail(`random seed ${seed}: ${r.violations.map((v) => `${v.kind} ${v.message}`).slice(0, 3).join('; ')}`);
}

const seconds = ((performance.now() - started) / 1000).toFixed(1);
process.stdout.write(
  `kill seeds: ${seeded.runs} runs (${seeded.crashed} crashed their target, ${seeded.crashedTwice} twice); sagas committed ${seeded.committed}, compensated ${seeded.compensated}; effects ${seeded.effects}\n` +
    `exhaustive kills (${flags.sagas} sagas each): ${exhaustive.runs} runs (${exhaustive.crashed} crashed at their boundary); sagas committed ${exhaustive.committed}, compensated ${exhaustive.compensated}; effects ${exhaustive.effects}\n` +
    `random-nemesis runs: ${random.runs}; sagas committed ${random.committed}, compensated ${random.compensated}; effects ${random.effects}; start requests ${random.starts} (${random.unknownStarts} unanswered)\n` +
    `runs with a violation: ${failing.length}; ${seconds} s\n`,
);
process.exit(failing.length === 0 ? 0 : 1);
