// The guided tours of Paxos: the scenario scripts the tests play (synod.ts for single-decree
// Paxos, multi.ts for Multi-Paxos), each on a fixed seed, with every step told in plain words.
// A tour adds nothing to its script: the visualizer drives the very same program step by step
// in virtual time (driveScenarioProgram), and the narration is matched to the script's steps by
// position and checked by kind, so a script that changes shows its own step description rather
// than a story about another step.
import type { Message, NodeId } from '../../core/index.js';
import type { Simulation } from '../../sim/simulation.js';
import type { TraceEvent } from '../../sim/trace.js';
import { driveScenarioProgram, runScenarioProgram, type ScenarioProgram } from '../../sim/scenario.js';
import { ballotText } from '../ballot.js';
import type { PaxosValue } from '../multi/types.js';
import { PaxosCluster, type PaxosClusterOptions } from '../sim/cluster.js';
import { SynodCluster, type SynodClusterOptions } from '../sim/synod-cluster.js';
import { PAXOS_SCENARIOS } from './multi.js';
import { paxosScenarioProgram, type PaxosScenario, type PaxosScenarioSteps } from './steps.js';
import { SYNOD_SCENARIOS } from './synod.js';
import { synodScenarioProgram, type SynodScenario, type SynodScenarioSteps } from './synod-steps.js';

/** How often a waiting step of a tour looks again when the visualizer drives it (virtual ms). */
export const PAXOS_TOUR_POLL_MS = 1;

/** One step told in plain words: `do` is the kind of step it tells (checked against the script). */
export interface TourLine {
  readonly do: string;
  /** `{NAME}` stands for the node(s) a `pick` or an `as` bound to NAME. */
  readonly text: string;
}

interface TourBase {
  /** The scenario's name (the tour plays that script). */
  readonly name: string;
  readonly seed: number;
  /** Where the story ends on the scrubber (virtual ms); the script is over by then. */
  readonly endMs: number;
  /** One line per step of the script, in order. */
  readonly narration: readonly TourLine[];
}

export interface MultiTour extends TourBase {
  readonly core: 'multi';
  /** What the run must show at the end, beyond the script's own expectations. */
  readonly expected: { readonly noopsAtLeast?: number; readonly adoptedAtLeast?: number };
}

export interface SynodTour extends TourBase {
  readonly core: 'single';
  /** The chosen value at the end (null: none may be chosen), and the fewest ballots tried by all proposers. */
  readonly expected: { readonly chosen: string | null; readonly ballotsAtLeast?: number };
}

export type PaxosTour = MultiTour | SynodTour;

// ---------------------------------------------------------------- Multi-Paxos

