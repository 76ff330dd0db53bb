// What the commit views show of a simulated commit system (src/txn/sim): each participant's phase
// in the transaction (working, prepared and uncertain, pre-committed, committed, aborted), the
// locks it holds and how long it has been in doubt, each transaction's phases per participant,
// the commit checker's verdicts, the same crash under the three protocols, and a story.
import type { NodeId, TraceEvent } from '../../../src/sim/index.js';
import type { CommitCheckResult } from '../../../src/txn/check.js';
import { EVENT_KEY, parseCommitEvent, type CommitEvent } from '../../../src/txn/events.js';
import { COORDINATOR, type CommitCluster } from '../../../src/txn/sim/cluster.js';
import { COMMIT_TOURS, runCommitTour, type CommitTourOutcome } from '../../../src/txn/scenarios/tours.js';
import { ThreePcParticipantCore } from '../../../src/txn/three-pc/participant.js';
import type { TableContent, TableRow, Tone } from './types.js';

/** Story lines kept (the panel shows the newest). */
const STORY_LINES = 200;
const STORY_ROWS = 14;
/** Transactions shown in the Phases panel (the newest). */
const PHASE_TXNS = 4;

export type Cluster = CommitCluster<never, unknown>;

/** A participant's phase in one transaction. */
export type Phase = 'idle' | 'working' | 'prepared' | 'precommitted' | 'committed' | 'aborted';

export const PHASE_TEXT: Readonly<Record<Phase, string>> = {
  idle: 'idle',
  working: 'working',
  prepared: 'prepared (uncertain)',
  precommitted: 'pre-committed',
  committed: 'committed',
  aborted: 'aborted',
};

/** One transaction as the durable commit events tell it. */
export interface TxnStory {
  readonly txn: string;
  readonly beganMs: number | undefined;
  readonly participants: readonly NodeId[];
  readonly votes: Map<NodeId, { readonly yes: boolean; readonly atMs: number }>;
  readonly decisions: Map<NodeId, { readonly outcome: 'commit' | 'abort'; readonly atMs: number }>;
  coordinatorDecision: { readonly outcome: 'commit' | 'abort'; readonly atMs: number } | undefined;
}

export interface StoryLine {
  readonly atMs: number;
  readonly who: string;
  readonly text: string;
  readonly tone?: Tone;
}

/** The reading of the cluster at one moment (computed once per moment: every node's drawing asks). */
interface Reading {
  readonly txns: readonly TxnStory[];
  readonly check: CommitCheckResult;
}

export class TxnView {
  readonly story: StoryLine[] = [];
  /** The tour step under way, and how the tour ended. */
  step = '';
  finished: string | undefined;
  private readingAt = '';
  private reading: Reading | undefined;

  constructor(
    readonly cluster: Cluster,
    readonly protocol: string,
  ) {
    cluster.sim.subscribe((e) => this.onTrace(e));
  }

