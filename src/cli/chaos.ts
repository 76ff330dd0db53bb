// `synod chaos`: runs many seeded chaos runs of a protocol (random faults, concurrent clients,
// safety monitors and a linearizability check per seed), shows progress on a terminal, prints a
// summary and, for every failing seed, the exact command that replays it.
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { chaosProtocolNames, simProtocol } from '../primitives/index.js';
import type { ChaosResult } from '../sim/chaos.js';
import type { SimProtocol } from '../sim/sim-protocol.js';
import { CliError } from './errors.js';
import { parseIntOption } from './options.js';

interface ChaosFlags {
  protocol?: string;
  seeds: string;
  firstSeed: string;
  nodes?: string;
  durationMs?: string;
  json?: boolean;
}

export interface ChaosRunPlan {
  readonly protocol: string;
  readonly seeds: number;
  readonly firstSeed: number;
  readonly nodes: number;
  readonly durationMs: number;
}

const EXIT_VIOLATION = 1;
/** Violations printed per failing seed (the rest are counted). */
const SHOWN_PER_SEED = 3;

export function registerChaosCommand(program: Command): void {
  const names = chaosProtocolNames();
  program
    .command('chaos')
    .description('run seeded chaos tests of a protocol (exit 0: no violation, 1: a violation, 2: bad input)')
    .option('--protocol <name>', `protocol to test (${names.join(', ')})`)
    .option('--seeds <n>', 'how many seeds to run', '100')
    .option('--first-seed <s>', 'the first seed; seeds run from it upwards', '1')
    .option('--nodes <n>', 'cluster size (default: the protocol\'s)')
    .option('--duration-ms <t>', 'virtual time of faults and client load per seed, then heal and settle (default: the protocol\'s)')
    .option('--json', 'print the summary as one JSON object')
    .addHelpText('after', `\n${names.map((n) => `${n}: ${simProtocol(n)?.chaos?.explanation ?? ''}`).join('\n\n')}

Example:
  synod chaos --protocol raft --seeds 200 --nodes 5 --duration-ms 5000`)
    .action((flags: ChaosFlags) => {
      const plan = parseFlags(flags);
      process.exitCode = runChaosCommand(simProtocol(plan.protocol) as SimProtocol, plan, flags.json === true);
    });
}

function parseFlags(flags: ChaosFlags): ChaosRunPlan {
  const names = chaosProtocolNames();
  if (flags.protocol === undefined) throw new CliError('BAD_OPTION', `--protocol is required (${names.join(', ')})`);
  const protocol = simProtocol(flags.protocol);
  if (protocol?.chaos === undefined) throw new CliError('UNKNOWN_PROTOCOL', `chaos does not know protocol "${flags.protocol}" (known: ${names.join(', ')})`);
  const defaults = protocol.chaos.defaults;
  return {
    protocol: protocol.name,
    seeds: parseIntOption('--seeds', flags.seeds, 1, 10_000_000),
    firstSeed: parseIntOption('--first-seed', flags.firstSeed, 0, Number.MAX_SAFE_INTEGER - 10_000_000),
    nodes: parseIntOption('--nodes', flags.nodes ?? String(defaults.nodes), 1, 15),
    durationMs: parseIntOption('--duration-ms', flags.durationMs ?? String(defaults.durationMs), 100, 3_600_000),
  };
}

export function replayCommand(plan: Omit<ChaosRunPlan, 'seeds' | 'firstSeed'>, seed: number): string {
  return `synod chaos --protocol ${plan.protocol} --seeds 1 --first-seed ${seed} --nodes ${plan.nodes} --duration-ms ${plan.durationMs}`;
}

export interface ChaosTotals {
  ok: number;
  fail: number;
  unknown: number;
  elections: number;
  messages: number;
  undecided: number;
}