export const MULTI_TOURS: readonly MultiTour[] = [
  {
    core: 'multi',
    name: 'paxos-normal',
    seed: 1,
    endMs: 1_200,
    expected: {},
    narration: [
      { do: 'expectLeader', text: 'Nobody leads yet. The first node whose election timer runs out picks a ballot above every round it has seen and sends prepare: phase 1, run once for every slot to come. Its own acceptor and one other promise (a majority of three), and {L} leads.' },
      { do: 'write', text: 'A client writes ten keys through the leader. Each write is one phase-2 round: the leader puts it in the next free slot and sends accept; once a majority (itself and one follower) has accepted, the slot is chosen, applied, and the client answered.' },
      { do: 'expectAgreement', text: 'The leader tells the followers which slots are chosen (decided ranges on its accepts and heartbeats). They apply them in slot order, and every replica ends with the same store.' },
      { do: 'expectStableLeader', text: 'Heartbeats keep the followers’ election timers from running out: the same leader keeps the same ballot, and no new phase 1 is needed.' },
    ],
  },
  {
    core: 'multi',
    name: 'paxos-leader-change-noops',
    seed: 1,
    endMs: 1_500,
    expected: { noopsAtLeast: 2, adoptedAtLeast: 1 },
    narration: [
      { do: 'expectLeader', text: '{L1} wins phase 1 and leads.' },
      { do: 'write', text: 'Three writes are chosen in slots 1 to 3 the normal way.' },
      { do: 'pick', text: 'A follower, {A}, is picked: it will crash together with the leader.' },
      { do: 'pick', text: 'Another follower, {B}, is picked: it will be the only other node to hear of slot 6.' },
      { do: 'isolate', text: '{L1} is cut off from everyone, but does not know it: it still believes it leads.' },
      { do: 'writeAsync', text: 'Two writes go straight to {L1}. It puts them in slots 4 and 5 and accepts them itself; its accepts are lost on the cut links. One acceptance each: not chosen.' },
      { do: 'run', text: 'A few milliseconds pass.' },
      { do: 'heal', text: 'The links heal for an instant…' },
      { do: 'partition', text: '…and now {L1} can reach {B} alone.' },
      { do: 'writeAsync', text: 'A third write goes to {L1}: slot 6. {B} accepts it. Two acceptances of five: not chosen, but a later leader may have to take it into account.' },
      { do: 'run', text: 'Time for {B}’s acceptance.' },
      { do: 'crash', text: '{L1} and {A} crash. Slots 4 and 5 now live only on {L1}’s disk, slot 6 on {L1}’s and {B}’s.' },
      { do: 'heal', text: 'The network heals: the three nodes still up are a majority of five.' },
      { do: 'expectLeader', text: 'A survivor times out, runs phase 1 with a higher ballot and leads: {L2}. The promises it gathers report slot 6 accepted (by {B}) and nothing at all in slots 4 and 5.' },
      { do: 'expectNoops', text: '{L2} cannot leave holes: slot 6 can be applied only after 4 and 5. Nobody in its quorum accepted anything there, so nothing can have been chosen there: it proposes no-ops for slots 4 and 5.' },
      { do: 'expectAdopted', text: 'For slot 6 it proposes again, in its own ballot, the value {B} reported: a value that may have been chosen is never replaced.' },
      { do: 'write', text: 'New writes take the next slots.' },
      { do: 'restart', text: '{L1} and {A} restart from their disks. {L1} still holds its old acceptances in slots 4 and 5 (never chosen: a majority never accepted them); it learns from the new leader that no-ops were chosen there.' },
      { do: 'expectAgreement', text: 'Every replica ends with the same store: no-ops in slots 4 and 5, the adopted write in slot 6.' },
    ],
  },
  {
    core: 'multi',
    name: 'paxos-adopt-accepted',
    seed: 1,
    endMs: 800,
    expected: { adoptedAtLeast: 1 },
    narration: [
      { do: 'expectLeader', text: '{L1} wins phase 1 and leads.' },
      { do: 'write', text: 'Two writes are chosen in slots 1 and 2.' },
      { do: 'pick', text: '{B} is the follower that will hear of the next write…' },
      { do: 'pick', text: '…and {C} the one that will not.' },
      { do: 'partition', text: '{C} is cut off; {L1} and {B} are still a majority of three.' },
      { do: 'writeAsync', text: 'A write goes to {L1}: slot 3. {L1} and {B} accept it, a majority: it is chosen. Only {L1} knows.' },
      { do: 'run', text: 'Time for the acceptances.' },
      { do: 'crash', text: '{L1} crashes before anyone else learns that slot 3 is chosen.' },
      { do: 'heal', text: 'The network heals.' },
      { do: 'campaign', text: '{C} runs phase 1 with a higher ballot. It knows nothing of slot 3.' },
      { do: 'expectLeaderIs', text: '{B} promises, and its promise reports what it accepted: the write at slot 3, in {L1}’s ballot. With {B}’s promise and its own, {C} leads.' },
      { do: 'expectAdopted', text: '{C} must propose that write again at slot 3 in its own ballot, rather than anything new: a majority may have accepted it (one did), so it may have been chosen.' },
      { do: 'restart', text: '{L1} restarts from its disk.' },
      { do: 'write', text: 'Two more writes through the new leader.' },
      { do: 'expectAgreement', text: 'The write survived the leader change: every replica holds it at slot 3.' },
    ],
  },
  {
    core: 'multi',
    name: 'paxos-dueling-candidates',
    seed: 1,
    endMs: 2_500,
    expected: {},
    narration: [
      { do: 'expectLeader', text: '{L1} wins phase 1 and leads.' },
      { do: 'write', text: 'Two writes are chosen.' },
      { do: 'crash', text: 'The leader {L1} crashes.' },
      { do: 'pick', text: '{X} will be one candidate…' },
      { do: 'pick', text: '…and {Y} the other.' },
      { do: 'campaign', text: '{X} starts phase 1 with a new ballot.' },
      { do: 'campaign', text: 'At the same moment {Y} starts phase 1 too. Both ballots have the same round; the node id breaks the tie, so one is higher.' },
      { do: 'expectOneLeader', text: 'Acceptors that promised the higher ballot reject the lower one. Its candidate does not raise its ballot at once: it goes back to follower for a random election timeout (backoff), and a prepare of a higher ballot stops it campaigning. One leader emerges.' },
      { do: 'expectLeader', text: 'The leader, {L2}, has chosen every slot its phase 1 recovered: it serves.' },
      { do: 'clients', text: 'Four clients write through any node; the others send them to the leader, so only one proposer is ever active.' },
      { do: 'expectStableLeader', text: 'For 1.5 s the same leader keeps the same ballot: no duel.' },
      { do: 'stopClients', text: 'The clients stop.' },
      { do: 'restart', text: '{L1} restarts from its disk.' },
      { do: 'expectAgreement', text: 'It catches up: every replica agrees.' },
    ],
  },
  {
    core: 'multi',
    name: 'paxos-acceptor-crash',
    seed: 1,
    endMs: 1_200,
    expected: {},
    narration: [
      { do: 'expectLeader', text: '{L} wins phase 1 and leads.' },
      { do: 'write', text: 'Five writes are chosen.' },
      { do: 'pick', text: '{F} is a follower (an acceptor) that will crash.' },
      { do: 'pick', text: '{C} is the other follower: it will take over as leader.' },
      { do: 'run', text: 'A moment passes: every node knows what is chosen so far.' },
      { do: 'campaign', text: 'An operator asks {C} to run phase 1: it proposes a higher ballot, and every acceptor, {F} among them, promises it.' },
      { do: 'expectLeaderIs', text: '{C} leads now: its ballot is the highest any acceptor promised.' },
      { do: 'crash', text: '{F} crashes before it accepts anything in {C}’s ballot. The other two are still a majority of three.' },
      { do: 'write', text: 'Thirty writes are chosen by {C} and the one follower left: two acceptances of three each.' },
      { do: 'expectSnapshot', text: 'After 20 applied slots {C} compacts: a snapshot of its store, and the acceptances below it dropped.' },
      { do: 'restart', text: '{F} restarts from its durable state: its promise of {C}’s ballot and its older acceptances as it wrote them before the crash. The monitors check it kept every promise another node heard.' },
      { do: 'expectRecovered', text: 'The leader’s heartbeats tell {F} what is chosen. It is behind the leader’s snapshot, so it gets the snapshot, then the decisions since.' },
      { do: 'expectSnapshot', text: '{F} now holds a snapshot too.' },
      { do: 'write', text: 'Three more writes, accepted by all three.' },
      { do: 'expectAgreement', text: 'Every replica agrees.' },
    ],
  },
  {
    core: 'multi',
    name: 'paxos-out-of-order',
    seed: 1,
    endMs: 3_000,
    expected: {},
    narration: [
      { do: 'expectLeader', text: 'A leader is elected over a network that loses 5% of the messages and reorders many.' },
      { do: 'clients', text: 'Four clients write at once: the leader has several slots in phase 2 together.' },
      { do: 'run', text: 'A later slot often reaches its majority before an earlier one whose accept was lost (the leader sends it again after three ticks). Learners learn slots out of order…' },
      { do: 'stopClients', text: 'The clients stop.' },
      { do: 'link', text: 'The links become reliable again.' },
      { do: 'expectOutOfOrder', text: '…but apply them strictly in slot order: a replica applies slot n only once it knows every slot before it.' },
      { do: 'expectAgreement', text: 'Every replica ends with the same store.' },
    ],
  },
  {
    core: 'multi',
    name: 'paxos-flexible-quorums',
    seed: 1,
    endMs: 3_500,
    expected: {},
    narration: [
      { do: 'expectLeader', text: 'Five nodes with |Q1| = 4 and |Q2| = 2 (4 + 2 > 5: every phase-1 quorum meets every phase-2 quorum). {L} gathered four promises and leads.' },
      { do: 'pick', text: '{F} is one follower…' },
      { do: 'pick', text: '…and {D} the other three.' },
      { do: 'partition', text: '{D} are cut off: {L} and {F} are alone.' },
      { do: 'write', text: 'Five writes, each chosen by {L} and {F}: two acceptances are a phase-2 quorum.' },
      { do: 'heal', text: 'The network heals.' },
      { do: 'expectAgreement', text: 'The others learn the five writes.' },
      { do: 'crash', text: '{L} and {F} crash.' },
      { do: 'expectNoLeader', text: 'Three nodes are up, but phase 1 needs four promises: nobody can become leader, however long they try.' },
      { do: 'restart', text: '{F} restarts: four nodes are up.' },
      { do: 'expectLeader', text: 'Now a candidate gathers four promises and leads.' },
      { do: 'write', text: 'Two more writes.' },
      { do: 'restart', text: '{L} restarts.' },
      { do: 'expectAgreement', text: 'Every replica agrees.' },
    ],
  },
];

