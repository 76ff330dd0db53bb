// The quorum store view's panels as plain data: the ring and the selected key's preference list and
// copies, hints parked, the last request's fan-out against W or R, the history with each read
// stale or fresh, the dkv checkers' verdicts (recomputed only on change), and the story.
import { positionOf } from '../../../src/ring/hash.js';
import type { NodeId } from '../../../src/sim/index.js';
import type { ReplicaCheckResult } from '../../../src/check/dkv/index.js';
import { type QuorumOutcome, type QuorumStage, readVerdicts, type ReadVerdict, responseLabel, stateVvLabel, type TrackedRequest, versionsLabel } from '../../../src/quorum/scenarios/index.js';
import type { TableCell, TableContent, TableRow, Tone } from './types.js';

/** Rows shown of the newest history and story entries. */
const HISTORY_ROWS = 12;
const STORY_ROWS = 14;

/** "demo/x" → "x": the panels name keys of the demo bucket by their own name. */
export function shortKey(storeKey: string): string {
  const slash = storeKey.indexOf('/');
  return slash < 0 ? storeKey : storeKey.slice(slash + 1);
}

/** A node's place in the key's preference list: "home 1".."home N", "stand-in 1".., or null. */
export function placeOf(stage: QuorumStage, storeKey: string, id: NodeId): { readonly label: string; readonly short: string; readonly home: boolean } | null {
  const at = stage.preferenceList(storeKey).indexOf(id);
  if (at < 0) return null;
  const n = stage.config.replicas;
  return at < n ? { label: `home ${at + 1}`, short: `H${at + 1}`, home: true } : { label: `stand-in ${at - n + 1}`, short: `S${at - n + 1}`, home: false };
}

/**
 * The checkers' results over a stage, recomputed only when the history grew or a node persisted
 * something (both cost time proportional to the history, and frames ask for them every time).
 */
export class QuorumReadings {
  private checksAt = '';
  private checksValue: ReplicaCheckResult | undefined;
  private verdictsAt = -1;
  private verdictsValue: ReadVerdict[] = [];

  constructor(readonly stage: QuorumStage) {}

  checks(): ReplicaCheckResult {
    const at = `${this.stage.ops.length} ${this.stage.tracker.persists}`;
    if (this.checksValue === undefined || at !== this.checksAt) [this.checksAt, this.checksValue] = [at, this.stage.checks()];
    return this.checksValue;
  }

  verdicts(): readonly ReadVerdict[] {
    if (this.verdictsAt !== this.stage.ops.length) [this.verdictsAt, this.verdictsValue] = [this.stage.ops.length, readVerdicts(this.stage.ops)];
    return this.verdictsValue;
  }
}

const dim = (text: string): TableCell => ({ text, tone: 'dim' });
const toned = (text: string, tone: Tone | undefined): TableCell => (tone === undefined ? { text } : { text, tone });

// ---------------------------------------------------------------- the ring

/** One row per node: the partitions it owns (primary), how many it is a home replica of, its keys, its place for the selected key. */
export function ringTable(stage: QuorumStage): TableContent {
  const ring = stage.ring;
  const key = stage.focusKey;
  const owned = new Map<NodeId, number[]>();
  const replicaOf = new Map<NodeId, number>();
  for (let p = 0; p < ring.partitionCount; p++) {
    const owner = ring.ownerOfPartition(p);
    owned.set(owner, [...(owned.get(owner) ?? []), p]);
    for (const home of ring.preferenceListAt(ring.partitionStart(p), stage.config.replicas)) replicaOf.set(home, (replicaOf.get(home) ?? 0) + 1);
  }
  const partition = stage.partitionOf(key);
  const rows: TableRow[] = stage.nodeIds.map((id) => {
    const place = placeOf(stage, key, id);
    const node = stage.node(id);
    const parts = owned.get(id) ?? [];
    return {
      key: id,
      cells: [
        id,
        { text: parts.map((p) => (p === partition ? `[${p}]` : String(p))).join(' '), title: `partitions whose first replica is ${id}; [ ] marks ${shortKey(key)}'s` },
        String(replicaOf.get(id) ?? 0),
        node === undefined ? dim('down') : String(node.keys().length),
        place === null ? dim('—') : toned(place.label, place.home ? 'good' : undefined),
      ],
      ...(stage.isUp(id) ? {} : { tone: 'dim' as const }),
    };
  });
  const list = stage.preferenceList(key);
  const n = stage.config.replicas;
  const position = positionOf(key).toString(16).padStart(8, '0');
  return {
    kind: 'table',
    columns: ['node', 'partitions owned', 'replica of', 'keys', `${shortKey(key)}`],
    rows,
    caption: { text: `Q = ${ring.partitionCount} equal partitions over ${stage.nodeIds.length} nodes, N = ${n}, ${stage.config.standIns} stand-ins · ${shortKey(key)} at 0x${position}, partition ${partition}: home replicas ${list.slice(0, n).join(', ')}; stand-ins ${list.slice(n).join(', ') || 'none'}` },
  };
}

