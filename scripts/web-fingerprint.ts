// Prints one line per visualizer run: every adapter's scenarios, and for each adapter a run that
// uses every kind of action (faults on named nodes, on "leader", on nodes that do not exist,
// partitions, link changes, dropping a message in flight, clients), with the trace and state
// fingerprints the page shows. Two builds that print the same lines ran the same user actions
// identically (used to show that routing the visualizer's faults through applyFault changed no
// behaviour). Usage: node --import tsx scripts/web-fingerprint.ts [SEEDS]
import { createHash } from 'node:crypto';
import { ADAPTERS } from '../web/src/adapters/index.js';
import type { ProtocolAdapter } from '../web/src/adapters/types.js';
import { actionFromText } from '../web/src/engine/actions.js';
import { SimulationSource } from '../web/src/source/simulation.js';

const seeds = Number(process.argv[2] ?? 3);
if (!Number.isSafeInteger(seeds) || seeds < 1) {
  process.stderr.write('usage: web-fingerprint.ts [SEEDS]\n');
  process.exit(2);
}

/** Actions as the page's links write them, each taken at its time (ms). "drop(flight)": the first message in flight then. */
const SCRIPT: readonly (readonly [number, string])[] = [
  [300, 'client(write,-)'],
  [400, 'drop(flight)'],
  [450, 'drop(999999)'],
  [500, 'crash(leader)'],
  [520, 'crash(9)'],
  [600, 'pause(2,300)'],
  [700, 'client(write,1)'],
  [800, 'partition(1,2/3,4,5)'],
  [850, 'partition(1/9)'],
  [900, 'isolate(leader)'],
  [1000, 'heal'],
  [1100, 'link(1,*,0.3,20,both)'],
  [1150, 'link(2,2,0.5,0,both)'],
  [1200, 'link(*,*,0.1,5)'],
  [1300, 'restart(leader)'],
  [1400, 'restart(1)'],
  [1500, 'link(*,*,0,0,both)'],
  [1600, 'workload(on)'],
  [2000, 'isolate(3)'],
  [2300, 'heal'],
  [2500, 'workload(off)'],
];

function line(adapter: ProtocolAdapter, name: string, source: SimulationSource): string {
  const v = source.view(24);
  const session = source.timeline.session;
  // the client history and the latest events in full (the trace hash folds only their identifying fields)
  const full = createHash('sha256').update(JSON.stringify([session.sim.historySnapshot(), session.recentEvents()])).digest('hex').slice(0, 16);
  return `${adapter.id} ${name} t=${v.timeMs} events=${v.events} trace=${v.traceHash} state=${v.stateHash} full=${full}${v.failure === null ? '' : ` FAILED ${v.failure}`}`;
}

for (const adapter of ADAPTERS) {
  for (const sc of adapter.scenarios) {
    const actions = sc.driven === true ? [] : sc.steps.flatMap((st) => (st.action === undefined ? [] : [{ at: st.atMs, action: st.action }]));
    const source = new SimulationSource(adapter, { protocol: adapter.id, nodes: sc.nodes, seed: sc.seed, actions, scenario: sc.id });
    source.seek(sc.endMs);
    process.stdout.write(`${line(adapter, `scenario:${sc.id}`, source)}\n`);
  }
  for (let seed = 1; seed <= seeds; seed++) {
    const source = new SimulationSource(adapter, { protocol: adapter.id, nodes: 5, seed, actions: [] });
    for (const [at, text] of SCRIPT) {
      source.seek(at);
      if (text === 'drop(flight)') {
        const m = source.view(1).messages.find((x) => x.state === 'flight');
        if (m !== undefined) source.dispatch({ kind: 'drop', msg: m.id });
      } else {
        source.dispatch(actionFromText(text));
      }
    }
    source.seek(3500);
    process.stdout.write(`${line(adapter, `actions:seed${seed}`, source)}\n`);
  }
}