// ---------------------------------------------------------------- single-decree Paxos

const DUEL_START: readonly TourLine[] = [
  { do: 'propose', text: 'Nodes 1 to 3 are the acceptors; 4 and 5 are proposers. A client asks proposer 4 to propose "A": it sends prepare(1.4). Prepares, promises and rejections cross in 5 ms; accepts, which carry the value, take 40 ms.' },
  { do: 'run', text: 'Proposer 4 gets its promises and sends its accepts, slowly on their way.' },
  { do: 'propose', text: 'A client asks proposer 5 to propose "B". Its prepare of a higher ballot overtakes 4’s accepts: the acceptors promise 5’s ballot, so they reject 4’s accepts when these arrive.' },
];

export const SYNOD_TOURS: readonly SynodTour[] = [
  {
    core: 'single',
    name: 'synod-normal-round',
    seed: 1,
    endMs: 200,
    expected: { chosen: 'A', ballotsAtLeast: 1 },
    narration: [
      { do: 'propose', text: 'A client asks node 1 to propose "A". Proposer 1 picks ballot 1.1 and sends prepare(1.1) to every acceptor, itself included (phase 1a).' },
      { do: 'expectChosen', text: 'The acceptors had promised nothing: each promises 1.1 and reports that it accepted nothing (1b). With a majority of promises, proposer 1 is free to propose its own value: accept(1.1, "A") (2a). A majority accepts (2b): "A" is chosen.' },
      { do: 'expectAnswer', text: 'Proposer 1 hears a majority of accepted and answers its client: "A", its own value.' },
      { do: 'expectLearned', text: 'Every acceptor also sent accepted to every learner: each learns "A" once it has heard it from a majority.' },
      { do: 'expectAttempts', text: 'One ballot was enough.' },
    ],
  },
  {
    core: 'single',
    name: 'synod-dueling-livelock',
    seed: 1,
    endMs: 3_200,
    expected: { chosen: null, ballotsAtLeast: 100 },
    narration: [
      ...DUEL_START,
      { do: 'expectNothingChosen', text: 'Rejected, proposer 4 at once tries a higher ballot, whose prepares overtake 5’s accepts in turn; then 5 does the same to 4. Each round, one proposer’s phase 1 pre-empts the other’s phase 2: for 3 s nothing is chosen.' },
      { do: 'expectAttempts', text: 'Proposer 4 has tried more than 50 ballots…' },
      { do: 'expectAttempts', text: '…and so has proposer 5: a livelock. Paxos stays safe (nothing is chosen twice), but it makes no progress.' },
    ],
  },
  {
    core: 'single',
    name: 'synod-dueling-backoff',
    seed: 1,
    endMs: 600,
    expected: { chosen: 'B' },
    narration: [
      ...DUEL_START,
      { do: 'expectChosen', text: 'The same duel, but a rejected proposer waits a random 1 to 10 ticks before its next ballot. Soon one proposer gets its accepts through while the other waits: its value is chosen.' },
      { do: 'expectLearned', text: 'Every learner learns it. The other proposer, still waiting, learns it too and tells its client the value chosen, not its own (had it started another ballot, the promises would have reported the value and it would have had to adopt it).' },
    ],
  },
  {
    core: 'single',
    name: 'synod-adopt-accepted',
    seed: 1,
    endMs: 300,
    expected: { chosen: 'A' },
    narration: [
      { do: 'partition', text: 'Node 3 is cut off from nodes 1 and 2.' },
      { do: 'propose', text: 'A client asks node 1 to propose "A": proposer 1 sends prepare(1.1); acceptors 1 and 2 promise.' },
      { do: 'expectChosen', text: 'Acceptors 1 and 2 accept "A" in ballot 1.1: a majority of three, so "A" is chosen.' },
      { do: 'expectAccepted', text: 'Acceptor 2 holds "A", accepted in ballot 1.1, on its disk.' },
      { do: 'crash', text: 'Node 1 crashes before it tells node 3.' },
      { do: 'heal', text: 'The network heals.' },
      { do: 'propose', text: 'A client asks node 3 to propose "B". Proposer 3 picks a higher ballot and sends prepare.' },
      { do: 'expectAnswer', text: 'Acceptor 2’s promise reports "A", accepted in ballot 1.1. Proposer 3 must send accept with "A", not "B": "A" may have been chosen (it was). Its client is told "A": its own value lost.' },
      { do: 'expectAdopted', text: 'Proposer 3 adopted the value it was told of.' },
      { do: 'expectAccepted', text: 'Acceptor 3 accepted "A" too, in node 3’s ballot: the same value in a higher ballot.' },
      { do: 'restart', text: 'Node 1 restarts from its disk.' },
      { do: 'expectLearned', text: 'Every learner learns "A": one value chosen, whoever proposed what.' },
    ],
  },
  {
    core: 'single',
    name: 'synod-acceptor-restart',
    seed: 1,
    endMs: 600,
    expected: { chosen: 'A', ballotsAtLeast: 3 },
    narration: [
      { do: 'partition', text: 'Node 1 is cut off from nodes 2 and 3.' },
      { do: 'propose', text: 'A client asks node 3 to propose "B": proposer 3 sends prepare(1.3); acceptors 2 and 3 promise it.' },
      { do: 'run', text: 'Its accepts are about to leave.' },
      { do: 'heal', text: 'The network heals…' },
      { do: 'isolate', text: '…and node 3 is cut off before its accepts arrive.' },
      { do: 'crash', text: 'Acceptor 2 crashes…' },
      { do: 'restart', text: '…and restarts from its durable state: it still holds its promise of 1.3.' },
      { do: 'propose', text: 'A client asks node 1 to propose "A": proposer 1 tries ballot 1.1, and acceptor 2 rejects it, since it promised 1.3. (An acceptor that forgot its promise would accept: the monitors catch exactly that.)' },
      { do: 'expectChosen', text: 'Proposer 1 tries again above every round it heard of, 2.1; acceptors 1 and 2 accept "A": chosen.' },
      { do: 'expectAttempts', text: 'It took proposer 1 two ballots.' },
      { do: 'expectAnswer', text: 'Its client is told "A".' },
      { do: 'heal', text: 'Node 3 is reachable again.' },
      { do: 'expectAnswer', text: 'Proposer 3 learns that "A" was chosen; its client is told "A": not its own value.' },
      { do: 'expectLearned', text: 'Every learner learns "A".' },
    ],
  },
];