// ---------------------------------------------------------------- the selected key's copies

/** The selected key on every node of its preference list (and any other node holding a copy or a hint of it). */
export function copiesTable(stage: QuorumStage): TableContent {
  const key = stage.focusKey;
  const list = stage.preferenceList(key);
  const others = stage.nodeIds.filter((id) => !list.includes(id) && (stage.node(id)?.stateOf(key) !== undefined || (stage.node(id)?.hints() ?? []).some((h) => h.key === key)));
  const rows: TableRow[] = [...list, ...others].map((id) => {
    const place = placeOf(stage, key, id);
    const node = stage.node(id);
    if (node === undefined) return { key: id, cells: [id, place?.label ?? '—', { text: 'down', tone: 'bad' }, dim('unknown while down'), dim('—'), dim('—')], tone: 'dim' };
    const state = node.stateOf(key);
    const hinted = node.hints().filter((h) => h.key === key);
    const siblings = state?.kind === 'dvv' ? state.siblings.length : 0;
    return {
      key: id,
      cells: [
        id,
        place?.label ?? '—',
        { text: 'up', tone: 'good' },
        state === undefined ? dim(place?.home === true ? 'no copy' : '—') : toned(versionsLabel(state), siblings > 1 ? 'warn' : undefined),
        state === undefined ? dim('—') : stateVvLabel(state),
        hinted.length === 0 ? dim('—') : { text: hinted.map((h) => `for ${h.target}: ${versionsLabel(h.state)}`).join('; '), tone: 'warn' },
      ],
    };
  });
  const homes = stage.homesOf(key);
  const agree = stage.keyConverged(key);
  const copies = homes.map((h) => stage.node(h)?.stateOf(key));
  const most = Math.max(0, ...copies.map((s) => (s?.kind === 'dvv' ? s.siblings.length : 0)));
  const caption: TableCell = agree
    ? { text: `${shortKey(key)}: the home replicas agree${most > 1 ? ` · ${most} siblings: a read returns all, a write with its context resolves them` : ''}`, tone: most > 1 ? 'warn' : 'good' }
    : { text: `${shortKey(key)}: the home replicas differ (or one is down): read repair, hints or anti-entropy will bring them together`, tone: 'warn' };
  return { kind: 'table', columns: ['node', 'place', 'state', 'siblings (value@dot)', 'version vector', 'hint kept'], rows, caption };
}

// ---------------------------------------------------------------- hints

export function hintsTable(stage: QuorumStage): TableContent {
  const rows: TableRow[] = [];
  for (const holder of stage.nodeIds) {
    const node = stage.node(holder);
    if (node === undefined) continue;
    for (const h of node.hints()) {
      const up = node.isUp(h.target);
      rows.push({
        key: `${holder}-${h.target}-${h.key}`,
        cells: [holder, h.target, shortKey(h.key), versionsLabel(h.state), toned(up ? 'up: offering it' : 'down: waiting', up ? 'good' : 'warn')],
      });
    }
  }
  const all = stage.tracker.hints;
  const delivered = all.filter((h) => h.deliveredMs !== null).length;
  const expired = all.filter((h) => h.expiredMs !== null).length;
  return {
    kind: 'table',
    columns: ['holder', 'for', 'key', 'write kept', 'target, as the holder sees it'],
    rows,
    empty: 'No hint parked.',
    caption: { text: `${all.length} hint(s) parked so far, ${delivered} delivered${expired > 0 ? `, ${expired} expired` : ''}; a holder offers its hint every ${stage.config.hintRetryIntervalMs} ms while it believes the target up`, tone: 'dim' },
  };
}

// ---------------------------------------------------------------- the last request's fan-out

/** The request shown: the newest one (a scenario's, or one sent from the page). */
export function lastRequest(stage: QuorumStage): TrackedRequest | undefined {
  return stage.tracker.requests[stage.tracker.requests.length - 1];
}

