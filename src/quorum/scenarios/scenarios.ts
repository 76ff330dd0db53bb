// The store's guided scenarios as data for the one interpreter (src/sim/scenario.ts): W counted,
// R counted with read repair, sloppy quorum and hints, siblings, stale reads at R = W = 1, and
// anti-entropy; each with a fixed seed, a caption, narrated steps and the outcome it must reach.
import type { LinkConfig } from '../../sim/network.js';
import { driveScenarioProgram, runScenarioProgram, ScenarioInterpreter, type ScenarioProgram, type Step } from '../../sim/scenario.js';
import type { QuorumConfig } from '../config.js';
import { QuorumStage, type QuorumStageHost } from './stage.js';
import { QuorumScenarioSteps, type QuorumStep } from './steps.js';

export interface QuorumScenario {
  readonly name: string;
  readonly title: string;
  readonly caption: string;
  readonly seed: number;
  readonly nodes: number;
  readonly config: Partial<QuorumConfig>;
  readonly link: Partial<LinkConfig>;
  readonly steps: readonly Step<QuorumStep>[];
  /** Where the story ends (virtual ms): a visualizer's scrubber range. */
  readonly endMs: number;
  /** The outcome on the recorded seed. */
  readonly expected: Partial<QuorumOutcome>;
}

/** What a run of the store did, in numbers the scenarios are judged by. */
export interface QuorumOutcome {
  readonly writesOk: number;
  readonly writesRefused: number;
  readonly readsOk: number;
  readonly staleReads: number;
  readonly freshReads: number;
  /** The most siblings one read returned. */
  readonly mostSiblings: number;
  /** Copies changed by read repair, and by anti-entropy. */
  readonly readRepairs: number;
  readonly antiEntropyRepairs: number;
  readonly hintsParked: number;
  readonly hintsDelivered: number;
  /** Hints kept now. */
  readonly hintsLeft: number;
  readonly converged: boolean;
  /** Violations found by the dkv checkers over the copies now. */
  readonly durability: number;
  readonly convergence: number;
  readonly uniqueDots: number;
}

export interface QuorumScenarioResult {
  readonly scenario: string;
  readonly seed: number;
  /** A step's expectation that failed, if any. */
  readonly failure: string | undefined;
  readonly outcome: QuorumOutcome;
  /** Outcome fields other than the scenario expects. */
  readonly mismatches: readonly string[];
  readonly stage: QuorumStage;
  readonly steps: QuorumScenarioSteps;
}

/** How often a driven scenario's waiting step looks again (virtual ms), in the visualizer and in the tests that drive it alike. */
export const QUORUM_SCENARIO_POLL_MS = 5;

/** Timings for scenarios: messages slow enough to watch (8-24 ms), failure detection within half a second. */
export const QUORUM_SCENARIO_CONFIG: Partial<QuorumConfig> = {
  partitionCount: 16,
  requestTimeoutMs: 300,
  pingIntervalMs: 100,
  suspectAfterMs: 400,
  hintRetryIntervalMs: 150,
  hintWindowMs: 60_000,
  antiEntropyIntervalMs: 0,
  tombstoneGraceMs: 600_000,
};

export const QUORUM_SCENARIO_LINK: Partial<LinkConfig> = { latency: { kind: 'uniform', minMs: 8, maxMs: 24 } };

const NODES = 5;
const PLACE: Step<QuorumStep> = { do: 'placement', key: 'x', homes: ['H1', 'H2', 'H3'], standIns: ['S1', 'S2'] };
const note = (text: string): Step<QuorumStep> => ({ do: 'note', text });

function scenario(s: Omit<QuorumScenario, 'nodes' | 'link' | 'config'> & { readonly config?: Partial<QuorumConfig> }): QuorumScenario {
  return { nodes: NODES, link: QUORUM_SCENARIO_LINK, ...s, config: { ...QUORUM_SCENARIO_CONFIG, ...s.config } };
}

const STALE_READ_VIA = ['H2', 'S1', 'H1', 'S2', 'H3', 'S1'] as const;