export const PAXOS_TOURS: readonly PaxosTour[] = [...SYNOD_TOURS, ...MULTI_TOURS];

export function paxosTourByName(name: string): PaxosTour | undefined {
  return PAXOS_TOURS.find((t) => t.name === name);
}

export function multiTourScenario(tour: MultiTour): PaxosScenario {
  const s = PAXOS_SCENARIOS.find((x) => x.name === tour.name);
  if (s === undefined) throw new RangeError(`no Multi-Paxos scenario ${tour.name}`);
  return s;
}

export function synodTourScenario(tour: SynodTour): SynodScenario {
  const s = SYNOD_SCENARIOS.find((x) => x.name === tour.name);
  if (s === undefined) throw new RangeError(`no single-decree scenario ${tour.name}`);
  return s;
}

function tourSteps(tour: PaxosTour): readonly { readonly do: string }[] {
  return tour.core === 'multi' ? multiTourScenario(tour).steps : synodTourScenario(tour).steps;
}

/** Where a tour's narration does not fit its script: steps without a line, or a line about another kind of step. */
export function narrationProblems(tour: PaxosTour): string[] {
  const steps = tourSteps(tour);
  const problems: string[] = [];
  if (steps.length !== tour.narration.length) problems.push(`${tour.name}: ${steps.length} steps, ${tour.narration.length} lines`);
  steps.forEach((step, i) => {
    const line = tour.narration[i];
    if (line !== undefined && line.do !== step.do) problems.push(`${tour.name}: step ${i + 1} is ${step.do}, its line tells ${line.do}`);
  });
  return problems;
}