export function requestTable(stage: QuorumStage): TableContent {
  const rec = lastRequest(stage);
  const columns = ['node', 'role', 'asked', 'answered', 'counted', 'answer', 'repaired'];
  if (rec === undefined) return { kind: 'table', columns, rows: [], empty: 'No request yet: pick a scenario, or write or read from the Clients panel.' };
  const write = rec.op !== 'get';
  const rows: TableRow[] = rec.legs.map((l) => {
    const role = l.self ? 'coordinator (own copy)' : l.standsInFor !== null ? `stand-in for ${l.standsInFor} (hint)` : placeOf(stage, rec.key, l.node)?.home === true ? 'home replica' : 'replica';
    const answered = l.answeredMs === null ? dim('—') : { text: `${l.answeredMs} ms` };
    const counted: TableCell = l.answeredMs === null ? dim('no') : l.counted ? { text: `yes (${write ? 'W' : 'R'})`, tone: 'good' } : dim('late');
    const answer = write ? (l.answeredMs === null ? dim('—') : { text: l.self ? 'written' : 'stored' }) : l.values === null ? dim('—') : { text: l.values.length === 0 ? 'nothing' : l.values.join(' | ') };
    return { key: l.node, cells: [l.node, role, `${l.askedMs} ms`, answered, counted, answer, l.repairedMs === null ? dim('—') : { text: `${l.repairedMs} ms`, tone: 'warn' }] };
  });
  const counted = rec.legs.filter((l) => l.counted).length;
  const what = rec.op === 'get' ? `${rec.client} reads ${shortKey(rec.key)}` : `${rec.client} ${rec.op === 'delete' ? 'deletes' : 'writes'} ${shortKey(rec.key)}${rec.value === null ? '' : ` = ${rec.value}`}`;
  const route = rec.forwardedTo !== null ? `via ${rec.via}, forwarded to ${rec.forwardedTo}` : `via ${rec.via}`;
  const result = rec.endMs === null ? (rec.decidedMs === null ? 'waiting' : 'answered, on its way to the client') : responseLabel(rec.response);
  const ok = rec.response?.ok === true;
  const hints = rec.hints.length === 0 ? '' : ` · hints: ${rec.hints.map((h) => `${h.holder} for ${h.target}`).join(', ')}`;
  return {
    kind: 'table',
    columns,
    rows,
    caption: toned(`#${rec.index + 1} ${what} (${route}) · ${write ? 'W' : 'R'} = ${rec.needed}: ${counted} counted · ${result}${hints}`, rec.endMs === null ? undefined : ok ? 'good' : 'warn'),
  };
}

// ---------------------------------------------------------------- history

export function historyTable(readings: QuorumReadings): TableContent {
  const stage = readings.stage;
  const verdicts = new Map(readings.verdicts().map((v) => [v.index, v]));
  const shown = stage.ops.length - Math.min(stage.ops.length, HISTORY_ROWS);
  const rows: TableRow[] = stage.ops.slice(shown).map((op, k) => {
    const i = shown + k;
    const when = `${op.startMs}–${op.endMs} ms`;
    if (op.kind === 'write') {
      const result = op.outcome === 'ok' ? (op.dot === null ? 'ok' : `ok, dot ${op.dot.actor}:${op.dot.counter}`) : op.outcome;
      return { key: String(i), cells: [String(i + 1), op.client, op.value === null ? `delete ${shortKey(op.key)}` : `put ${shortKey(op.key)} = ${op.value}`, when, toned(result, op.outcome === 'ok' ? undefined : 'warn'), dim('—')] };
    }
    const v = verdicts.get(i);
    const read = op.outcome === 'ok' ? (op.values.length === 0 ? 'not found' : op.values.join(' | ')) : op.outcome;
    const mark: TableCell = v === undefined || v.verdict === 'failed' ? dim('—') : v.verdict === 'stale' ? { text: `stale: missed ${v.missed.join(', ')}`, tone: 'bad' } : { text: 'fresh', tone: 'good' };
    return { key: String(i), cells: [String(i + 1), op.client, `get ${shortKey(op.key)}`, when, read, mark] };
  });
  const all = [...verdicts.values()];
  const stale = all.filter((v) => v.verdict === 'stale').length;
  const fresh = all.filter((v) => v.verdict === 'fresh').length;
  return {
    kind: 'table',
    columns: ['#', 'client', 'operation', 'time', 'result', 'read'],
    rows,
    empty: 'No operation yet.',
    caption: { text: `${stale} stale, ${fresh} fresh read(s): stale = an acknowledged write of the key ended before the read began and the read's context does not cover its dot`, tone: stale > 0 ? 'warn' : 'dim' },
  };
}

// ---------------------------------------------------------------- verdicts