export const QUORUM_SCENARIOS: readonly QuorumScenario[] = [
  scenario({
    name: 'quorum-write-fan-out',
    title: 'A write counted against W',
    caption:
      'N = 3, W = 2. A write goes to the home replicas of x, the first three nodes of its preference list. The coordinator (a home replica) writes its own copy, sends the new version to the other two, and answers the client as soon as two copies are durable; the third acknowledgement comes after the answer and is not needed. A write sent to a node outside the list is forwarded to a home replica.',
    seed: 1,
    endMs: 1200,
    steps: [
      note('x lives on its three home replicas H1, H2, H3 (the first distinct nodes after its position on the ring); S1 and S2 would stand in for one that is down.'),
      PLACE,
      { do: 'run', ms: 200 },
      note('c1 writes x = v1 through H1, a home replica: H1 coordinates. Its own copy is the first of W = 2.'),
      { do: 'put', via: 'H1', key: 'x', value: 'v1', w: 2, as: 'first' },
      { do: 'expectAnswer', ref: 'first', ok: true, acks: 2 },
      note('The client has its answer after two copies; the third home replica acknowledges late, and holds v1 too.'),
      { do: 'run', ms: 150 },
      { do: 'expectFanOut', ref: 'first', counted: 2, late: 1, standIns: 0 },
      { do: 'expectCopy', node: 'H1', key: 'x', values: ['v1'] },
      { do: 'expectCopy', node: 'H2', key: 'x', values: ['v1'] },
      { do: 'expectCopy', node: 'H3', key: 'x', values: ['v1'] },
      note('Now through S1, which is not a home replica: it forwards the write to the first home replica it believes up, which coordinates it. c1 sends the context of its first write, so v2 replaces v1.'),
      { do: 'put', via: 'S1', key: 'x', value: 'v2', w: 2, context: 'last', as: 'second' },
      { do: 'expectAnswer', ref: 'second', ok: true, acks: 2 },
      { do: 'run', ms: 150 },
      { do: 'expectFanOut', ref: 'second', counted: 2, late: 1, standIns: 0 },
      { do: 'expectCopy', node: 'H1', key: 'x', values: ['v2'] },
      { do: 'expectCopy', node: 'H2', key: 'x', values: ['v2'] },
      { do: 'expectCopy', node: 'H3', key: 'x', values: ['v2'] },
      note('Both writes were acknowledged by two home replicas and reached all three.'),
    ],
    expected: { writesOk: 2, writesRefused: 0, readRepairs: 0, hintsParked: 0, converged: true, durability: 0, convergence: 0 },
  }),
  scenario({
    name: 'quorum-read-repair',
    title: 'A read counted against R, and read repair',
    caption:
      'N = 3, R = W = 2, hinted handoff and anti-entropy off. H3 is cut off while x is written: the write succeeds on H1 and H2, and nothing brings it to H3. A read through S1 asks the three home replicas and answers the client after two answers; when H3 answers without v1, S1 sends it the merged version: read repair.',
    seed: 1,
    config: { hintedHandoff: false, antiEntropyIntervalMs: 0, readRepair: true },
    endMs: 1600,
    steps: [
      PLACE,
      note('H3 is cut off from every other node.'),
      { do: 'partition', groups: [['H3'], ['rest']] },
      note('c1 writes x = v1 through H1 with W = 2: H1 and H2 acknowledge; the copy sent to H3 is lost.'),
      { do: 'put', via: 'H1', key: 'x', value: 'v1', w: 2, as: 'write' },
      { do: 'expectAnswer', ref: 'write', ok: true, acks: 2 },
      { do: 'run', ms: 400 },
      note('The network heals. With hinted handoff and anti-entropy off, H3 still has no copy of x.'),
      { do: 'heal' },
      { do: 'run', ms: 500 },
      { do: 'expectCopy', node: 'H3', key: 'x', values: [] },
      note('c2 reads x through S1 with R = 2. S1 is not a home replica: it asks all three and answers with the merge of the first two answers.'),
      { do: 'get', client: 'c2', via: 'S1', key: 'x', r: 2, as: 'read' },
      { do: 'expectAnswer', ref: 'read', ok: true, values: ['v1'] },
      note('Once every asked replica has answered, S1 sends the merged version to each one that answered with less: H3.'),
      { do: 'awaitCopy', node: 'H3', key: 'x', values: ['v1'], withinMs: 1000 },
      { do: 'expectRepaired', ref: 'read', nodes: ['H3'] },
      { do: 'expectFanOut', ref: 'read', counted: 2, late: 1, standIns: 0 },
      note('H3 holds v1 now: the read repaired it.'),
    ],
    expected: { writesOk: 1, readsOk: 1, staleReads: 0, readRepairs: 1, antiEntropyRepairs: 0, hintsParked: 0, converged: true, durability: 0, convergence: 0 },
  }),
  scenario({
    name: 'quorum-sloppy-hint',
    title: 'Sloppy quorum and hinted handoff',
    caption:
      'N = 3, sloppy quorum on. Home replica H3 crashes. A write that needs all three copies (W = all) still succeeds: besides H3 itself (its coordinator’s view may be stale), the coordinator sends H3’s copy to the first stand-in, S1, which keeps it as a hint and acknowledges; that acknowledgement counts toward W. H3 never acknowledges, so when the request times out the coordinator keeps a hint for it too. When H3 restarts, each holder hands its hint over and drops it once H3 acknowledges.',
    seed: 1,
    config: { sloppyQuorum: true, antiEntropyIntervalMs: 0 },
    endMs: 2000,
    steps: [
      PLACE,
      note('H3 crashes. The others notice when they stop hearing from it.'),
      { do: 'crash', nodes: ['H3'] },
      { do: 'awaitSuspected', by: ['H1'], node: 'H3', withinMs: 1500 },
      note('c1 writes x = v1 through H1 with W = all. H3 is believed down: H1 also sends its copy to stand-in S1, as a hint for H3. S1’s acknowledgement counts toward W.'),
      { do: 'put', via: 'H1', key: 'x', value: 'v1', w: 'all', as: 'write' },
      { do: 'expectAnswer', ref: 'write', ok: true, acks: 3 },
      { do: 'expectFanOut', ref: 'write', counted: 3, late: 0, standIns: 1 },
      { do: 'expectHint', holder: 'S1', target: 'H3', key: 'x' },
      note('S1 keeps the hint while H3 is down; H3 never acknowledged, so H1 keeps one as well once the request times out.'),
      { do: 'run', ms: 600 },
      { do: 'expectHint', holder: 'S1', target: 'H3', key: 'x' },
      note('H3 restarts. S1 and H1 hear from it and hand their hints over; H3 takes them and acknowledges; the holders drop them.'),
      { do: 'restart', nodes: ['H3'] },
      { do: 'awaitNoHints', withinMs: 2000 },
      { do: 'expectCopy', node: 'H3', key: 'x', values: ['v1'] },
      { do: 'awaitConverged', withinMs: 500 },
      note('Every home replica holds v1 and no hint is left.'),
    ],
    expected: { writesOk: 1, hintsParked: 2, hintsDelivered: 2, hintsLeft: 0, converged: true, durability: 0, convergence: 0 },
  }),
  scenario({
    name: 'quorum-siblings',
    title: 'Siblings from concurrent writes',
    caption:
      'Two clients write x at the same time through two home replicas, each without a context (blind): neither write has seen the other, so the store keeps both, as siblings. A read returns both values and a context covering both; a write with that context replaces exactly those two, and x has one value again.',
    seed: 1,
    endMs: 1200,
    steps: [
      PLACE,
      note('c1 writes x = a through H1 and c2 writes x = b through H2, at the same moment, both blind.'),
      { do: 'put', client: 'c1', via: 'H1', key: 'x', value: 'a', as: 'a', wait: false },
      { do: 'put', client: 'c2', via: 'H2', key: 'x', value: 'b', as: 'b', wait: false },
      { do: 'awaitAnswers', withinMs: 1500 },
      { do: 'expectAnswer', ref: 'a', ok: true },
      { do: 'expectAnswer', ref: 'b', ok: true },
      { do: 'run', ms: 200 },
      note('Each home replica merges the two versions: neither dot covers the other, so both stay. c3 reads x with R = all.'),
      { do: 'get', client: 'c3', via: 'H3', key: 'x', r: 'all', as: 'read' },
      { do: 'expectAnswer', ref: 'read', ok: true, values: ['a', 'b'] },
      note('c3 resolves the conflict: it writes x = ab with the context of its read, which covers both siblings.'),
      { do: 'put', client: 'c3', via: 'H3', key: 'x', value: 'ab', context: 'read', as: 'merge' },
      { do: 'expectAnswer', ref: 'merge', ok: true },
      { do: 'run', ms: 200 },
      { do: 'expectCopy', node: 'H1', key: 'x', values: ['ab'] },
      { do: 'expectCopy', node: 'H2', key: 'x', values: ['ab'] },
      { do: 'expectCopy', node: 'H3', key: 'x', values: ['ab'] },
      { do: 'get', client: 'c3', via: 'S1', key: 'x', r: 'all', as: 'after' },
      { do: 'expectAnswer', ref: 'after', ok: true, values: ['ab'] },
      note('One value again on every home replica.'),
    ],
    expected: { writesOk: 3, readsOk: 2, mostSiblings: 2, converged: true, durability: 0, convergence: 0 },
  }),
  scenario({
    name: 'quorum-stale-reads',
    title: 'Stale reads at R = W = 1',
    caption:
      'R = W = 1: a write is acknowledged as soon as its coordinator H1 holds it, and a read answers with the first copy it gets. c2 reads 1 ms after c1 is told its write succeeded. The read misses the write when it is answered from a copy the write has not reached yet: always when its coordinator is another home replica (it answers from its own copy at once), sometimes when it is outside the list (the first of three answers wins). The history marks each read stale or fresh.',
    seed: 1,
    endMs: 3000,
    steps: [
      PLACE,
      ...STALE_READ_VIA.flatMap((via, i): Step<QuorumStep>[] => [
        note(`Round ${i + 1}: c1 writes x = v${i + 1} through H1 (W = 1); 1 ms after the answer c2 reads x through ${via} (R = 1).`),
        { do: 'putThenGet', via: 'H1', readVia: via, key: 'x', value: `v${i + 1}`, w: 1, r: 1, gapMs: 1 },
        { do: 'run', ms: 400 },
      ]),
      { do: 'expectReads', stale: 1, fresh: 1 },
      { do: 'awaitConverged', withinMs: 1000 },
      note('Every copy has the last write now; only the reads that came too early were stale.'),
    ],
    expected: { writesOk: 6, readsOk: 6, converged: true, durability: 0, convergence: 0 },
  }),
  scenario({
    name: 'quorum-anti-entropy',
    title: 'Anti-entropy with no read and no hint',
    caption:
      'Hinted handoff and read repair off, anti-entropy every 200 ms. H3 is cut off while x is written three times, and nobody reads x afterwards: only anti-entropy can bring H3 up to date. Each node in turn compares, for one partition it holds, a Merkle tree of its keys’ digests with another home replica’s; they descend only where the hashes differ and push the keys that differ.',
    seed: 1,
    config: { hintedHandoff: false, readRepair: false, antiEntropyIntervalMs: 200 },
    endMs: 1500,
    steps: [
      PLACE,
      note('H3 is cut off; c1 writes x three times through H1 (W = 2), each time with the context of its last write.'),
      { do: 'partition', groups: [['H3'], ['rest']] },
      { do: 'put', via: 'H1', key: 'x', value: 'v1', w: 2, context: 'last' },
      { do: 'put', via: 'H1', key: 'x', value: 'v2', w: 2, context: 'last' },
      { do: 'put', via: 'H1', key: 'x', value: 'v3', w: 2, context: 'last' },
      note('The network heals. No hint, no read: H3 has no copy of x until an anti-entropy exchange about x’s partition finds the difference.'),
      { do: 'heal' },
      { do: 'expectCopy', node: 'H3', key: 'x', values: [] },
      { do: 'awaitCopy', node: 'H3', key: 'x', values: ['v3'], withinMs: 8000 },
      { do: 'awaitConverged', withinMs: 2000 },
      note('H3 holds v3: anti-entropy repaired it.'),
    ],
    expected: { writesOk: 3, readsOk: 0, readRepairs: 0, hintsParked: 0, converged: true, durability: 0, convergence: 0 },
  }),
];

