// The simulation source: a Timeline (seed + actions, replayed deterministically) with a clock
// that plays, pauses, steps and seeks, and builds the views the UI draws.
import { checkHistory } from '../../../src/check/index.js';
import type { TraceEvent } from '../../../src/sim/index.js';
import type { NodeStyle, NodeView, PanelContents, ProtocolAdapter, Scenario } from '../adapters/types.js';
import { encodeRun, type Action, type RunSpec } from '../engine/actions.js';
import { hashText } from '../engine/hash.js';
import { Timeline } from '../engine/timeline.js';
import type { CheckDisplay, ClusterSource, ClusterView, LinkDisplay, MessageDisplay, NodeDisplay, SourceCapabilities, TimeControl } from './types.js';

/** Longest wall time one animation frame may spend simulating; beyond it the clock falls behind. */
const FRAME_BUDGET_MS = 14;
/** Simulate in slices this long (virtual ms) so a frame can stop when its budget is spent. */
const SLICE_MS = 40;
/** The checker's time budget: small while playing (it runs on the animation thread), larger when paused. */
const CHECK_BUDGET_PLAYING_MS = 30;
const CHECK_BUDGET_PAUSED_MS = 400;
/** While playing, the history is re-checked at most this often (wall ms). */
const CHECK_INTERVAL_MS = 1000;

export class SimulationSource implements ClusterSource, TimeControl {
  readonly kind = 'simulation' as const;
  readonly capabilities: SourceCapabilities = { timeTravel: true, dropMessages: true, linkFaults: true };
  readonly timeline: Timeline;
  readonly style: NodeStyle;
  private readonly listeners = new Set<() => void>();
  private playingValue = false;
  private carry = 0;
  speed: number;
  private check: CheckDisplay = { verdict: 'none', text: 'no operations yet', unplaceable: [], stuck: null };
  private checkedRevision = -1;
  private checkedSession: unknown = null;
  private lastCheckAt = -Infinity;
  private readonly scenario: Scenario | undefined;
  /** The node selected on the page (ProtocolRun.select). */
  private selected: string | null = null;

  constructor(
    readonly adapter: ProtocolAdapter,
    run: RunSpec,
  ) {
    this.style = adapter;
    this.timeline = new Timeline(adapter, run);
    this.scenario = run.scenario === undefined ? undefined : adapter.scenarios.find((s) => s.id === run.scenario);
    this.speed = adapter.initialSpeed;
  }

  // ---------------------------------------------------------------- TimeControl

  get playing(): boolean {
    return this.playingValue;
  }

  get nowMs(): number {
    return this.timeline.nowMs;
  }

  get endMs(): number {
    return Math.max(this.timeline.horizonMs, this.scenario?.endMs ?? 0, this.adapter.initialSpanMs);
  }

  get failed(): boolean {
    return this.timeline.session.failure !== null;
  }

  play(): void {
    if (this.failed) return;
    this.playingValue = true;
    this.carry = 0;
    this.changed();
  }

  pause(): void {
    this.playingValue = false;
    this.changed();
  }

  step(): void {
    this.playingValue = false;
    this.timeline.step();
    this.changed();
  }

  seek(ms: number): void {
    this.timeline.seek(ms);
    this.changed();
  }

  tick(realMs: number): boolean {
    if (!this.playingValue) return false;
    if (this.failed) {
      this.playingValue = false;
      this.changed();
      return true;
    }
    const wanted = this.carry + (this.speed * Math.min(realMs, 100)) / 1000;
    const whole = Math.floor(wanted);
    this.carry = wanted - whole;
    if (whole <= 0) return false;
    const target = this.timeline.nowMs + whole;
    const started = performance.now();
    while (this.timeline.nowMs < target && !this.failed) {
      this.timeline.seek(Math.min(target, this.timeline.nowMs + SLICE_MS));
      if (performance.now() - started > FRAME_BUDGET_MS) {
        this.carry = 0;
        break;
      }
    }
    return true;
  }

  // ---------------------------------------------------------------- ClusterSource