  // ---------------------------------------------------------------- the story

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
      case 'annotate': {
        if (e.key !== EVENT_KEY && !e.key.endsWith(`/${EVENT_KEY}`)) return;
        const ev = parseCommitEvent(e.value, e.node, e.t);
        if (ev !== undefined) this.tellEvent(ev);
        return;
      }
      case 'crash':
        return this.tell(e.node, e.node === COORDINATOR ? 'crashes (the coordinator is down)' : 'crashes', 'bad');
      case 'restart':
        return this.tell(e.node, 'restarts and recovers from its log', 'good');
      case 'partition':
        return this.tell('network', `partition: ${e.cuts.length} link${e.cuts.length === 1 ? '' : 's'} cut`, 'warn');
      case 'heal':
        return this.tell('network', 'healed');
      case 'drop':
        if (e.reason === 'manual') this.tell('network', `a ${e.type} ${e.from} → ${e.to} is dropped`, 'warn');
        return;
      case 'invoke': {
        const input = e.input as { from?: string; to?: string; amount?: number } | null;
        const text = input === null || typeof input !== 'object' ? e.f : `transfer ${String(input.amount)} from ${String(input.from)} to ${String(input.to)}`;
        return this.tell(e.process, `asks the coordinator: ${text}`);
      }
      case 'complete':
        return this.tell(e.process, `is told: ${e.outcome === 'ok' ? 'committed' : e.outcome === 'unknown' ? 'no answer (unknown)' : `not done (${JSON.stringify(e.output)})`}`, e.outcome === 'ok' ? 'good' : 'warn');
      default:
        return;
    }
  }

  private tellEvent(ev: CommitEvent): void {
    if (ev.kind === 'begin') return this.tell(ev.node, `begins ${ev.txn} with ${(ev.participants ?? []).join(', ')}: PREPARE`);
    if (ev.kind === 'yes') return this.tell(ev.node, `votes yes on ${ev.txn}: prepared, holding its locks, uncertain`, 'warn');
    if (ev.kind === 'no') return this.tell(ev.node, `votes no on ${ev.txn}`, 'warn');
    const who = ev.role === 'coordinator' ? 'decides' : 'learns';
    this.tell(ev.node, `${who} ${ev.kind.toUpperCase()} for ${ev.txn}${ev.role === 'participant' ? ', releases its locks' : ''}`, ev.kind === 'commit' ? 'good' : 'dim');
  }

  // ---------------------------------------------------------------- readings

  private read(): Reading {
    const c = this.cluster;
    const key = `${c.nowMs}:${c.sim.stats.eventsProcessed}`;
    if (this.reading === undefined || key !== this.readingAt) {
      this.readingAt = key;
      const events = c.commitEvents();
      this.reading = { txns: foldEvents(events), check: c.checkCommit() };
    }
    return this.reading;
  }

  txns(): readonly TxnStory[] {
    return this.read().txns;
  }

  check(): CommitCheckResult {
    return this.read().check;
  }

  /** The newest transaction `node` takes part in. */
  latestOf(node: NodeId): TxnStory | undefined {
    const all = this.txns();
    for (let i = all.length - 1; i >= 0; i--) {
      const t = all[i] as TxnStory;
      if (t.participants.includes(node) || t.votes.has(node) || t.decisions.has(node)) return t;
    }
    return undefined;
  }

  /** A participant's phase in `t` (its latest transaction when absent). */
  phase(node: NodeId, t: TxnStory | undefined = this.latestOf(node)): Phase {
    if (t === undefined) return 'idle';
    const d = t.decisions.get(node);
    if (d !== undefined) return d.outcome === 'commit' ? 'committed' : 'aborted';
    const core = this.cluster.core(node);
    if (core instanceof ThreePcParticipantCore && core.stateOf(t.txn) === 'precommitted') return 'precommitted';
    const v = t.votes.get(node);
    if (v !== undefined) return v.yes ? 'prepared' : 'aborted';
    return 'working';
  }

  /** How long `node` has been (or was) in doubt on `t`, in ms (null: never prepared). */
  inDoubtMs(node: NodeId, t: TxnStory | undefined): number | null {
    if (t === undefined) return null;
    const spans = this.check().blocking.filter((b) => b.node === node && b.txn === t.txn);
    return spans.length === 0 ? null : spans.reduce((s, b) => s + b.durationMs, 0);
  }

  /** Whether `node` is in doubt now (prepared or pre-committed, undecided). */
  inDoubtNow(node: NodeId): boolean {
    return this.check().blocking.some((b) => b.node === node && b.toMs === undefined);
  }
}

/** Every transaction in the order it began, from the commit events. */
export function foldEvents(events: readonly CommitEvent[]): TxnStory[] {
  const byTxn = new Map<string, TxnStory>();
  const get = (txn: string): TxnStory => {
    let t = byTxn.get(txn);
    if (t === undefined) byTxn.set(txn, (t = { txn, beganMs: undefined, participants: [], votes: new Map(), decisions: new Map(), coordinatorDecision: undefined }));
    return t;
  };
  for (const e of events) {
    const t = get(e.txn);
    if (e.kind === 'begin') {
      if (t.beganMs === undefined) byTxn.set(e.txn, { ...t, beganMs: e.atMs, participants: e.participants ?? [] });
    } else if (e.kind === 'yes' || e.kind === 'no') {
      if (!t.votes.has(e.node)) t.votes.set(e.node, { yes: e.kind === 'yes', atMs: e.atMs });
    } else if (e.role === 'coordinator') {
      t.coordinatorDecision ??= { outcome: e.kind, atMs: e.atMs };
    } else if (!t.decisions.has(e.node)) t.decisions.set(e.node, { outcome: e.kind, atMs: e.atMs });
  }
  return [...byTxn.values()].sort((a, b) => (a.beganMs ?? 0) - (b.beganMs ?? 0));
}