export function quorumScenarioByName(name: string): QuorumScenario | undefined {
  return QUORUM_SCENARIOS.find((s) => s.name === name);
}

/** The stage a scenario plays on (its own nodes, settings and links), for `seed`. */
export function quorumScenarioStage(scenario: QuorumScenario, seed = scenario.seed, host: QuorumStageHost = {}, trace: false | { readonly keepLines?: boolean } = false): QuorumStage {
  return new QuorumStage({ seed, nodes: scenario.nodes, config: scenario.config, link: scenario.link, trace }, host);
}

/** A scenario's program on a stage (for drivers that step it, such as the visualizer), and its steps (the named requests). */
export function quorumScenarioProgram(stage: QuorumStage, scenario: QuorumScenario): { readonly program: ScenarioProgram; readonly steps: QuorumScenarioSteps } {
  const steps = new QuorumScenarioSteps(stage);
  return { program: new ScenarioInterpreter(stage.sim, steps).steps(scenario.steps), steps };
}

/** What the stage shows now, in the outcome's numbers. */
export function quorumOutcome(stage: QuorumStage): QuorumOutcome {
  const verdicts = stage.readVerdicts();
  const checks = stage.checks();
  const writes = stage.ops.filter((op) => op.kind === 'write');
  const reads = stage.tracker.requests.filter((r) => r.op === 'get');
  const siblings = reads.map((r) => (r.response?.ok === true && r.response.op === 'get' ? r.response.values.length : 0));
  const hints = stage.tracker.hints;
  const repairs = stage.tracker.repairs;
  return {
    writesOk: writes.filter((w) => w.outcome === 'ok').length,
    writesRefused: writes.filter((w) => w.outcome !== 'ok').length,
    readsOk: stage.ops.filter((op) => op.kind === 'read' && op.outcome === 'ok').length,
    staleReads: verdicts.filter((v) => v.verdict === 'stale').length,
    freshReads: verdicts.filter((v) => v.verdict === 'fresh').length,
    mostSiblings: Math.max(0, ...siblings),
    readRepairs: repairs.filter((r) => r.kind === 'read').length,
    antiEntropyRepairs: repairs.filter((r) => r.kind === 'anti-entropy').length,
    hintsParked: hints.length,
    hintsDelivered: hints.filter((h) => h.deliveredMs !== null).length,
    hintsLeft: stage.hintCount(),
    converged: stage.converged(),
    durability: checks.counts.durability,
    convergence: checks.counts.convergence,
    uniqueDots: checks.counts.uniqueDots,
  };
}