function runChaosCommand(protocol: SimProtocol, plan: ChaosRunPlan, json: boolean): number {
  const run = (protocol.chaos as NonNullable<SimProtocol['chaos']>).run;
  const started = performance.now();
  const progress = process.stderr.isTTY === true && !json;
  const failures: ChaosResult[] = [];
  const totals: ChaosTotals = { ok: 0, fail: 0, unknown: 0, elections: 0, messages: 0, undecided: 0 };
  for (let i = 0; i < plan.seeds; i++) {
    const seed = plan.firstSeed + i;
    if (progress) process.stderr.write(`\rchaos: seed ${seed} (${i + 1}/${plan.seeds}), ${failures.length} failing so far`);
    const result = run({ seed, nodes: plan.nodes, durationMs: plan.durationMs });
    totals.ok += result.ops.ok;
    totals.fail += result.ops.fail;
    totals.unknown += result.ops.unknown;
    totals.elections += result.elections;
    totals.messages += result.messages;
    if (result.linearizability === 'unknown') totals.undecided++;
    if (!result.ok) {
      failures.push(result);
      if (progress) process.stderr.write(`\rchaos: seed ${seed} FAILED: ${describeViolation(result)}\n`);
    }
  }
  if (progress) process.stderr.write('\r\x1b[K');
  const seconds = (performance.now() - started) / 1000;
  if (json) printJson(plan, failures, totals, seconds);
  else printText(plan, failures, totals, seconds);
  return failures.length > 0 ? EXIT_VIOLATION : 0;
}

function describeViolation(result: ChaosResult): string {
  const first = result.violations[0];
  return first === undefined ? 'unknown failure' : `${first.kind} at ${first.atMs} ms: ${first.message}`;
}

function printText(plan: ChaosRunPlan, failures: readonly ChaosResult[], totals: ChaosTotals, seconds: number): void {
  process.stdout.write(formatChaosSummary(plan, failures, totals, seconds));
}

/** The text summary: totals, then each failing seed with its violations and replay command. */
export function formatChaosSummary(plan: ChaosRunPlan, failures: readonly ChaosResult[], totals: ChaosTotals, seconds: number): string {
  const last = plan.firstSeed + plan.seeds - 1;
  const lines = [
    `${plan.protocol} chaos: ${plan.seeds} seed(s) ${plan.firstSeed}..${last}, ${plan.nodes} nodes, ${plan.durationMs} ms of faults each: ${failures.length === 0 ? 'no violations' : `${failures.length} seed(s) with violations`}`,
    `  client operations: ${totals.ok} ok, ${totals.fail} failed, ${totals.unknown} unknown; ${totals.elections} elections; ${totals.messages} messages; ${seconds.toFixed(1)} s`,
  ];
  if (totals.undecided > 0) lines.push(`  linearizability undecided (checker budget) for ${totals.undecided} seed(s)`);
  for (const f of failures) {
    lines.push(`seed ${f.seed}:`);
    for (const v of f.violations.slice(0, SHOWN_PER_SEED)) lines.push(`  ${v.kind} at ${v.atMs} ms: ${v.message}`);
    if (f.violations.length > SHOWN_PER_SEED) lines.push(`  ... and ${f.violations.length - SHOWN_PER_SEED} more`);
    lines.push(`  replay: ${replayCommand(plan, f.seed)}`);
  }
  return `${lines.join('\n')}\n`;
}

function printJson(plan: ChaosRunPlan, failures: readonly ChaosResult[], totals: ChaosTotals, seconds: number): void {
  const summary = {
    ...plan,
    passed: plan.seeds - failures.length,
    failed: failures.length,
    ops: { ok: totals.ok, fail: totals.fail, unknown: totals.unknown },
    elections: totals.elections,
    messages: totals.messages,
    linearizabilityUndecided: totals.undecided,
    seconds: Math.round(seconds * 1000) / 1000,
    failures: failures.map((f) => ({ seed: f.seed, violations: f.violations, linearizability: f.linearizability, replay: replayCommand(plan, f.seed) })),
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}
