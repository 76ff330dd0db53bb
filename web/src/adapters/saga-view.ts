// What the saga view shows of the order saga in the simulator (src/saga/sim/order-saga.ts): the
// shown saga's steps (each action and compensation: pending, running, done, failed, compensated,
// and whether its service applied it), the orchestrator's durable saga log with the time of each
// record (compensations show up in reverse order), every saga, the saga checker, and a story.
import type { NodeId, TraceEvent } from '../../../src/sim/index.js';
import { ORCHESTRATOR_NODE, ORDER_SAGA, ORDER_SAGA_NO_PIVOT, SERVICE_NAMES, SERVICE_NODES, type OrderSagaCluster } from '../../../src/saga/sim/order-saga.js';
import type { SagaCheckResult, SagaHistory } from '../../../src/saga/check.js';
import type { SagaPlan, SagaRecord } from '../../../src/saga/types.js';
import type { TableContent, TableRow, Tone } from './types.js';

const STORY_LINES = 200;
const STORY_ROWS = 14;
const LOG_ROWS = 16;

/** A step's state in the shown saga, as its service node is coloured. */
export type StepState = 'pending' | 'running' | 'done' | 'failed' | 'compensating' | 'compensated' | 'skipped';

export interface StepLine {
  readonly index: number;
  readonly name: string;
  readonly service: string;
  state: StepState;
  action: string;
  compensation: string;
  attempts: number;
}

/** One saga as its log tells it. */
export interface SagaLine {
  readonly sagaId: string;
  readonly plan: SagaPlan;
  readonly steps: StepLine[];
  status: 'running' | 'compensating' | 'committed' | 'compensated';
  error: string | null;
}

interface LogLine {
  readonly index: number;
  readonly atMs: number | undefined;
  readonly record: SagaRecord;
}

export interface StoryLine {
  readonly atMs: number;
  readonly who: string;
  readonly text: string;
  readonly tone?: Tone;
}

interface Reading {
  readonly log: readonly LogLine[];
  readonly sagas: readonly SagaLine[];
  readonly history: SagaHistory;
  readonly check: SagaCheckResult;
}

const PLANS = new Map<string, SagaPlan>([ORDER_SAGA, ORDER_SAGA_NO_PIVOT].map((p) => [p.name, p]));
const SERVICE_BY_NODE = new Map<string, string>(SERVICE_NAMES.map((n) => [SERVICE_NODES[n], n]));

export function serviceName(node: NodeId): string {
  return SERVICE_BY_NODE.get(node) ?? node;
}

export class SagaView {
  readonly story: StoryLine[] = [];
  step = '';
  finished: string | undefined;
  /** The time each saga-log record was written (by its 1-based position in the log). */
  private readonly recordTimes = new Map<number, number>();
  private readingAt = '';
  private reading: Reading | undefined;

  constructor(
    readonly cluster: OrderSagaCluster,
    /** The saga shown (the tour's); undefined: the newest. */
    readonly shown: string | undefined,
  ) {
    cluster.sim.subscribe((e) => this.onTrace(e));
  }

  tell(who: string, text: string, tone?: Tone): void {
    if (this.story.length >= STORY_LINES) this.story.shift();
    this.story.push({ atMs: this.cluster.nowMs, who, text, ...(tone === undefined ? {} : { tone }) });
  }

  stepBegan(where: string, text: string): void {
    this.step = `${where}: ${text}`;
    this.tell('tour', `${where}: ${text}`, 'dim');
  }

  private onTrace(e: TraceEvent): void {
    switch (e.ev) {
      case 'annotate':
        if (e.key === 'orchestrator/log' && typeof e.value === 'number') this.recordTimes.set(e.value, e.t);
        else if (e.key === 'service/effect' && typeof e.value === 'string') {
          const [kind, key] = e.value.split(' ');
          const what = ((key ?? '').split('/')[1] ?? '').replace(/^\d+\./, '');
          this.tell(serviceName(e.node), kind === 'compensation' ? `undoes ${what} (compensation applied)` : `applies ${what}`, kind === 'compensation' ? 'warn' : 'good');
        }
        return;
      case 'crash':
        return this.tell(e.node === ORCHESTRATOR_NODE ? 'orchestrator' : serviceName(e.node), 'crashes', 'bad');
      case 'restart':
        return this.tell(e.node === ORCHESTRATOR_NODE ? 'orchestrator' : serviceName(e.node), e.node === ORCHESTRATOR_NODE ? 'restarts, replays its saga log and resumes every unfinished saga' : 'restarts from its ledger', 'good');
      case 'partition':
        return this.tell('network', `partition: ${e.cuts.length} link${e.cuts.length === 1 ? '' : 's'} cut`, 'warn');
      case 'heal':
        return this.tell('network', 'healed');
      case 'drop':
        if (e.reason === 'manual') this.tell('network', `a ${e.type} ${e.from} → ${e.to} is dropped`, 'warn');
        return;
      case 'complete':
        if (e.outcome === 'ok') this.tell(e.process, 'is told: the saga started');
        return;
      default:
        return;
    }
  }

