// Single-decree Paxos scenarios: a normal round, dueling proposers that livelock without backoff
// and agree with it, and the classic case where a later proposer must adopt a value accepted in
// an earlier ballot. Plain data, played by the one scenario interpreter (src/sim/scenario.ts) in
// tests and, later, the visualizer's guided tours.
import type { LinkConfig } from '../../sim/network.js';
import type { SynodScenario } from './synod-steps.js';

/**
 * The dueling proposers' network: prepares, promises and rejections cross in 5 ms, accepts (which
 * carry the value) take 40 ms. A proposer's accepts are still on the way when the other's next
 * prepare overtakes them, round after round.
 */
export const DUEL_LINK: Partial<LinkConfig> = { latency: { kind: 'constant', ms: 5 }, latencyByType: { accept: { kind: 'constant', ms: 40 } } };

/** Three acceptors, two proposers (4 and 5) of their own, every node a learner. */
const DUEL_ROLES = { acceptors: ['1', '2', '3'], proposers: ['4', '5'] } as const;

export const SYNOD_SCENARIOS: readonly SynodScenario[] = [
  {
    name: 'synod-normal-round',
    title: 'A normal round',
    caption: 'One proposer: phase 1 (prepare, a majority of promises with nothing accepted before), phase 2 (accept its own value, a majority accepts): the value is chosen and every learner learns it.',
    nodes: 3,
    cluster: { link: { latency: { kind: 'constant', ms: 5 } } },
    steps: [
      { do: 'propose', via: '1', value: 'A', as: 'A' },
      { do: 'expectChosen', value: 'A', withinMs: 100 },
      { do: 'expectAnswer', as: 'A', value: 'A', own: true, withinMs: 100 },
      { do: 'expectLearned', value: 'A', withinMs: 100 },
      { do: 'expectAttempts', node: '1', atLeast: 1 },
    ],
  },
  {
    name: 'synod-dueling-livelock',
    title: 'Dueling proposers, no backoff: livelock',
    caption:
      'Two proposers start 30 ms apart and retry at once when rejected. Each finishes phase 1, but before its accepts arrive the other\'s higher prepare has overtaken them: the acceptors reject them, the loser starts a higher ballot at once, and round after round nothing is chosen.',
    nodes: 5,
    cluster: { link: DUEL_LINK, synod: { ...DUEL_ROLES, backoff: 'none' } },
    steps: [
      { do: 'propose', via: '4', value: 'A', as: 'A' },
      { do: 'run', ms: 30 },
      { do: 'propose', via: '5', value: 'B', as: 'B' },
      { do: 'expectNothingChosen', forMs: 3000 },
      { do: 'expectAttempts', node: '4', atLeast: 50 },
      { do: 'expectAttempts', node: '5', atLeast: 50 },
    ],
  },
  {
    name: 'synod-dueling-backoff',
    title: 'Dueling proposers, randomized backoff',
    caption:
      'The same duel, but a rejected proposer waits a random 10 to 100 ms before its next ballot: soon one of them finishes phase 2 while the other waits, and its value is chosen; the other adopts it.',
    nodes: 5,
    cluster: { link: DUEL_LINK, synod: { ...DUEL_ROLES, backoff: 'randomized', backoffMaxTicks: 10 } },
    steps: [
      { do: 'propose', via: '4', value: 'A', as: 'A' },
      { do: 'run', ms: 30 },
      { do: 'propose', via: '5', value: 'B', as: 'B' },
      { do: 'expectChosen', withinMs: 1500 },
      { do: 'expectLearned', withinMs: 1000 },
    ],
  },
  {
    name: 'synod-adopt-accepted',
    title: 'A later proposer adopts the accepted value',
    caption:
      'Node 3 is cut off while proposer 1 gets "A" accepted by acceptors 1 and 2 (a majority: chosen), then crashes before anyone tells node 3. Node 3 proposes "B": the promise from acceptor 2 reports "A" accepted in ballot 1.1, so node 3 must propose "A", not "B". "A" stays chosen, and node 3\'s client learns that its own value lost.',
    nodes: 3,
    cluster: { link: { latency: { kind: 'constant', ms: 5 } } },
    steps: [
      { do: 'partition', groups: [['1', '2'], ['3']] },
      { do: 'propose', via: '1', value: 'A', as: 'A' },
      { do: 'expectChosen', value: 'A', withinMs: 200 },
      { do: 'expectAccepted', node: '2', value: 'A' },
      { do: 'crash', nodes: ['1'] },
      { do: 'heal' },
      { do: 'propose', via: '3', value: 'B', as: 'B' },
      { do: 'expectAnswer', as: 'B', value: 'A', own: false, withinMs: 500 },
      { do: 'expectAdopted', node: '3' },
      { do: 'expectAccepted', node: '3', value: 'A' },
      { do: 'restart', nodes: ['1'] },
      { do: 'expectLearned', value: 'A', withinMs: 1000 },
    ],
  },
  {
    name: 'synod-acceptor-restart',
    title: 'An acceptor crashes and keeps its promise',
    caption:
      'Acceptor 2 promises ballot 1.3 to proposer 3 (node 1 does not hear of it), and proposer 3 is cut off before its accepts arrive. Acceptor 2 crashes and restarts from its durable state: it still holds the promise, so it rejects proposer 1\'s lower ballot 1.1, and proposer 1 must try again with 2.1 before "A" is chosen. (An acceptor that forgot its promise would accept 1.1: the monitors catch exactly that.)',
    nodes: 3,
    cluster: { link: { latency: { kind: 'constant', ms: 5 } }, synod: { proposers: ['1', '3'], backoff: 'randomized' } },
    steps: [
      { do: 'partition', groups: [['1'], ['2', '3']] },
      { do: 'propose', via: '3', value: 'B', as: 'B' },
      { do: 'run', ms: 12 },
      { do: 'heal' },
      { do: 'isolate', nodes: ['3'] },
      { do: 'crash', nodes: ['2'] },
      { do: 'restart', nodes: ['2'] },
      { do: 'propose', via: '1', value: 'A', as: 'A' },
      { do: 'expectChosen', value: 'A', withinMs: 1000 },
      { do: 'expectAttempts', node: '1', atLeast: 2 },
      { do: 'expectAnswer', as: 'A', value: 'A', own: true, withinMs: 500 },
      { do: 'heal' },
      { do: 'expectAnswer', as: 'B', value: 'A', own: false, withinMs: 2000 },
      { do: 'expectLearned', value: 'A', withinMs: 1000 },
    ],
  },
];
