// Raft scenarios of snapshots: logs are compacted, and a follower far behind is caught up by
// installing a snapshot.
// Plain data, played by the one scenario interpreter (src/sim/scenario.ts) in tests, in the
// visualizer's guided tours and from the command line alike.
import { LOSSY, type Scenario } from './steps.js';

export const SNAPSHOTS_SCENARIOS: readonly Scenario[] = [
  {
    name: 'snapshot-basic',
    caption: 'After many writes every node has compacted its log into a snapshot and still agrees.',
    nodes: 3,
    cluster: { raft: { snapshotThresholdEntries: 20 } },
    steps: [
      { do: 'expectLeader', withinMs: 2000 },
      { do: 'write', count: 60 },
      { do: 'expectAgreement', withinMs: 2000 },
      { do: 'expectSnapshot' },
    ],
  },
  {
    name: 'snapshot-install-after-disconnect',
    caption: 'A follower is cut off while the others compact past it; on return it is sent the snapshot in chunks.',
    nodes: 3,
    cluster: { raft: { snapshotThresholdEntries: 20, snapshotChunkChars: 200 } },
    steps: [
      { do: 'expectLeader', withinMs: 2000, as: 'L' },
      { do: 'pick', as: 'F', notIn: ['L'] },
      { do: 'isolate', nodes: ['F'] },
      { do: 'write', count: 60 },
      { do: 'heal' },
      { do: 'expectAgreement', withinMs: 3000 },
      { do: 'expectSnapshotSent' },
      { do: 'expectSnapshot', nodes: ['F'] },
    ],
  },
  {
    name: 'snapshot-install-after-crash',
    caption: 'A follower crashes while the others compact past it; after a restart it installs a snapshot.',
    nodes: 3,
    cluster: { fsyncMs: 1, raft: { snapshotThresholdEntries: 20, snapshotChunkChars: 200 } },
    steps: [
      { do: 'expectLeader', withinMs: 2000, as: 'L' },
      { do: 'write', count: 5 },
      { do: 'pick', as: 'F', notIn: ['L'] },
      { do: 'crash', nodes: ['F'] },
      { do: 'write', count: 60 },
      { do: 'restart', nodes: ['F'] },
      { do: 'expectAgreement', withinMs: 3000 },
      { do: 'expectSnapshotSent' },
    ],
  },
  {
    name: 'snapshot-unreliable',
    caption: 'Snapshots and their installation on a lossy, reordering network, with followers cut off in turn.',
    nodes: 5,
    cluster: { link: LOSSY, raft: { snapshotThresholdEntries: 20, snapshotChunkChars: 200 } },
    steps: [
      { do: 'expectLeader', withinMs: 3000 },
      { do: 'clients', count: 3, thinkMs: 5 },
      {
        do: 'repeat',
        times: 5,
        steps: [
          { do: 'pick', as: 'X', notIn: ['leader'] },
          { do: 'isolate', nodes: ['X'] },
          { do: 'run', ms: 600 },
          { do: 'heal' },
          { do: 'run', ms: 300 },
        ],
      },
      { do: 'stopClients' },
      { do: 'link', change: { lossRate: 0, duplicateRate: 0, reorderRate: 0 } },
      { do: 'expectLeader', withinMs: 3000 },
      { do: 'write', count: 1 },
      { do: 'expectAgreement', withinMs: 3000 },
      { do: 'expectSnapshot' },
    ],
  },
  {
    name: 'snapshot-all-crash',
    caption: 'Every node crashes after compacting; all restart from snapshot plus log and agree on the state.',
    nodes: 3,
    cluster: { fsyncMs: 1, raft: { snapshotThresholdEntries: 15 } },
    steps: [
      { do: 'expectLeader', withinMs: 2000 },
      { do: 'clients', count: 3, thinkMs: 5 },
      { do: 'run', ms: 800 },
      { do: 'crash', nodes: 'all' },
      { do: 'run', ms: 200 },
      { do: 'restart', nodes: 'all' },
      { do: 'run', ms: 800 },
      { do: 'crash', nodes: ['leader'] },
      { do: 'run', ms: 100 },
      { do: 'restart', nodes: 'all' },
      { do: 'stopClients' },
      { do: 'expectLeader', withinMs: 3000 },
      { do: 'write', count: 1 },
      { do: 'expectAgreement', withinMs: 3000 },
      { do: 'expectSnapshot' },
    ],
  },
];