  // ---------------------------------------------------------------- readings

  private read(): Reading {
    const c = this.cluster;
    const key = `${c.nowMs}:${c.sim.stats.eventsProcessed}`;
    if (this.reading === undefined || key !== this.readingAt) {
      this.readingAt = key;
      const log: LogLine[] = c.sim
        .disk(ORCHESTRATOR_NODE)
        .read('core')
        .filter((r) => !r.torn && r.value.part === 'orchestrator')
        .map((r, i) => ({ index: i + 1, atMs: this.recordTimes.get(i + 1), record: r.value.op as SagaRecord }));
      const history = c.sagaHistory();
      this.reading = { log, sagas: foldLog(log.map((l) => l.record)), history, check: c.check({ requireFinished: false }) };
    }
    return this.reading;
  }

  log(): readonly LogLine[] {
    return this.read().log;
  }

  sagas(): readonly SagaLine[] {
    return this.read().sagas;
  }

  check(): SagaCheckResult {
    return this.read().check;
  }

  /** The saga shown: the tour's, else the newest. */
  current(): SagaLine | undefined {
    const all = this.sagas();
    return this.shown !== undefined ? all.find((s) => s.sagaId === this.shown) : all[all.length - 1];
  }

  /** Whether `service` durably applied the action (or the compensation) of step `step` of `sagaId`. */
  applied(sagaId: string, step: number, phase: 'action' | 'compensation'): boolean {
    return this.read().history.effects.some((e) => e.sagaId === sagaId && e.step === step && e.phase === phase);
  }
}

/** Every saga's steps from the saga log's records, in start order. */
export function foldLog(records: readonly SagaRecord[]): SagaLine[] {
  const sagas = new Map<string, SagaLine>();
  for (const r of records) {
    if (r.kind === 'started') {
      const plan = PLANS.get(r.saga);
      if (plan === undefined || sagas.has(r.sagaId)) continue;
      sagas.set(r.sagaId, {
        sagaId: r.sagaId,
        plan,
        steps: plan.steps.map((s, index) => ({ index, name: s.name, service: s.service, state: 'pending', action: '—', compensation: '—', attempts: 0 })),
        status: 'running',
        error: null,
      });
      continue;
    }
    const saga = sagas.get(r.sagaId);
    if (saga === undefined) continue;
    if (r.kind === 'finished') {
      saga.status = r.outcome;
      for (const s of saga.steps) if (s.state === 'pending') s.state = 'skipped';
      continue;
    }
    const s = saga.steps[r.step];
    if (s === undefined) continue;
    if (r.kind === 'invoked') {
      if (r.phase === 'action') {
        s.state = 'running';
        s.attempts = r.attempt;
        s.action = `running (attempt ${r.attempt})`;
      } else {
        s.state = 'compensating';
        s.compensation = `running (attempt ${r.attempt})`;
      }
    } else if (r.kind === 'succeeded') {
      if (r.phase === 'action') {
        s.state = 'done';
        s.action = 'done';
      } else {
        s.state = 'compensated';
        s.compensation = 'compensated';
      }
    } else if (r.kind === 'failed') {
      s.state = 'failed';
      s.action = `failed: ${r.error}${r.ran ? ' (may have run)' : ''}`;
      saga.status = 'compensating';
      saga.error = r.error;
    }
  }
  return [...sagas.values()];
}

const STATE_TONE: Readonly<Record<StepState, Tone | undefined>> = { pending: 'dim', running: undefined, done: 'good', failed: 'bad', compensating: 'warn', compensated: 'warn', skipped: 'dim' };

function recordText(r: SagaRecord): string {
  switch (r.kind) {
    case 'started':
      return `started ${r.sagaId} (${r.saga})`;
    case 'invoked': {
      const name = stepName(r.sagaId, r.step);
      return `${r.phase === 'action' ? 'invoke' : 'compensate'} ${name} (attempt ${r.attempt})`;
    }
    case 'succeeded':
      return r.phase === 'action' ? `${stepName(r.sagaId, r.step)} succeeded` : `${stepName(r.sagaId, r.step)} compensated`;
    case 'failed':
      return `${stepName(r.sagaId, r.step)} failed: ${r.error}: compensate backwards`;
    case 'finished':
      return `finished: ${r.outcome}`;
  }
}

/** The step's name as the order plans spell it (both plans have the same steps). */
function stepName(_sagaId: string, step: number): string {
  return ORDER_SAGA.steps[step]?.name ?? `step ${step}`;
}

// ---------------------------------------------------------------- tables