const PHASE_TONE: Readonly<Record<Phase, Tone | undefined>> = { idle: 'dim', working: undefined, prepared: 'warn', precommitted: 'warn', committed: 'good', aborted: 'dim' };

// ---------------------------------------------------------------- tables

/** Each participant's phase in its newest transaction, its locks, its time in doubt and its balances. */
export function participantsTable(v: TxnView): TableContent {
  const c = v.cluster;
  const rows: TableRow[] = c.participants.map((id) => {
    const t = v.latestOf(id);
    const phase = v.phase(id, t);
    const p = c.participant(id);
    const up = p !== undefined;
    const doubt = v.inDoubtMs(id, t);
    const inDoubt = v.inDoubtNow(id);
    const balances = up ? c.accounts.map((a) => `${a}=${p.balance(a) ?? '?'}`).join(' ') : '—';
    return {
      key: id,
      cells: [
        id,
        { text: `${PHASE_TEXT[phase]}${up ? '' : ' (down)'}`, ...(PHASE_TONE[phase] === undefined ? {} : { tone: PHASE_TONE[phase] }) },
        up ? { text: String(p.lockCount()), ...(p.lockCount() > 0 ? { tone: 'warn' as const } : {}) } : { text: '?', tone: 'dim' },
        doubt === null ? '—' : { text: `${doubt} ms${inDoubt ? ', still' : ''}`, ...(inDoubt ? { tone: 'bad' as const } : {}) },
        t?.txn ?? '—',
        balances,
      ],
      ...(up ? {} : { tone: 'dim' as const }),
    };
  });
  const open = c.coordinatorOpen();
  const coordinator = open === undefined ? 'coordinator down' : `coordinator up, ${open} open`;
  const doubting = c.participants.filter((id) => v.inDoubtNow(id));
  const locks = c.participants.reduce((s, id) => s + (c.participant(id)?.lockCount() ?? 0), 0);
  const caption = doubting.length > 0 ? `${coordinator} · ${doubting.length} in doubt, holding ${locks} lock${locks === 1 ? '' : 's'}` : `${coordinator} · none in doubt · ${locks} lock${locks === 1 ? '' : 's'} held`;
  return { kind: 'table', columns: ['node', 'phase', 'locks', 'in doubt', 'txn', 'balances'], rows, caption: { text: caption, ...(doubting.length > 0 && open === undefined ? { tone: 'bad' as const } : {}) } };
}

/** The newest transactions, one row per participant: when it voted, when it decided, how long it was in doubt. */
export function phasesTable(v: TxnView): TableContent {
  const txns = v.txns().slice(-PHASE_TXNS);
  const rows: TableRow[] = [];
  for (const t of txns) {
    const coord = t.coordinatorDecision;
    rows.push({ key: `${t.txn}-c`, cells: [t.txn, COORDINATOR, `began ${t.beganMs ?? '?'} ms`, '', coord === undefined ? { text: 'no decision', tone: 'warn' } : `${coord.outcome} at ${coord.atMs} ms`, ''], tone: 'dim' });
    for (const id of t.participants) {
      const vote = t.votes.get(id);
      const d = t.decisions.get(id);
      const phase = v.phase(id, t);
      const doubt = v.inDoubtMs(id, t);
      rows.push({
        key: `${t.txn}-${id}`,
        cells: [
          t.txn,
          id,
          { text: PHASE_TEXT[phase], ...(PHASE_TONE[phase] === undefined ? {} : { tone: PHASE_TONE[phase] }) },
          vote === undefined ? '—' : `${vote.yes ? 'yes' : 'no'} at ${vote.atMs} ms`,
          d === undefined ? '—' : `${d.outcome} at ${d.atMs} ms`,
          doubt === null ? '—' : `${doubt} ms`,
        ],
      });
    }
  }
  return { kind: 'table', columns: ['txn', 'node', 'phase', 'vote', 'decision', 'in doubt'], rows, empty: 'No transaction yet: pick a tour, or press Play and start a transfer.' };
}