// ---------------------------------------------------------------- bindings and narration

/** The names a script bound (`pick`, `as`), read from the interpreter's notes in the trace ("L1 = 3"). */
export class TourBindings {
  readonly names = new Map<string, readonly NodeId[]>();

  /** Folds one trace event; call it with every event of the run. */
  onEvent(e: TraceEvent): void {
    if (e.ev !== 'note') return;
    const m = /^([A-Za-z][A-Za-z0-9]*) = ([A-Za-z0-9_-]+(?:,[A-Za-z0-9_-]+)*)$/.exec(e.text);
    if (m !== null) this.names.set(m[1] as string, (m[2] as string).split(','));
  }

  /** "L1 (node 3)", "D (nodes 1, 4, 5)", or the bare name while it is not bound. */
  show(name: string): string {
    const ids = this.names.get(name);
    if (ids === undefined || ids.length === 0) return name;
    return `${name} (node${ids.length === 1 ? '' : 's'} ${ids.join(', ')})`;
  }
}

/**
 * The plain-words line of step `where` ("3") of a tour, with its names filled in; undefined for a
 * nested step, a step the narration does not reach, or a line about another kind of step.
 */
export function narrate(tour: PaxosTour, where: string, bindings: TourBindings): string | undefined {
  if (!/^\d+$/.test(where)) return undefined;
  const i = Number(where) - 1;
  const step = tourSteps(tour)[i];
  const line = tour.narration[i];
  if (step === undefined || line === undefined || line.do !== step.do) return undefined;
  return line.text.replace(/\{([A-Za-z][A-Za-z0-9]*)\}/g, (_all, name: string) => bindings.show(name));
}

