// `synod sim run`: runs a protocol in the deterministic simulator with an optional nemesis and
// prints a summary ending with the trace's SHA-256, so two runs with one seed can be compared.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { Command } from 'commander';
import {
  NemesisSyntaxError,
  parseNemesisScript,
  parseRandomNemesis,
  scheduleNemesis,
  scheduleRandomNemesis,
  type NemesisStep,
  type Simulation,
  type Message,
} from '../sim/index.js';
import { CliError } from './errors.js';
import { simProtocol, simProtocolNames } from '../primitives/index.js';
import type { BuiltSimulation } from '../sim/sim-protocol.js';
import { parseIntOption } from './options.js';

interface SimRunFlags {
  protocol: string;
  nodes: string;
  seed: string;
  durationMs: string;
  nemesis?: string;
  trace?: string;
  json?: boolean;
}

export function registerSimCommand(program: Command): void {
  const sim = program.command('sim').description('run protocols in the deterministic fault-injection simulator');
  sim
    .command('run')
    .description('run a simulated cluster and print a summary ending with the trace SHA-256')
    .requiredOption('--protocol <name>', `protocol to run (${simProtocolNames().join(', ')})`)
    .option('--nodes <n>', 'number of nodes', '5')
    .option('--seed <s>', 'seed of every random choice (same seed, same trace)', '1')
    .option('--duration-ms <t>', 'virtual time to run', '10000')
    .option('--nemesis <spec>', 'faults: a script "at 2000 ms partition {1,2} | {3,4,5}; at 5000 ms heal", "random", "random(meanMs=500,crash=2)", or @FILE')
    .option('--trace <file>', 'write the trace as JSON Lines to FILE')
    .option('--json', 'print the summary as one JSON object')
    .addHelpText('after', `
Nemesis actions: partition {a,b} | {c,d} ...; partition {a} -> {b} (one way); isolate T; heal;
crash T; restart T|all; pause T for D ms; slow T Ms; clock T OFFSETms [DRIFTppm];
loss R; duplicate R; reorder R.  T is a node id, "leader" or "random".

Example:
  synod sim run --protocol echo --nodes 5 --seed 7 --duration-ms 10000 \\
    --nemesis "at 2000 ms partition {1,2} | {3,4,5}; at 5000 ms heal; at 6000 ms crash random"`)
    .action((flags: SimRunFlags) => runSim(flags));
}

function runSim(flags: SimRunFlags): void {
  const protocol = simProtocol(flags.protocol);
  if (protocol === undefined) throw new CliError('UNKNOWN_PROTOCOL', `unknown protocol "${flags.protocol}" (known: ${simProtocolNames().join(', ')})`);
  const nodes = parseIntOption('--nodes', flags.nodes, protocol.minNodes, 1000);
  const seed = parseIntOption('--seed', flags.seed, 0, Number.MAX_SAFE_INTEGER);
  const durationMs = parseIntOption('--duration-ms', flags.durationMs, 1, 1e12);
  const nemesis = parseNemesisFlag(flags.nemesis, durationMs);
  const traceFile = flags.trace === undefined ? undefined : new LineFile(flags.trace);
  const wallStart = performance.now();
  const faults: string[] = [];
  let built: BuiltSimulation;
  try {
    built = protocol.build({ seed, nodes, durationMs, trace: { sink: traceFile?.sink } });
    applyNemesis(built.sim, nemesis, durationMs);
    built.sim.subscribe((e) => {
      if (e.ev === 'note' && e.text.startsWith('nemesis: ')) faults.push(`${e.t} ms ${e.text.slice('nemesis: '.length)}`);
    });
    runWithProgress(built.sim, durationMs);
  } finally {
    traceFile?.close();
  }
  const wallMs = performance.now() - wallStart;
  printSummary(built, { protocol: protocol.name, nodes, seed, durationMs, wallMs, traceFile: flags.trace, json: flags.json === true, faults });
}

type NemesisPlan = { kind: 'none' } | { kind: 'script'; steps: NemesisStep[] } | { kind: 'random'; spec: string };

function parseNemesisFlag(spec: string | undefined, durationMs: number): NemesisPlan {
  if (spec === undefined) return { kind: 'none' };
  let text = spec;
  if (spec.startsWith('@')) {
    try {
      text = readFileSync(spec.slice(1), 'utf8');
    } catch (err) {
      throw new CliError('NEMESIS_FILE', `cannot read nemesis file ${spec.slice(1)}: ${(err as Error).message}`);
    }
  }
  try {
    if (parseRandomNemesis(text, durationMs) !== undefined) return { kind: 'random', spec: text };
    return { kind: 'script', steps: parseNemesisScript(text) };
  } catch (err) {
    if (err instanceof NemesisSyntaxError) throw new CliError('BAD_NEMESIS', `bad --nemesis: ${err.message}`);
    throw err;
  }
}