/** The commit checker on the history so far, and the money. */
export function verdictTable(v: TxnView): TableContent {
  const k = v.check();
  const c = v.cluster;
  const money = c.totalMoney();
  const word = (ok: boolean): { text: string; tone: Tone } => (ok ? { text: 'ok', tone: 'good' } : { text: 'VIOLATION', tone: 'bad' });
  const first = (kind: 'atomicity' | 'validity'): string => k.violations.find((x) => x.kind === kind)?.message ?? 'holds';
  const atomic = !k.violations.some((x) => x.kind === 'atomicity');
  const valid = !k.violations.some((x) => x.kind === 'validity');
  const rows: TableRow[] = [
    { key: 'atomicity', cells: ['atomicity', word(atomic), first('atomicity')] },
    { key: 'validity', cells: ['validity', word(valid), first('validity')] },
    { key: 'outcomes', cells: ['transactions', String(k.transactions), `${k.committed} committed, ${k.aborted} aborted, ${k.undecided} undecided`] },
    { key: 'blocking', cells: ['longest in doubt', `${k.maxBlockingMs} ms`, `${k.inDoubtAtEnd} participant(s) in doubt now`] },
    { key: 'money', cells: ['money', money === undefined ? { text: '?', tone: 'dim' } : word(money === c.expectedMoney()), money === undefined ? 'a participant is down' : `${money} of ${c.expectedMoney()}`] },
  ];
  return { kind: 'table', columns: ['check', 'verdict', 'detail'], rows };
}

let compared: readonly { readonly name: string; readonly protocol: string; readonly outcome: CommitTourOutcome }[] | undefined;

/** The blocking tour under each protocol, played once (headless, deterministic) for the comparison. */
export function comparison(): readonly { readonly name: string; readonly protocol: string; readonly outcome: CommitTourOutcome }[] {
  compared ??= COMMIT_TOURS.filter((t) => t.crashWhen === undefined && t.secondNeverHears !== true).map((t) => ({ name: t.name, protocol: t.protocol, outcome: runCommitTour(t, { driver: 'drive' }).outcome }));
  return compared;
}

const PROTOCOL_NAMES: Readonly<Record<string, string>> = { '2pc': '2PC', '3pc': '3PC', 'paxos-commit': 'Paxos Commit' };

/** The same crash under 2PC, 3PC and Paxos Commit: what each ends with. */
export function compareTable(protocol: string): TableContent {
  const rows: TableRow[] = comparison().map((r) => ({
    key: r.protocol,
    cells: [
      PROTOCOL_NAMES[r.protocol] ?? r.protocol,
      { text: r.outcome.outcome, tone: r.outcome.outcome === 'commit' ? 'good' : 'dim' },
      { text: `${r.outcome.inDoubtBeforeRestart} / ${r.outcome.locksBeforeRestart}`, ...(r.outcome.inDoubtBeforeRestart > 0 ? { tone: 'bad' as const } : {}) },
      `${r.outcome.maxInDoubtMs} ms`,
      r.outcome.decidedWhileDown ? { text: 'yes', tone: 'good' } : { text: 'no: blocked', tone: 'bad' },
    ],
    ...(r.protocol === protocol ? {} : { tone: 'dim' as const }),
  }));
  return { kind: 'table', columns: ['protocol', 'outcome', 'in doubt / locks at restart', 'longest in doubt', 'decided while down'], rows, caption: { text: 'coordinator crashed after every participant voted yes, down 5 s (seed 11)' } };
}

export function storyTable(v: TxnView): TableContent {
  const shown = v.story.slice(-STORY_ROWS);
  const first = v.story.length - shown.length;
  const rows: TableRow[] = shown.map((l, i) => ({ key: String(first + i), cells: [`${l.atMs} ms`, l.who, { text: l.text, ...(l.tone === undefined ? {} : { tone: l.tone }), title: l.text }] }));
  return { kind: 'table', columns: ['time', 'who', 'what happened'], rows, empty: 'Nothing yet: pick a tour, or press Play and start a transfer.' };
}