export function stepsTable(v: SagaView): TableContent {
  const saga = v.current();
  if (saga === undefined) return { kind: 'table', columns: ['#', 'step', 'service', 'action', 'compensation', 'applied'], rows: [], empty: 'No saga yet: pick a tour, or press Play and start an order.' };
  const pivot = saga.plan.pivot;
  const rows: TableRow[] = saga.steps.map((s) => {
    const did = v.applied(saga.sagaId, s.index, 'action');
    const undid = v.applied(saga.sagaId, s.index, 'compensation');
    return {
      key: String(s.index),
      cells: [
        String(s.index + 1),
        `${s.name}${s.name === pivot ? ' (pivot)' : ''}`,
        `${serviceName(s.service)} (${s.service})`,
        { text: s.action, ...(STATE_TONE[s.state === 'compensating' || s.state === 'compensated' ? 'done' : s.state] === undefined ? {} : { tone: STATE_TONE[s.state === 'compensating' || s.state === 'compensated' ? 'done' : s.state] }) },
        { text: s.compensation, ...(s.compensation === '—' ? { tone: 'dim' as const } : { tone: 'warn' as const }) },
        did ? (undid ? { text: 'applied, then undone', tone: 'warn' } : { text: 'applied', tone: 'good' }) : { text: 'no effect', tone: 'dim' },
      ],
    };
  });
  const tone: Tone = saga.status === 'committed' ? 'good' : saga.status === 'running' ? 'dim' : 'warn';
  const text = `${saga.sagaId} (${saga.plan.name}): ${saga.status}${saga.error === null ? '' : ` — ${saga.error}`}`;
  return { kind: 'table', columns: ['#', 'step', 'service', 'action', 'compensation', 'applied'], rows, caption: { text, tone } };
}

export function logTable(v: SagaView): TableContent {
  const log = v.log();
  const shown = log.slice(-LOG_ROWS);
  const rows: TableRow[] = shown.map((l) => {
    const r = l.record;
    const tone: Tone | undefined = r.kind === 'failed' ? 'bad' : r.kind === 'finished' ? (r.outcome === 'committed' ? 'good' : 'warn') : (r.kind === 'invoked' || r.kind === 'succeeded') && r.phase === 'compensation' ? 'warn' : undefined;
    return { key: String(l.index), cells: [String(l.index), l.atMs === undefined ? '—' : `${l.atMs} ms`, r.sagaId, { text: recordText(r), ...(tone === undefined ? {} : { tone }) }] };
  });
  return { kind: 'table', columns: ['#', 'time', 'saga', 'record'], rows, empty: 'The saga log is empty.', caption: { text: `${log.length} record${log.length === 1 ? '' : 's'} in the orchestrator's log (what survives a crash)` } };
}

export function sagasTable(v: SagaView): TableContent {
  const rows: TableRow[] = v.sagas().map((s) => {
    const finished = s.status === 'committed' || s.status === 'compensated';
    const at = finished ? undefined : s.status === 'compensating' ? s.steps.find((x) => x.state === 'compensating') : s.steps.find((x) => x.state === 'running');
    return { key: s.sagaId, cells: [s.sagaId, s.plan.name, { text: s.status, tone: s.status === 'committed' ? 'good' : s.status === 'running' ? 'dim' : 'warn' }, at?.name ?? '—'] };
  });
  return { kind: 'table', columns: ['saga', 'plan', 'status', 'at step'], rows, empty: 'No saga yet.' };
}

export function verdictTable(v: SagaView): TableContent {
  const k = v.check();
  const rows: TableRow[] = [
    { key: 'checker', cells: ['saga checker', k.ok ? { text: 'ok', tone: 'good' } : { text: 'VIOLATION', tone: 'bad' }, k.violations[0]?.message ?? 'all-or-compensated, no compensation without its action, each effect at most once'] },
    { key: 'outcomes', cells: ['sagas', String(k.committed + k.compensated + k.unfinished), `${k.committed} committed, ${k.compensated} compensated, ${k.unfinished} unfinished`] },
    { key: 'effects', cells: ['effects', String(k.effects), 'actions and compensations the services applied'] },
  ];
  return { kind: 'table', columns: ['check', 'verdict', 'detail'], rows };
}

export function storyTable(v: SagaView): TableContent {
  const shown = v.story.slice(-STORY_ROWS);
  const first = v.story.length - shown.length;
  const rows: TableRow[] = shown.map((l, i) => ({ key: String(first + i), cells: [`${l.atMs} ms`, l.who, { text: l.text, ...(l.tone === undefined ? {} : { tone: l.tone }), title: l.text }] }));
  return { kind: 'table', columns: ['time', 'who', 'what happened'], rows, empty: 'Nothing yet: pick a tour, or press Play and start an order.' };
}