function applyNemesis(sim: Simulation<Message, unknown, unknown, unknown>, plan: NemesisPlan, durationMs: number): void {
  if (plan.kind === 'random') {
    // stop starting faults at 80% of the run so the end shows the system settling
    const untilMs = Math.floor(durationMs * 0.8);
    scheduleRandomNemesis(sim, parseRandomNemesis(plan.spec, untilMs) as NonNullable<ReturnType<typeof parseRandomNemesis>>);
  } else if (plan.kind === 'script') {
    const known = new Set(sim.nodeIds);
    for (const step of plan.steps) {
      for (const id of nodesNamedBy(step)) {
        if (!known.has(id)) throw new CliError('BAD_NEMESIS', `bad --nemesis: node "${id}" does not exist (nodes: ${sim.nodeIds.join(', ')})`);
      }
    }
    scheduleNemesis(sim, plan.steps);
  }
}

function nodesNamedBy(step: NemesisStep): string[] {
  const a = step.action;
  const ids: string[] = [];
  if (a.kind === 'partition') ids.push(...a.groups.flat());
  if (a.kind === 'partition-one-way') ids.push(...a.from, ...a.to);
  if ('target' in a && a.target.kind === 'node') ids.push(a.target.id);
  return ids;
}

/** Runs in slices of virtual time; on a terminal, shows a progress bar on stderr. */
function runWithProgress(sim: Simulation<Message, unknown, unknown, unknown>, durationMs: number): void {
  const tty = process.stderr.isTTY === true;
  const slices = 100;
  let lastDraw = 0;
  for (let i = 1; i <= slices; i++) {
    sim.runUntil(Math.floor((durationMs * i) / slices));
    const now = performance.now();
    if (tty && (now - lastDraw > 100 || i === slices)) {
      lastDraw = now;
      const bar = '='.repeat(Math.floor(i / 4)).padEnd(25);
      process.stderr.write(`\r[${bar}] ${String(i).padStart(3)}%  ${sim.nowMs} / ${durationMs} ms virtual`);
    }
  }
  if (tty) process.stderr.write('\n');
}

interface SummaryContext {
  protocol: string;
  nodes: number;
  seed: number;
  durationMs: number;
  wallMs: number;
  traceFile: string | undefined;
  json: boolean;
  faults: string[];
}

function printSummary(built: BuiltSimulation, c: SummaryContext): void {
  const { sim } = built;
  const history = sim.historySnapshot();
  const outcomes = { ok: 0, fail: 0, unknown: 0 };
  for (const op of history.ops) outcomes[op.outcome]++;
  const hash = sim.trace?.sha256() ?? '';
  const byType = Object.fromEntries([...sim.stats.byType].sort(([a], [b]) => a.localeCompare(b)));
  if (c.json) {
    const out = { ...c, json: undefined, events: sim.stats.eventsProcessed, messages: sim.stats.total, drops: sim.stats.dropsByReason, byType, operations: outcomes, notes: built.summarize(), traceEvents: sim.trace?.count ?? 0, traceSha256: hash };
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }
  const t = sim.stats.total;
  const d = sim.stats.dropsByReason;
  const lines = [
    `protocol ${c.protocol}, ${c.nodes} nodes, seed ${c.seed}, ${c.durationMs} ms virtual in ${c.wallMs.toFixed(0)} ms wall`,
    `events processed: ${sim.stats.eventsProcessed}`,
    `nemesis: ${c.faults.length === 0 ? 'none' : c.faults.length <= 12 ? c.faults.join('; ') : `${c.faults.length} actions, first: ${c.faults.slice(0, 6).join('; ')}; ...`}`,
    `messages: ${t.sent} sent, ${t.delivered} delivered, ${t.dropped} dropped (loss ${d.loss}, partition ${d.partition}, down ${d.down}), ${t.duplicated} duplicated`,
    ...Object.entries(byType).map(([type, n]) => `  ${type.padEnd(16)} sent ${n.sent}, delivered ${n.delivered}, dropped ${n.dropped}, duplicated ${n.duplicated}`),
    `client operations: ${history.ops.length} (ok ${outcomes.ok}, fail ${outcomes.fail}, unknown ${outcomes.unknown})`,
    ...built.summarize(),
    ...(c.traceFile === undefined ? [] : [`trace written to ${c.traceFile}`]),
    `trace: ${sim.trace?.count ?? 0} events, sha256 ${hash}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

/** A JSON Lines file written in large synchronous chunks (the simulator is synchronous). */
class LineFile {
  private readonly fd: number;
  private buffer: string[] = [];
  private chars = 0;

  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, 'w');
    } catch (err) {
      throw new CliError('TRACE_FILE', `cannot write trace file ${path}: ${(err as Error).message}`);
    }
  }

  readonly sink = (line: string): void => {
    this.buffer.push(line);
    this.chars += line.length + 1;
    if (this.chars > 1 << 20) this.flush();
  };

  private flush(): void {
    if (this.buffer.length === 0) return;
    writeSync(this.fd, this.buffer.join('\n') + '\n');
    this.buffer = [];
    this.chars = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}
