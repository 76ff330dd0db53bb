// The saga adapter: the order saga of src/saga/sim (an orchestrator with its durable saga log and
// four services: order, payment, inventory, shipping) built from the engine's wrapped spec. Each
// service is coloured by the state of its step in the saga shown, so a failure and the
// compensations running backwards can be watched; the guided tours are the scripts the tests play
// (src/saga/scenarios/tours.ts), driven by the same interpreter.
import { DEFAULT_FAILURE_RATES, ORCHESTRATOR_NODE, ORDER_SAGA, ORDER_SAGA_NO_PIVOT, OrderSagaCluster, type OrderSagaHost } from '../../../src/saga/sim/order-saga.js';
import { SAGA_TOUR_LINK, SAGA_TOUR_POLL_MS, SAGA_TOURS, sagaTourCluster, sagaTourOutcome, sagaTourProgram, TOUR_SAGA_ID, type SagaTour, type SagaTourOutcome } from '../../../src/saga/scenarios/tours.js';
import type { Message, NodeId } from '../../../src/sim/index.js';
import { driveScenarioProgram } from '../../../src/sim/scenario.js';
import { CheckMonitor } from './check-monitor.js';
import { logTable, SagaView, sagasTable, serviceName, stepsTable, storyTable, verdictTable, type StepLine } from './saga-view.js';
import type { MessageTypeDef, NodeView, PanelContents, PanelDef, ProtocolAdapter, ProtocolRun, RoleDef, SafetyMonitor, Scenario } from './types.js';

const ROLES: readonly RoleDef[] = [
  { id: 'orchestrator', label: 'orchestrator (keeps the saga log)', color: '#2563eb' },
  { id: 'pending', label: 'service: its step not reached', color: '#cbd5e1' },
  { id: 'running', label: 'service: its action asked for', color: '#93c5fd' },
  { id: 'done', label: 'service: its action succeeded', color: '#16a34a' },
  { id: 'failed', label: 'service: its action failed', color: '#dc2626' },
  { id: 'compensating', label: 'service: its compensation asked for', color: '#f59e0b' },
  { id: 'compensated', label: 'service: its action undone (compensated)', color: '#a855f7' },
  { id: 'skipped', label: 'service: its step never ran (the saga ended before it)', color: '#e2e8f0' },
];

const MESSAGE_TYPES: readonly MessageTypeDef[] = [
  { type: 'service/invoke', label: 'orchestrator → service: run this action or compensation (with its idempotency key)', color: '#2563eb', response: false },
  { type: 'orchestrator/result', label: 'service → orchestrator: the result (ok, a definite failure, or retriable)', color: '#2563eb', response: true },
];

const PANELS: readonly PanelDef[] = [
  { id: 'saga-steps', title: 'Saga steps', place: 'main', hint: 'The saga shown (the tour’s, or the newest): each step’s action and compensation as the orchestrator’s log tells them, and whether its service applied them. A failure turns the saga around: the compensations run backwards.' },
  { id: 'saga-log', title: 'Saga log', place: 'main', hint: 'The orchestrator’s durable saga log, newest last, with the time each record was written: what a restarted orchestrator resumes from.' },
  { id: 'saga-sagas', title: 'Sagas', place: 'side', hint: 'Every saga the orchestrator knows: its plan, its status and the step it is at.' },
  { id: 'saga-verdicts', title: 'Verdicts', place: 'side', hint: 'The saga checker on the log and the services’ ledgers: every saga all-committed or all-compensated, no compensation without its action, every effect at most once.' },
  { id: 'saga-story', title: 'What happened', place: 'lower', hint: 'Effects applied and undone at the services, crashes and restarts, as they happened.' },
];

function listed(t: SagaTour): Scenario {
  return { id: t.name, title: t.title, summary: t.caption, nodes: 5, seed: t.seed, steps: [], driven: true, endMs: t.endMs };
}

/** A finished tour's outcome in one line (the caption and the tests use it). */
export function sagaOutcomeLine(o: SagaTourOutcome): string {
  const undone = o.compensations.length === 0 ? 'nothing compensated' : `compensated backwards: ${o.compensations.join(' ← ')}`;
  return `Saga ${o.status}; applied: ${o.actions.join(', ') || 'nothing'}; ${undone}; checker ${o.checkOk ? 'ok' : 'VIOLATION'}.`;
}

function monitorsFor(view: SagaView, now: () => number): SafetyMonitor[] {
  let at = -1;
  // unfinished sagas are not violations while the run goes on (the view checks with requireFinished: false)
  const monitor = new CheckMonitor('saga-checker', 'Saga checker', 'Every saga ends all-committed or all-compensated; no compensation runs for an action that never ran; every action and compensation takes effect at most once.', () => {
    const k = view.check();
    return k.violations[0]?.message ?? null;
  });
  return [
    {
      id: monitor.id,
      title: monitor.title,
      description: monitor.description,
      afterStep() {
        if (now() === at) return null;
        at = now();
        return monitor.afterStep();
      },
    },
  ];
}

/** A step's state in a few words, under its service. */
function stepText(step: StepLine): string {
  switch (step.state) {
    case 'pending':
      return 'not reached';
    case 'running':
      return `action, attempt ${step.attempts}`;
    case 'done':
      return 'action done';
    case 'failed':
      return step.action;
    case 'compensating':
      return 'compensating';
    case 'compensated':
      return 'action undone';
    case 'skipped':
      return 'never ran';
  }
}

class SagaRun implements ProtocolRun {
  readonly sim: OrderSagaCluster['sim'];
  readonly monitors: readonly SafetyMonitor[];
  readonly view: SagaView;
  private outcome: SagaTourOutcome | undefined;