// ---------------------------------------------------------------- clusters and programs

export type PaxosTourHost = Pick<PaxosClusterOptions, 'wrapSpec' | 'unwrapCore' | 'observer'>;
export type SynodTourHost = Pick<SynodClusterOptions, 'wrapSpec' | 'unwrapCore' | 'observer'>;

/** The cluster a Multi-Paxos tour plays on: the scenario's own settings (`host` wraps the cores for the visualizer). */
export function multiTourCluster(tour: MultiTour, seed = tour.seed, host: PaxosTourHost = {}): PaxosCluster {
  const s = multiTourScenario(tour);
  return new PaxosCluster({ ...s.cluster, ...host, seed, nodes: s.nodes });
}

export function synodTourCluster(tour: SynodTour, seed = tour.seed, host: SynodTourHost = {}): SynodCluster {
  const s = synodTourScenario(tour);
  return new SynodCluster({ ...s.cluster, ...host, seed, nodes: s.nodes });
}

/** A tour's program on `cluster`, its steps (which hold the clients) and what the step under way is doing now. */
export function multiTourProgram(cluster: PaxosCluster, tour: MultiTour): { program: ScenarioProgram; steps: PaxosScenarioSteps; status: () => string } {
  const { program, steps, interpreter } = paxosScenarioProgram(cluster, multiTourScenario(tour));
  return { program, steps, status: () => interpreter.statusText };
}