export function verdictTable(readings: QuorumReadings): TableContent {
  const stage = readings.stage;
  const checks = readings.checks();
  const settled = stage.converged() && stage.inFlight === 0;
  // durability and convergence are eventual: before the store settles, a shortfall is only pending
  const eventual = (check: 'durability' | 'convergence', what: string, ok: string): TableCell[] => {
    const count = checks.counts[check];
    if (count === 0) return [{ text: 'ok', tone: 'good' }, { text: ok }];
    if (!settled) return [{ text: 'pending', tone: 'warn' }, { text: `${count} ${what} now; hints, read repair or anti-entropy may still bring them` }];
    const first = checks.violations.find((v) => v.check === check);
    return [{ text: 'violation', tone: 'bad' }, { text: first === undefined ? `${count} ${what}` : `${first.key}: ${first.message}` }];
  };
  const verdicts = readings.verdicts();
  const stale = verdicts.filter((v) => v.verdict === 'stale').length;
  const hints = stage.hintCount();
  const check = (text: string, title: string): TableCell => ({ text, title });
  const rows: TableRow[] = [
    { key: 'durability', cells: [check('durability', 'every acknowledged write is on every home replica, or was superseded by a write whose client had seen it'), ...eventual('durability', 'acknowledged write(s) missing a copy', `${checks.ackedWrites} acknowledged write(s), each on every home replica`)] },
    { key: 'convergence', cells: [check('convergence', 'each key’s home replicas hold the same state (an absent copy equals one of nothing but tombstones)'), ...eventual('convergence', 'key(s) whose home replicas differ', `${checks.keys} key(s), home replicas identical`)] },
    { key: 'unique-dots', cells: [check('unique dots', 'no dot names two different versions anywhere'), checks.counts.uniqueDots === 0 ? { text: 'ok', tone: 'good' } : { text: 'violation', tone: 'bad' }, checks.counts.uniqueDots === 0 ? 'every dot names one version' : (checks.violations.find((v) => v.check === 'unique-dots')?.message ?? '')] },
    { key: 'underreplicated', cells: [check('held by W', 'when a write is acknowledged, at least W nodes hold it (as a copy or a hint)'), stage.underReplicated.length === 0 ? { text: 'ok', tone: 'good' } : { text: 'violation', tone: 'bad' }, stage.underReplicated[0] ?? 'each acknowledged write on at least W nodes when answered'] },
    { key: 'stale', cells: [check('stale reads', 'allowed: the price of R + W ≤ N, or of sloppy quorum'), { text: String(stale), tone: stale > 0 ? 'warn' : 'dim' }, `of ${verdicts.length} read(s)`] },
    { key: 'hints', cells: [check('hints waiting', 'writes kept for a home replica, not delivered yet'), { text: String(hints), tone: hints > 0 ? 'warn' : 'dim' }, settled ? 'the store has settled' : 'not settled yet'] },
  ];
  return { kind: 'table', columns: ['check', 'verdict', 'detail'], rows, caption: { text: 'checkReplicas (src/check/dkv) over the history and the copies of the nodes that are up, recomputed live; durability and convergence are judged once the store has settled', tone: 'dim' } };
}

// ---------------------------------------------------------------- the story

export function storyTable(stage: QuorumStage): TableContent {
  const story = stage.tracker.story;
  const shown = story.slice(-STORY_ROWS);
  const first = stage.tracker.storyCount - shown.length;
  const rows: TableRow[] = shown.map((l, i) => ({ key: String(first + i), cells: [`${l.atMs} ms`, l.who, toned(l.text, l.tone)] }));
  return { kind: 'table', columns: ['time', 'who', 'what happened'], rows, empty: 'Nothing yet: pick a scenario, or write or read from the Clients panel.' };
}

/** A finished scenario's outcome in one line (the caption's last words). */
export function outcomeLine(o: QuorumOutcome): string {
  const parts = [`${o.writesOk} write(s) ok${o.writesRefused > 0 ? `, ${o.writesRefused} refused` : ''}`];
  if (o.readsOk > 0) parts.push(`reads: ${o.staleReads} stale, ${o.freshReads} fresh${o.mostSiblings > 1 ? `, up to ${o.mostSiblings} siblings` : ''}`);
  if (o.readRepairs > 0) parts.push(`read repair fixed ${o.readRepairs} copy(ies)`);
  if (o.antiEntropyRepairs > 0) parts.push(`anti-entropy fixed ${o.antiEntropyRepairs} copy(ies)`);
  if (o.hintsParked > 0) parts.push(`hints: ${o.hintsParked} parked, ${o.hintsDelivered} delivered`);
  parts.push(o.converged ? 'replicas converged' : 'replicas not converged yet');
  parts.push(o.durability === 0 && o.convergence === 0 && o.uniqueDots === 0 ? 'checkers: ok' : `checkers: ${o.durability} durability, ${o.convergence} convergence, ${o.uniqueDots} dot violation(s)`);
  return `${parts.join('; ')}.`;
}
