// The gossip group's guided scenarios as data for the one interpreter (src/sim/scenario.ts): an
// update spreading like an epidemic (at three group sizes), a paused member suspected and
// refuting, a crashed member declared dead everywhere, and CRDT documents diverging across a
// partition and converging after it heals; each with a fixed seed, a caption, narrated steps, and
// the outcome it must reach (tests and the visualizer play the same scripts).
import type { LinkConfig } from '../../sim/network.js';
import { driveScenarioProgram, runScenarioProgram, ScenarioInterpreter, type ScenarioProgram, type Step } from '../../sim/scenario.js';
import type { GossipConfig } from '../config.js';
import { GossipStage, type GossipStageHost } from './stage.js';
import { GossipScenarioSteps, type GossipStep } from './steps.js';

export interface GossipScenario {
  readonly name: string;
  readonly title: string;
  readonly caption: string;
  readonly seed: number;
  readonly nodes: number;
  readonly config?: Partial<GossipConfig>;
  readonly link?: Partial<LinkConfig>;
  readonly steps: readonly Step<GossipStep>[];
  /** Where the story ends (virtual ms): a visualizer's scrubber range. */
  readonly endMs: number;
  /** The outcome on the recorded seed. */
  readonly expected: Partial<GossipOutcome>;
}

/** What a run of the group did, in the numbers the scenarios are judged by. */
export interface GossipOutcome {
  /** Every live member holds every other live member alive, and every member gone as dead or left. */
  readonly settled: boolean;
  /** Live members that have the last rumour, and how many rounds it took to reach them all (null: not all). */
  readonly informed: number;
  readonly members: number;
  readonly rounds: number | null;
  /** Probes that went indirect (ping-req), suspicions started by failed probes, refutations, deaths declared. */
  readonly escalations: number;
  readonly suspicions: number;
  readonly refutations: number;
  readonly deadDeclared: number;
  /** Every live member holds the same document; what the convergence checker found. */
  readonly docsAgree: boolean;
  readonly docProblems: number;
  readonly changesOk: number;
}

export interface GossipScenarioResult {
  readonly scenario: string;
  readonly seed: number;
  readonly failure: string | undefined;
  readonly outcome: GossipOutcome;
  readonly mismatches: readonly string[];
  readonly stage: GossipStage;
  /** When the script ended (virtual ms). */
  readonly endedMs: number;
}

/** How often a driven scenario's waiting step looks again (virtual ms). */
export const GOSSIP_SCENARIO_POLL_MS = 5;

const note = (text: string): Step<GossipStep> => ({ do: 'note', text });

const FORM: readonly Step<GossipStep>[] = [
  note('Each member boots knowing only three seeds and joins through them; news of each join spreads by gossip like any other update, and a full state exchange with a random member every second fills the gaps. The group has formed when every member holds every other alive.'),
  { do: 'awaitFormed', withinMs: 10_000 },
];

/** The epidemic at `nodes` members: a metadata change spreads round by round. */
function epidemic(nodes: number, seed: number, endMs: number): GossipScenario {
  const log2 = Math.ceil(Math.log2(nodes));
  return {
    name: nodes === 64 ? 'gossip-epidemic' : `gossip-epidemic-${nodes}`,
    title: `An update spreads like an epidemic (${nodes} members)`,
    caption: `${nodes} members. One member changes its metadata: the change is news, which it sends with each gossip round (every 40 ms) to 3 random members and piggybacks on its probes; every member that learns it does the same, each passing it on 4 × ⌈log10(N + 1)⌉ times — office gossip. The informed members multiply round by round: everyone has it after a number of rounds close to log N (⌈log2 ${nodes}⌉ = ${log2}).`,
    seed,
    nodes,
    endMs,
    steps: [
      ...FORM,
      { do: 'pick', as: 'O', up: true },
      { do: 'observe', node: 'O' },
      note('O changes its metadata. Its view (the member list) is shown; a ring around a member marks that it has the update.'),
      { do: 'setMeta', node: 'O', meta: 'v2' },
      { do: 'awaitSpread', withinMs: 4_000 },
      { do: 'expectRounds', atMost: 2 * log2 },
      note(`Every member has the update. The Epidemic panel counts the informed members at the end of each gossip round, against log N.`),
    ],
    expected: { settled: true },
  };
}