export function synodTourProgram(cluster: SynodCluster, tour: SynodTour): { program: ScenarioProgram; steps: SynodScenarioSteps; status: () => string } {
  const { program, steps, interpreter } = synodScenarioProgram(cluster, synodTourScenario(tour));
  return { program, steps, status: () => interpreter.statusText };
}

// ---------------------------------------------------------------- outcomes

export interface MultiTourOutcome {
  readonly leader: NodeId | null;
  readonly ballot: string | null;
  /** Slots with a chosen value (by the acceptances the monitor saw), and how many hold a no-op. */
  readonly chosen: number;
  readonly noops: number;
  /** Holes the current leader filled with no-ops, and values it proposed again, after its phase 1. */
  readonly leaderNoops: number;
  readonly leaderAdopted: number;
  readonly violations: number;
}

export function multiTourOutcome(cluster: PaxosCluster): MultiTourOutcome {
  const leader = cluster.readyLeader() ?? cluster.leader() ?? null;
  const core = leader === null ? undefined : cluster.core(leader);
  const ballot = core?.status().ballot ?? null;
  const slots = cluster.monitor.chosenSlots();
  const noops = slots.filter((s) => (cluster.monitor.chosenAt(s) as PaxosValue | undefined)?.kind === 'noop').length;
  return {
    leader,
    ballot: ballot === null ? null : ballotText(ballot),
    chosen: slots.length,
    noops,
    leaderNoops: core?.noopsFilled ?? 0,
    leaderAdopted: core?.adopted ?? 0,
    violations: cluster.monitor.violationCount,
  };
}

export interface SynodTourOutcome {
  /** The chosen value as JSON, or null. */
  readonly chosen: string | null;
  /** Ballots tried by every proposer (this life of each). */
  readonly ballots: number;
  /** Learners up that learned the chosen value, of the learners up. */
  readonly learned: number;
  readonly learnersUp: number;
  readonly violations: number;
}

export function synodTourOutcome(cluster: SynodCluster): SynodTourOutcome {
  const chosen = cluster.chosen();
  const text = chosen === undefined ? null : JSON.stringify(chosen);
  const up = cluster.placement.learners.filter((id) => cluster.isUp(id));
  return {
    chosen: text,
    ballots: cluster.placement.proposers.reduce((n, id) => n + cluster.attempts(id), 0),
    learned: up.filter((id) => text !== null && JSON.stringify(cluster.learned(id)) === text).length,
    learnersUp: up.length,
    violations: cluster.monitor.violationCount,
  };
}