export function outcomeMismatches(expected: Partial<QuorumOutcome>, outcome: QuorumOutcome): string[] {
  return (Object.entries(expected) as [keyof QuorumOutcome, QuorumOutcome[keyof QuorumOutcome]][]).filter(([name, want]) => outcome[name] !== want).map(([name, want]) => `${name}: expected ${String(want)}, got ${String(outcome[name])}`);
}

export interface RunQuorumScenarioOptions {
  readonly seed?: number;
  /** 'run' (default): the simulator answers each wait at once (runScenarioProgram); 'drive': as the visualizer plays it, polling every QUORUM_SCENARIO_POLL_MS in virtual time (driveScenarioProgram). */
  readonly driver?: 'run' | 'drive';
  readonly trace?: false | { readonly keepLines?: boolean };
}

/** Plays a scenario to its end; a failed expectation is returned, never thrown. */
export function runQuorumScenario(scenario: QuorumScenario, options: RunQuorumScenarioOptions = {}): QuorumScenarioResult {
  const seed = options.seed ?? scenario.seed;
  const stage = quorumScenarioStage(scenario, seed, {}, options.trace ?? false);
  stage.note(`scenario ${scenario.name}: ${scenario.caption}`);
  const { program, steps } = quorumScenarioProgram(stage, scenario);
  let failure: string | undefined;
  if (options.driver === 'drive') {
    let ended = false;
    driveScenarioProgram(stage.sim, program, {
      pollMs: QUORUM_SCENARIO_POLL_MS,
      onEnd: (f) => {
        failure = f;
        ended = true;
      },
    });
    if (!stage.sim.runUntilTrue(() => ended, 10 * scenario.endMs)) failure = `the scenario did not end within ${10 * scenario.endMs} ms`;
  } else {
    failure = runScenarioProgram(stage.sim, program);
  }
  if (failure !== undefined) stage.note(`scenario failed: ${failure}`);
  const outcome = quorumOutcome(stage);
  return { scenario: scenario.name, seed, failure, outcome, mismatches: outcomeMismatches(scenario.expected, outcome), stage, steps };
}