  constructor(
    private readonly cluster: OrderSagaCluster,
    private readonly tour: SagaTour | undefined,
  ) {
    this.sim = cluster.sim;
    this.view = new SagaView(cluster, tour === undefined ? undefined : TOUR_SAGA_ID);
    this.monitors = monitorsFor(this.view, () => cluster.nowMs);
  }

  nodeIds(): readonly NodeId[] {
    return this.cluster.nodeIds;
  }

  leader(): NodeId | undefined {
    return undefined;
  }

  describeNode(id: NodeId): NodeView {
    const c = this.cluster;
    const up = c.sim.core(id) !== undefined;
    if (id === ORCHESTRATOR_NODE) {
      const core = c.orchestrator();
      return { id, up, role: up ? 'orchestrator' : 'down', details: core === undefined ? ['orchestrator down'] : ['orchestrator', `active ${core.activeCount}`] };
    }
    const saga = this.view.current();
    const step = saga?.steps.find((s) => s.service === id);
    const state = step?.state ?? 'pending';
    return { id, up, role: up ? state : 'down', details: [serviceName(id), step === undefined ? 'no saga' : stepText(step)] };
  }

  describePanels(): PanelContents {
    return { 'saga-steps': stepsTable(this.view), 'saga-log': logTable(this.view), 'saga-sagas': sagasTable(this.view), 'saga-verdicts': verdictTable(this.view), 'saga-story': storyTable(this.view) };
  }

  describeMessage(msg: Message): string {
    const m = (msg as Message & { body?: { type?: string; stepName?: string; phase?: string; key?: string; ok?: boolean; error?: string; attempt?: number } }).body ?? {};
    if (m.type === 'invoke') return `${m.phase ?? ''} ${m.stepName ?? ''} (attempt ${m.attempt ?? '?'}, key ${m.key ?? '?'})`;
    if (m.type === 'result') return `result ${m.phase ?? ''}: ${m.ok === true ? 'ok' : `failed: ${m.error ?? '?'}`} (key ${m.key ?? '?'})`;
    return msg.type;
  }

  /** Starts an order saga (or one without a pivot) with the demo's failure rates. */
  clientOp(op: string, _process: string, _node: NodeId | null, value: number): void {
    const plan = op === 'start-no-pivot' ? ORDER_SAGA_NO_PIVOT : ORDER_SAGA;
    this.cluster.startSaga(`order-${value}`, plan.name, { order: `order-${value}`, amount: 1 + (value % 100) });
  }

  protocolAction(name: string): string {
    return `no action ${name}`;
  }

  startScenario(): void {
    const tour = this.tour;
    if (tour === undefined) return;
    const c = this.cluster;
    c.sim.note(`tour ${tour.name}: ${tour.caption}`);
    driveScenarioProgram(c.sim, sagaTourProgram(c, tour), {
      pollMs: SAGA_TOUR_POLL_MS,
      onStep: (where, text) => this.view.stepBegan(where, text),
      onEnd: (failure) => {
        this.outcome = sagaTourOutcome(c, tour.plan);
        this.view.finished = failure === undefined ? 'Tour complete.' : `Expectation failed: ${failure}`;
        c.sim.note(`tour: ${this.view.finished}`);
      },
    });
  }

  scenarioCaption(): string | null {
    const tour = this.tour;
    if (tour === undefined) return null;
    const lines = [tour.caption];
    if (this.view.finished === undefined) lines.push(`Step ${this.view.step === '' ? '—' : this.view.step}`);
    else lines.push(`${this.view.finished}${this.outcome === undefined ? '' : ` ${sagaOutcomeLine(this.outcome)}`}`);
    const last = this.view.story.filter((l) => l.who !== 'tour').slice(-1)[0];
    if (last !== undefined) lines.push(`${last.atMs} ms · ${last.who} ${last.text}`);
    return lines.join('\n');
  }
}

export const sagaAdapter: ProtocolAdapter = {
  id: 'saga',
  title: 'Saga: the order saga',
  blurb: 'An orchestrated saga: node 1 runs the steps create-order → charge-payment → reserve-inventory (the pivot) → ship on the services 2..5, logging each before it acts; a failure compensates what ran, in reverse order. Services are coloured by their step’s state.',
  nodes: { min: 5, max: 5, initial: 5, sizes: [5] },
  initialSpeed: 200,
  initialSpanMs: 2000,
  hasLeader: false,
  roles: ROLES,
  messageTypes: MESSAGE_TYPES,
  panels: PANELS,
  clientOps: [
    { id: 'start', label: 'Start an order', title: 'A client starts an order saga (payments are declined, stock runs out and calls fail transiently at the demo’s seeded rates)', target: 'none' },
    { id: 'start-no-pivot', label: 'Start (no pivot)', title: 'A client starts the order saga without a pivot: a refused shipment compensates all three steps before it', target: 'none' },
  ],
  nodeActions: [],
  clusterActions: [],
  checker: null,
  scenarios: SAGA_TOURS.map(listed),
  build(ctx): ProtocolRun {
    const tour = ctx.scenario === undefined ? undefined : SAGA_TOURS.find((t) => t.name === ctx.scenario);
    const host: OrderSagaHost = { wrapSpec: (spec) => ctx.wrap(spec), unwrapCore: (core) => ctx.unwrap(core) };
    const cluster = tour !== undefined ? sagaTourCluster(tour, ctx.seed, host) : new OrderSagaCluster({ seed: ctx.seed, failures: DEFAULT_FAILURE_RATES, link: SAGA_TOUR_LINK, trace: false, host });
    return new SagaRun(cluster, tour);
  },
};
