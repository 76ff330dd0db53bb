// Raft scenarios of elections: a leader emerges, is replaced when cut off, and none is elected
// without a majority.
// Plain data, played by the one scenario interpreter (src/sim/scenario.ts) in tests, in the
// visualizer's guided tours and from the command line alike.
import type { Scenario } from './steps.js';

export const ELECTION_SCENARIOS: readonly Scenario[] = [
  {
    name: 'initial-election',
    caption: 'Three nodes start; one becomes leader within 2 s and, with no faults, stays leader in the same term.',
    nodes: 3,
    steps: [
      { do: 'expectLeader', withinMs: 2000, as: 'L' },
      { do: 'expectStableLeader', forMs: 2000 },
      { do: 'expectOneLeader', withinMs: 100 },
    ],
  },
  {
    name: 're-election',
    caption: 'The leader is cut off and the others elect a new one; it returns and steps down; without a quorum nobody leads; a quorum again elects.',
    nodes: 3,
    steps: [
      { do: 'expectLeader', withinMs: 2000, as: 'L1' },
      { do: 'isolate', nodes: ['L1'] },
      { do: 'expectLeader', withinMs: 2000, notIn: ['L1'], as: 'L2' },
      { do: 'heal' },
      { do: 'expectOneLeader', withinMs: 2000 },
      { do: 'expectLeader', withinMs: 2000, as: 'L3' },
      { do: 'pick', as: 'F', notIn: ['L3'] },
      { do: 'partition', groups: [['L3'], ['F'], ['rest']] },
      { do: 'expectNoLeader', among: ['rest'], forMs: 1500 },
      { do: 'heal' },
      { do: 'partition', groups: [['L3'], ['rest']] },
      { do: 'expectLeader', withinMs: 2000, notIn: ['L3'] },
      { do: 'heal' },
      { do: 'expectOneLeader', withinMs: 2000 },
      { do: 'write', count: 1 },
    ],
  },
  {
    name: 'many-elections',
    caption: 'Seven nodes; ten times, three random nodes are cut off (each alone) and the other four must still elect a leader.',
    nodes: 7,
    steps: [
      { do: 'expectLeader', withinMs: 2000 },
      {
        do: 'repeat',
        times: 10,
        steps: [
          { do: 'pick', as: 'D', count: 3 },
          { do: 'isolate', nodes: ['D'] },
          { do: 'expectLeader', withinMs: 3000, notIn: ['D'] },
          { do: 'heal' },
        ],
      },
      { do: 'expectLeader', withinMs: 2000 },
      { do: 'write', count: 3 },
      { do: 'expectAgreement', withinMs: 2000 },
    ],
  },
];