export const GOSSIP_SCENARIOS: readonly GossipScenario[] = [
  epidemic(64, 1, 700),
  epidemic(16, 1, 400),
  epidemic(256, 1, 1_800),
  {
    name: 'gossip-probe-suspect',
    title: 'Probe, indirect probe, suspicion and refutation',
    caption:
      '8 members. Every 200 ms each member pings the next member of its shuffled list and waits 50 ms for an ack. P is paused (like SIGSTOP): the ping that finds it gets no ack, so the prober X asks 3 other members to ping P for it (ping-req); they get no ack either and say so (nack), so X knows the fault is not its own. When the probe interval ends, X suspects P and spreads the suspicion; P is not dead yet — it has the suspicion timeout to refute. P resumes (like SIGCONT), hears it is suspected, and refutes: it announces itself alive at a higher incarnation, which overrides the suspicion everywhere.',
    seed: 1,
    nodes: 8,
    endMs: 1_300,
    steps: [
      ...FORM,
      { do: 'pick', as: 'P', up: true },
      note('P is paused for 800 ms: it handles nothing, answers no ping.'),
      { do: 'pause', node: 'P', ms: 800 },
      { do: 'awaitEscalation', target: 'P', withinMs: 1_000, as: 'X' },
      { do: 'observe', node: 'X' },
      note('X’s ping to P got no ack within 50 ms: X asked other members to ping P for it (ping-req). Their pings go unanswered too; they answer X with nack.'),
      { do: 'awaitSuspected', node: 'P', withinMs: 1_000 },
      note('No ack, directly or indirectly: P is suspect — the suspicion spreads by gossip, and each member that probes P and fails confirms it, which shortens the time P has to refute (Lifeguard).'),
      note('P resumes when its pause ends, reads the gossip about itself, and refutes with a higher incarnation.'),
      { do: 'awaitRefuted', node: 'P', withinMs: 3_000 },
      { do: 'expectNeverDead', node: 'P' },
      note('P refuted in time: every member holds it alive at its new incarnation, and nobody ever declared it dead.'),
    ],
    expected: { settled: true, deadDeclared: 0 },
  },
  {
    name: 'gossip-crash-detected',
    title: 'A crash detected: suspect, then dead everywhere',
    caption:
      '16 members. C crashes for good. The first member whose probe reaches C gets no ack, directly or through its ping-req helpers, and suspects C; the suspicion spreads, and every member that probes C and fails confirms it, shortening the suspicion timeout (Lifeguard: from 6× down to the minimum, 3 × max(1, log10 N) probe intervals). Nobody refutes: when the timeout runs out, a member declares C dead, and the death spreads until every live member holds it.',
    seed: 1,
    nodes: 16,
    endMs: 1_600,
    steps: [
      ...FORM,
      { do: 'pick', as: 'C', up: true },
      { do: 'pick', as: 'O', notIn: ['C'], up: true },
      { do: 'observe', node: 'O' },
      note('C crashes and stays down.'),
      { do: 'crashForGood', node: 'C' },
      { do: 'awaitEscalation', target: 'C', withinMs: 2_000 },
      { do: 'awaitSuspected', node: 'C', withinMs: 2_000 },
      note('C is suspect: nobody hears from it, so nobody refutes; confirmations from other members’ failed probes shorten the timeout.'),
      { do: 'awaitDead', node: 'C', withinMs: 8_000 },
      { do: 'awaitFormed', withinMs: 2_000 },
      note('Every live member holds C dead: the group agrees again, without it.'),
    ],
    expected: { settled: true, refutations: 0 },
  },
  {
    name: 'gossip-partition-heal-crdt',
    title: 'CRDT documents across a partition, converging after it heals',
    caption:
      '10 members keep a document of CRDTs: a counter (hits), a set (tags) and a multi-value register (mode). A partition splits them 5 | 5, and clients change the document on both sides: each change spreads as a delta rumour and by the full exchange every second, but only within its side. Each side declares the other dead. When the network heals, a member tries a member held dead now and then (reconnect), the sides merge their member lists, and the full document exchanges carry each side’s changes across: every document converges to the join of all changes — hits counts both sides’ increments, tags holds both sides’ elements, and mode keeps both concurrent values.',
    seed: 1,
    nodes: 10,
    endMs: 4_500,
    steps: [
      ...FORM,
      { do: 'observe', node: '1' },
      note('The network splits: 1–5 | 6–10.'),
      { do: 'partition', groups: [['1', '2', '3', '4', '5'], ['rest']] },
      { do: 'change', via: '1', change: { kind: 'counter', name: 'hits', action: 'incr', amount: 3 } },
      { do: 'change', via: '6', change: { kind: 'counter', name: 'hits', action: 'incr', amount: 4 } },
      { do: 'change', via: '2', change: { kind: 'set', name: 'tags', action: 'add', element: 'red' } },
      { do: 'change', via: '7', change: { kind: 'set', name: 'tags', action: 'add', element: 'blue' } },
      { do: 'change', via: '3', change: { kind: 'register', name: 'mode', action: 'set', value: 'a' } },
      { do: 'change', via: '8', change: { kind: 'register', name: 'mode', action: 'set', value: 'b' } },
      note('Each side’s changes spread within it; the two sides hold different documents, and come to hold each other dead.'),
      { do: 'run', ms: 2_500 },
      { do: 'expectDocsDiffer' },
      note('The network heals. Reconnect tries a member held dead, the sides merge, and full document exchanges carry the changes across.'),
      { do: 'heal' },
      { do: 'awaitFormed', withinMs: 10_000 },
      { do: 'awaitDocsAgree', withinMs: 10_000 },
      { do: 'expectDocsValid' },
      { do: 'expectEntry', kind: 'counter', name: 'hits', value: 7 },
      { do: 'expectEntry', kind: 'set', name: 'tags', value: ['blue', 'red'] },
      { do: 'expectEntry', kind: 'register', name: 'mode', value: ['a', 'b'] },
      note('Every document agrees: hits = 7 (3 + 4), tags = {blue, red}, mode = a|b (two concurrent writes, both kept).'),
    ],
    expected: { settled: true, docsAgree: true, docProblems: 0, changesOk: 6 },
  },
];