/** Whether an outcome is what the tour expects (a list of what is not). */
export function tourMismatches(tour: PaxosTour, outcome: MultiTourOutcome | SynodTourOutcome): string[] {
  const out: string[] = [];
  if (outcome.violations > 0) out.push(`${outcome.violations} monitor violation(s)`);
  if (tour.core === 'multi') {
    const o = outcome as MultiTourOutcome;
    if (tour.expected.noopsAtLeast !== undefined && o.noops < tour.expected.noopsAtLeast) out.push(`${o.noops} no-op slot(s) chosen, expected at least ${tour.expected.noopsAtLeast}`);
    if (tour.expected.adoptedAtLeast !== undefined && o.leaderAdopted < tour.expected.adoptedAtLeast) out.push(`the leader adopted ${o.leaderAdopted} value(s), expected at least ${tour.expected.adoptedAtLeast}`);
  } else {
    const o = outcome as SynodTourOutcome;
    const want = tour.expected.chosen === null ? null : JSON.stringify(tour.expected.chosen);
    if (o.chosen !== want) out.push(`chosen ${o.chosen ?? 'nothing'}, expected ${want ?? 'nothing'}`);
    if (tour.expected.ballotsAtLeast !== undefined && o.ballots < tour.expected.ballotsAtLeast) out.push(`${o.ballots} ballot(s) tried, expected at least ${tour.expected.ballotsAtLeast}`);
  }
  return out;
}

// ---------------------------------------------------------------- playing a tour to its end

export interface PaxosTourResult {
  readonly failure: string | undefined;
  readonly outcome: MultiTourOutcome | SynodTourOutcome;
  readonly mismatches: readonly string[];
  /** When the script ended (virtual ms). */
  readonly endedAtMs: number;
  readonly cluster: PaxosCluster | SynodCluster;
}

/**
 * Plays a tour to its end: 'run' lets the simulator answer each wait at once (as the scenario
 * tests do); 'drive' plays it as the visualizer does (polling every PAXOS_TOUR_POLL_MS in virtual
 * time). Both then run to `endMs`.
 */
export function runPaxosTour(tour: PaxosTour, options: { readonly driver?: 'run' | 'drive'; readonly seed?: number } = {}): PaxosTourResult {
  const seed = options.seed ?? tour.seed;
  if (tour.core === 'multi') {
    const cluster = multiTourCluster(tour, seed);
    const { program, steps } = multiTourProgram(cluster, tour);
    const failure = play(cluster.sim, program, tour.endMs, options.driver);
    const endedAtMs = cluster.nowMs;
    steps.stopClients();
    if (cluster.nowMs < tour.endMs) cluster.runFor(tour.endMs - cluster.nowMs);
    const outcome = multiTourOutcome(cluster);
    return { failure, outcome, mismatches: tourMismatches(tour, outcome), endedAtMs, cluster };
  }
  const cluster = synodTourCluster(tour, seed);
  const failure = play(cluster.sim, synodTourProgram(cluster, tour).program, tour.endMs, options.driver);
  const endedAtMs = cluster.nowMs;
  if (cluster.nowMs < tour.endMs) cluster.runFor(tour.endMs - cluster.nowMs);
  const outcome = synodTourOutcome(cluster);
  return { failure, outcome, mismatches: tourMismatches(tour, outcome), endedAtMs, cluster };
}

function play<M extends Message, Req, Res, P>(sim: Simulation<M, Req, Res, P>, program: ScenarioProgram, endMs: number, driver: 'run' | 'drive' | undefined): string | undefined {
  if (driver !== 'drive') return runScenarioProgram(sim, program);
  let ended = false;
  let failure: string | undefined;
  driveScenarioProgram(sim, program, {
    pollMs: PAXOS_TOUR_POLL_MS,
    onEnd: (f) => {
      failure = f;
      ended = true;
    },
  });
  sim.runUntilTrue(() => ended, 10 * endMs);
  return ended ? failure : `the tour did not end within ${10 * endMs} ms`;
}