  dispatch(action: Action): void {
    this.timeline.act(action);
    this.changed();
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  dispose(): void {
    this.listeners.clear();
    this.playingValue = false;
  }

  /** The fragment of a link that replays this run: to the current time when paused, from the start when playing. */
  shareFragment(): string {
    return encodeRun(this.timeline.run, this.playingValue ? null : this.timeline.nowMs);
  }

  get run(): RunSpec {
    return this.timeline.run;
  }

  /** The node selected on the page: adapters that draw one node's perspective follow it. */
  select(id: string | null): void {
    if (id === this.selected) return;
    this.selected = id;
    this.changed();
  }

  view(logWindow: number): ClusterView {
    const session = this.timeline.session;
    const run = session.run;
    const sim = session.sim;
    const now = sim.nowMs;
    run.select?.(this.selected);
    const ids = run.nodeIds();
    const nodes: NodeDisplay[] = ids.map((id) => withFaults(run.describeNode(id, logWindow), session.nodeFaults(id), session.isPaused(id)));
    const cuts: [string, string][] = [];
    for (const a of ids) for (const b of ids) if (a !== b && sim.isCut(a, b)) cuts.push([a, b]);
    const messages: MessageDisplay[] = [];
    for (const r of session.messages.visible(now)) {
      if (r.fate === 'delivered') continue;
      const span = Math.max(1, r.arriveAt - r.sentAt);
      let progress: number;
      if (r.fate === 'dropped') {
        progress = r.reason === 'loss' || r.reason === 'partition' ? (r.endAt === r.sentAt ? 0.12 : Math.min(1, (r.endAt - r.sentAt) / span)) : Math.min(1, (r.endAt - r.sentAt) / span);
      } else {
        progress = Math.min(1, Math.max(0, (now - r.sentAt) / span));
      }
      messages.push({
        id: r.id,
        from: r.from,
        to: r.to,
        type: r.type,
        progress,
        state: r.fate,
        reason: r.reason,
        text: `#${r.id} ${session.describeMessage(r.body, r.type)} (${r.from}→${r.to}, sent at ${r.sentAt} ms${r.fate === 'dropped' ? `, dropped: ${dropReason(r.reason)}` : `, due at ${r.arriveAt} ms`})`,
      });
    }
    const history = sim.historySnapshot().ops;
    this.updateCheck(history);
    const panels: PanelContents = run.describePanels?.(logWindow) ?? {};
    return {
      timeMs: now,
      events: session.eventCount,
      nodes,
      messages,
      cuts,
      links: this.links(ids),
      monitors: session.monitors,
      history,
      check: this.check,
      caption: this.caption(now),
      recent: session.recentEvents().map(describeEvent),
      traceHash: session.traceHash,
      stateHash: stateHash(now, nodes, cuts, panels),
      leader: run.leader() ?? null,
      failure: session.failure === null ? null : `the simulation stopped at ${session.failure.atMs} ms: ${session.failure.message}`,
      workload: session.workload,
      panels,
    };
  }

  private links(ids: readonly string[]): LinkDisplay[] {
    const session = this.timeline.session;
    const touched = session.actions.slice(0, session.applied).some((a) => a.action.kind === 'link');
    if (!touched) return [];
    const out: LinkDisplay[] = [];
    for (const a of ids) for (const b of ids) {
      if (a === b) continue;
      const link = session.sim.link(a, b);
      if (link.lossRate > 0 || link.extraDelayMs > 0) out.push({ from: a, to: b, loss: link.lossRate, delayMs: link.extraDelayMs });
    }
    return out;
  }

  private caption(now: number): string | null {
    if (this.scenario === undefined) return null;
    if (this.scenario.driven === true) return this.timeline.session.run.scenarioCaption?.() ?? null;
    let text: string | null = null;
    for (const step of this.scenario.steps) {
      if (step.atMs > now) break;
      if (step.caption !== undefined) text = step.caption;
    }
    return text;
  }

  private updateCheck(history: ClusterView['history']): void {
    const session = this.timeline.session;
    const checker = this.adapter.checker;
    if (checker === null) {
      this.check = { verdict: 'none', text: 'no checker model for this protocol', unplaceable: [], stuck: null };
      return;
    }
    if (session === this.checkedSession && session.historyRevision === this.checkedRevision) return;
    const wall = performance.now();
    if (this.playingValue && wall - this.lastCheckAt < CHECK_INTERVAL_MS) return;
    this.checkedSession = session;
    this.checkedRevision = session.historyRevision;
    this.lastCheckAt = wall;
    if (history.length === 0) {
      this.check = { verdict: 'none', text: 'no operations yet', unplaceable: [], stuck: null };
      return;
    }
    const selected = session.run.checkable?.(history) ?? { ops: history, note: null };
    const checked = selected.ops;
    const note = selected.note === null ? '' : `; ${selected.note}`;
    if (checked.length === 0) {
      this.check = { verdict: 'none', text: `nothing the ${checker.describe} checks${note}`, unplaceable: [], stuck: null };
      return;
    }
    try {
      const budgetMs = this.playingValue ? CHECK_BUDGET_PLAYING_MS : CHECK_BUDGET_PAUSED_MS;
      const result = checkHistory({ format: 'synod-history/1', ops: checked }, checker.model, { now: () => performance.now(), budgetMs });
      const open = checked.filter((op) => op.outcome === 'unknown').length;
      const ops = `${checked.length} operation${checked.length === 1 ? '' : 's'}${open > 0 ? `, ${open} open or unknown` : ''}${note}`;
      if (result.verdict === 'linearizable') {
        this.check = { verdict: 'linearizable', text: `linearizable (${checker.describe}; ${ops})`, unplaceable: [], stuck: null };
      } else if (result.verdict === 'unknown') {
        this.check = { verdict: 'unknown', text: `unknown: ${result.reason ?? 'budget'} spent (${ops})`, unplaceable: [], stuck: null };
      } else {
        const v = result.violation;
        const prefix = v === null ? 0 : v.prefix.length;
        this.check = {
          verdict: 'not-linearizable',
          text: `NOT linearizable (${checker.describe}${v !== null && v.key !== '' ? `, key ${v.key}` : ''}): after ${prefix} operation${prefix === 1 ? '' : 's'} none of ${v?.unplaceable.map((i) => `#${i}`).join(', ') ?? '?'} can be placed`,
          unplaceable: v?.unplaceable ?? [],
          stuck: v?.stuck ?? null,
        };
      }
    } catch (err) {
      this.check = { verdict: 'unknown', text: `checker error: ${err instanceof Error ? err.message : String(err)}`, unplaceable: [], stuck: null };
    }
  }
}

/** A node's view with the faults in force on it (slow, clock) added to its details. */
function withFaults(view: NodeView, faults: readonly string[], paused: boolean): NodeDisplay {
  return faults.length === 0 ? { ...view, paused } : { ...view, details: [...view.details, ...faults], paused };
}

function stateHash(now: number, nodes: readonly NodeDisplay[], cuts: readonly (readonly [string, string])[], panels: PanelContents): string {
  const parts: string[] = [String(now)];
  for (const n of nodes) {
    const log = n.log?.cells.map((c) => `${c.index}:${c.term}`).join(',') ?? '';
    parts.push(`${n.id}|${n.up ? 'up' : 'down'}|${n.role}|${n.term ?? ''}|${n.vote ?? ''}|${n.leader ?? ''}|${n.log?.commit ?? ''}|${n.log?.lastIndex ?? ''}|${log}|${n.details.join(';')}${n.mark == null ? '' : `|${n.mark}`}`);
  }
  parts.push(cuts.map(([a, b]) => `${a}>${b}`).join(','));
  // what the adapter's panels show is drawn state too
  if (Object.keys(panels).length > 0) parts.push(JSON.stringify(panels));
  return hashText(parts.join('\n'));
}

export function describeEvent(e: TraceEvent): string {
  const at = `${e.t} ms`;
  switch (e.ev) {
    case 'send':
      return `${at}  ${e.from}→${e.to} sends ${e.type}`;
    case 'deliver':
      return `${at}  ${e.to} receives ${e.type} from ${e.from}`;
    case 'drop':
      return `${at}  ${e.type} #${e.id} ${e.from}→${e.to} dropped (${dropReason(e.reason)})`;
    case 'duplicate':
      return `${at}  ${e.type} ${e.from}→${e.to} duplicated`;
    case 'crash':
      return `${at}  node ${e.node} crashes`;
    case 'restart':
      return `${at}  node ${e.node} restarts (${e.replayedOps} ops replayed)`;
    case 'pause':
      return `${at}  node ${e.node} paused for ${e.ms} ms`;
    case 'partition':
      return `${at}  partition: ${e.cuts.length} link${e.cuts.length === 1 ? '' : 's'} cut`;
    case 'heal':
      return `${at}  network healed`;
    case 'link':
      return `${at}  link ${e.from}→${e.to} changed ${JSON.stringify(e.config)}`;
    case 'request':
      return `${at}  ${e.process} → node ${e.node}: ${shortJson(e.request)}`;
    case 'reply':
      return `${at}  node ${e.node} replies to ${e.requestId}: ${shortJson(e.response)}`;
    case 'invoke':
      return `${at}  ${e.process} invokes ${e.f} ${shortJson(e.input)}`;
    case 'complete':
      return `${at}  ${e.process} completes (${e.outcome}) ${shortJson(e.output)}`;
    case 'note':
      return `${at}  ${e.text}`;
    default:
      return `${at}  ${e.ev}`;
  }
}

function dropReason(reason: string): string {
  return reason === 'manual' ? 'by you' : reason;
}

function shortJson(v: unknown): string {
  const text = JSON.stringify(v) ?? '';
  return text.length > 70 ? `${text.slice(0, 67)}...` : text;
}