export function gossipScenarioByName(name: string): GossipScenario | undefined {
  return GOSSIP_SCENARIOS.find((s) => s.name === name);
}

/** The stage a scenario plays on, for `seed`. */
export function gossipScenarioStage(scenario: GossipScenario, seed = scenario.seed, host: GossipStageHost = {}, trace: false | { readonly keepLines?: boolean } = false): GossipStage {
  return new GossipStage({ seed, nodes: scenario.nodes, ...(scenario.config === undefined ? {} : { config: scenario.config }), ...(scenario.link === undefined ? {} : { link: scenario.link }), trace }, host);
}

/** A scenario's program on a stage (for drivers that step it, such as the visualizer). */
export function gossipScenarioProgram(stage: GossipStage, scenario: GossipScenario): ScenarioProgram {
  return new ScenarioInterpreter(stage.sim, new GossipScenarioSteps(stage)).steps(scenario.steps);
}

/** What the stage shows now, in the outcome's numbers. */
export function gossipOutcome(stage: GossipStage): GossipOutcome {
  const spread = stage.spread();
  const t = stage.tracker;
  return {
    settled: stage.membershipProblems(1).length === 0,
    informed: spread?.informed ?? 0,
    members: stage.liveIds().length,
    rounds: spread?.rounds ?? null,
    escalations: t.escalations.length,
    suspicions: t.totals.suspicionsStarted,
    refutations: t.totals.refutations,
    deadDeclared: t.totals.deadDeclared,
    docsAgree: stage.docsAgree(),
    docProblems: stage.docProblems().length,
    changesOk: stage.changes.filter((c) => c.outcome === 'ok').length,
  };
}

export function outcomeMismatches(expected: Partial<GossipOutcome>, outcome: GossipOutcome): string[] {
  return (Object.entries(expected) as [keyof GossipOutcome, GossipOutcome[keyof GossipOutcome]][])
    .filter(([, want]) => want !== undefined)
    .filter(([name, want]) => outcome[name] !== want)
    .map(([name, want]) => `${name}: expected ${String(want)}, got ${String(outcome[name])}`);
}

export interface RunGossipScenarioOptions {
  readonly seed?: number;
  /** 'run' (default): the simulator answers each wait at once; 'drive': as the visualizer plays it, polling every GOSSIP_SCENARIO_POLL_MS. */
  readonly driver?: 'run' | 'drive';
}

/** Plays a scenario to its end; a failed expectation is returned, never thrown. */
export function runGossipScenario(scenario: GossipScenario, options: RunGossipScenarioOptions = {}): GossipScenarioResult {
  const seed = options.seed ?? scenario.seed;
  const stage = gossipScenarioStage(scenario, seed);
  stage.note(`scenario ${scenario.name}: ${scenario.caption}`);
  const program = gossipScenarioProgram(stage, scenario);
  let failure: string | undefined;
  if (options.driver === 'drive') {
    let ended = false;
    driveScenarioProgram(stage.sim, program, {
      pollMs: GOSSIP_SCENARIO_POLL_MS,
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
  const endedMs = stage.nowMs;
  const outcome = gossipOutcome(stage);
  return { scenario: scenario.name, seed, failure, outcome, mismatches: outcomeMismatches(scenario.expected, outcome), stage, endedMs };
}
