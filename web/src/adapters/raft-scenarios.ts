// Plays the project's Raft scenario scripts (src/raft/scenarios) inside a visualized run, with
// the one scenario interpreter the tests use (src/sim/scenario.ts): its program is driven in
// virtual time (a waiting step polls every few milliseconds), so the run stays deterministic and
// replays exactly, and no step is interpreted a second time here. Captions come from the
// scenario's caption and the step under way.
import { scenarioProgram, SCENARIOS, type RaftStepsObserver, type Scenario as RaftScenario } from '../../../src/raft/scenarios/index.js';
import { driveScenarioProgram } from '../../../src/sim/scenario.js';
import type { VizRaftCluster } from './raft-cluster.js';
import type { Scenario } from './types.js';

const POLL_MS = 5;

/** The project's scenarios as the visualizer lists them (ids prefixed "raft-"). */
export const RAFT_SCENARIOS: readonly Scenario[] = SCENARIOS.map((s) => ({
  id: `raft-${s.name}`,
  title: s.name.replace(/-/g, ' '),
  summary: s.caption,
  nodes: s.nodes,
  seed: 1,
  steps: [],
  driven: true,
  endMs: 6000,
}));

export function raftScenario(id: string): RaftScenario | undefined {
  return SCENARIOS.find((s) => `raft-${s.name}` === id);
}

export class ScenarioDriver {
  private current = '';
  private finishedText: string | undefined;
  private statusOf: () => string = () => '';

  constructor(
    private readonly c: VizRaftCluster,
    private readonly scenario: RaftScenario,
    private readonly observer: RaftStepsObserver = {},
  ) {}

  caption(): string {
    const status = this.statusOf();
    const what = this.finishedText ?? `Step ${this.current}${status === '' ? '' : ` — ${status}`}`;
    return `${this.scenario.caption}\n${what}`;
  }

  start(): void {
    this.c.note(`scenario ${this.scenario.name}: ${this.scenario.caption}`);
    const { program, steps, interpreter } = scenarioProgram(this.c, this.scenario, this.observer);
    this.statusOf = () => interpreter.statusText;
    driveScenarioProgram(this.c.sim, program, {
      pollMs: POLL_MS,
      onStep: (where, text) => (this.current = `${where}: ${text}`),
      onEnd: (failure) => {
        this.finishedText = failure === undefined ? 'Scenario complete. Every expectation held; keep playing or act on the cluster.' : `Expectation failed: ${failure}`;
        steps.stopClients();
        this.c.note(`scenario: ${this.finishedText}`);
      },
    });
  }
}
