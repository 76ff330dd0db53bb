// Raft KV scenarios of watching: a watcher pulls a prefix's changes from one node's applied state
// (the store's `changes` query) and resumes on another node when its own fails, with no gap and
// no duplicate. Plain data, played by the one scenario interpreter in tests and as the
// visualizer's guided tours.
import type { Scenario } from './steps.js';

export const WATCH_SCENARIOS: readonly Scenario[] = [
  {
    name: 'watch-across-leader-crash',
    caption: 'A watcher of prefix x/ pulls from the leader; the leader crashes; the watcher resumes on another node from its next revision and still has every change of x/ in order, none missing, none twice.',
    nodes: 3,
    steps: [
      { do: 'expectLeader', withinMs: 2000, as: 'L1' },
      { do: 'watch', prefix: 'x/', via: 'L1', fromRevision: 1 },
      { do: 'putKeys', prefix: 'x/', count: 4 },
      // writes outside the prefix take revisions too: the watcher must skip them, not count them as gaps
      { do: 'write', count: 2 },
      { do: 'expectWatch', withinMs: 1000, minEvents: 4 },
      { do: 'crash', nodes: ['L1'] },
      { do: 'expectLeader', withinMs: 3000, notIn: ['L1'], as: 'L2' },
      { do: 'putKeys', prefix: 'x/', count: 4 },
      { do: 'expectWatch', withinMs: 1000, minEvents: 8, notOn: ['L1'] },
      { do: 'restart', nodes: ['L1'] },
      { do: 'putKeys', prefix: 'x/', count: 2 },
      { do: 'expectWatch', withinMs: 1000, minEvents: 10, notOn: ['L1'] },
      { do: 'expectAgreement', withinMs: 2000 },
    ],
  },
];
