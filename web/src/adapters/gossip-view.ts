// The gossip view's panels as plain data: one member's view of the group (its member list with
// states and incarnations, its health multiplier, its document), the rumour's spread round by
// round against log N, every member's CRDT document (those that differ from the majority's
// first), the probes that went indirect, the traffic by message type, and the story.
import type { NodeId, Simulation } from '../../../src/sim/index.js';
import { docText, type GossipStage, type ProbeRecord } from '../../../src/gossip/scenarios/index.js';
import type { MemberRecord } from '../../../src/gossip/members.js';
import type { TableCell, TableContent, TableRow, Tone } from './types.js';

/** Rows shown at most of the member list, the documents, the probes and the story. */
const VIEW_ROWS = 24;
const DOC_ROWS = 24;
/** Rows of documents shown when they all agree (the rest say the same). */
const DOC_ROWS_AGREEING = 8;
const PROBE_ROWS = 8;
const STORY_ROWS = 14;
const ROUND_ROWS = 30;

const dim = (text: string): TableCell => ({ text, tone: 'dim' });
const toned = (text: string, tone: Tone | undefined): TableCell => (tone === undefined ? { text } : { text, tone });

const STATE_TONE: Record<MemberRecord['state'], Tone | undefined> = { alive: 'good', suspect: 'warn', dead: 'bad', left: 'dim' };
const STATE_ORDER: Record<MemberRecord['state'], number> = { suspect: 0, dead: 1, left: 2, alive: 3 };

const byId = (a: string, b: string): number => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);

// ---------------------------------------------------------------- a member's view

/** The observer's member list: itself, then suspect, dead and left members, then the alive ones (at most VIEW_ROWS rows). */
export function viewTable(stage: GossipStage, observer: NodeId | undefined): TableContent {
  const columns = ['member', 'state', 'incarnation', 'meta', 'since', 'note'];
  const node = observer === undefined ? undefined : stage.node(observer);
  const member = observer === undefined ? undefined : stage.member(observer);
  if (observer === undefined || node === undefined || member === undefined) return { kind: 'table', columns, rows: [], empty: 'No member is up to show its view.' };
  const records = [...node.membership.table.all()];
  records.sort((a, b) => (a.id === observer ? -1 : b.id === observer ? 1 : STATE_ORDER[a.state] - STATE_ORDER[b.state] || byId(a.id, b.id)));
  const rows: TableRow[] = records.slice(0, VIEW_ROWS).map((r) => {
    const self = r.id === observer;
    return {
      key: r.id,
      cells: [
        self ? `${r.id} (itself)` : r.id,
        toned(r.state, STATE_TONE[r.state]),
        String(r.incarnation),
        r.meta === '' ? dim('—') : r.meta,
        dim(`${r.changedAtMs} ms`),
        self ? dim('—') : noteFor(stage, observer, r),
      ],
      ...(stage.isUp(r.id) ? {} : { tone: 'dim' as const }),
    };
  });
  const hidden = records.length - rows.length;
  if (hidden > 0) rows.push({ key: 'more', cells: [dim(`… ${hidden} more`), dim('alive'), '', '', '', dim(`the list shows the first ${VIEW_ROWS}: itself, then members not alive, then alive ones by id`)], tone: 'dim' });
  const counts = { alive: 0, suspect: 0, dead: 0, left: 0 };
  for (const r of records) counts[r.state]++;
  const health = node.health;
  const scale = health + 1;
  const caption = `${observer}'s view: ${records.length} members (${counts.alive} alive, ${counts.suspect} suspect, ${counts.dead} dead, ${counts.left} left) · incarnation ${node.incarnation} · health ${health} (probes every ${scale * stage.config.probeIntervalMs} ms, ack timeout ${scale * stage.config.probeTimeoutMs} ms) · document v${member.docVersion()}: ${docText(member.read())}`;
  return { kind: 'table', columns, rows, caption: toned(caption, health > 0 || counts.suspect > 0 ? 'warn' : undefined) };
}

function noteFor(stage: GossipStage, observer: NodeId, r: MemberRecord): string | TableCell {
  const actual = stage.isUp(r.id) ? (stage.departed.has(r.id) ? 'has left' : 'up') : 'down';
  if (r.state === 'suspect') {
    const s = stage.node(observer)?.membership.suspicion(r.id);
    if (s === undefined) return toned(`suspected by ${r.by ?? '?'}`, 'warn');
    return toned(`suspected by ${r.by ?? '?'} · ${s.confirmations} confirmation(s) · dead at ${Math.round(s.deadlineMs())} ms (${observer}'s clock) unless refuted · it is ${actual}`, 'warn');
  }
  if (r.state === 'dead') return toned(`declared by ${r.by ?? '?'} (it is ${actual})`, actual === 'up' ? 'bad' : 'dim');
  if (actual !== 'up') return toned(`it is ${actual}: not noticed yet`, 'warn');
  return '';
}

// ---------------------------------------------------------------- the epidemic

export function epidemicTable(stage: GossipStage): TableContent {
  const columns = ['round', 'at', 'informed', 'new', 'share'];
  const r = stage.spread();
  if (r === undefined) return { kind: 'table', columns, rows: [], empty: 'No update yet: pick an epidemic scenario, or press “Change metadata” in the Clients panel.' };
  const rows: TableRow[] = [];
  let before = 0;
  for (const p of r.perRound) {
    const share = r.members === 0 ? 0 : p.informed / r.members;
    const bar = '█'.repeat(Math.round(share * 20)).padEnd(20, '·');
    rows.push({ key: String(p.round), cells: [String(p.round), `${p.atMs} ms`, `${p.informed}/${r.members}`, p.round === 0 ? dim('origin') : `+${p.informed - before}`, { text: bar, title: `${Math.round(share * 100)}%` }] });
    before = p.informed;
  }
  const shown = rows.slice(-ROUND_ROWS);
  const via = [...r.via].sort((a, b) => b[1] - a[1]).map(([type, k]) => `${type} ${k}`).join(', ');
  const rounds = r.rounds === null ? `${r.perRound.length - 1} so far` : String(r.rounds);
  const caption = `${r.rumour.origin}'s update ${JSON.stringify(r.rumour.meta)} (incarnation ${r.rumour.incarnation}): ${r.informed}/${r.members} informed · rounds: ${rounds} · log₂ N = ${r.log2} · push gossip with fan-out ${stage.config.gossipNodes} expects ≈ ${r.expected.toFixed(1)} · learned from: ${via}`;
  return { kind: 'table', columns, rows: shown, caption: toned(caption, r.rounds === null ? 'warn' : 'good') };
}

/** The rounds counter in one line (the caption's first words), for the ring's status. */
export function roundsLine(stage: GossipStage): string | null {
  const r = stage.spread();
  if (r === undefined) return null;
  return `${r.informed}/${r.members} have ${r.rumour.origin}'s update · rounds: ${r.rounds ?? `${r.perRound.length - 1} so far`} · log₂ N = ${r.log2}`;
}

// ---------------------------------------------------------------- documents

export function docsTable(stage: GossipStage, observer: NodeId | undefined): TableContent {
  const columns = ['member', 'version', 'document', 'vs the majority'];
  const majority = stage.majorityDocument();
  const docs = stage.documents();
  if (docs.length === 0 || majority === undefined) return { kind: 'table', columns, rows: [], empty: 'No member is up.' };
  const agree = (c: string): boolean => c === majority.canonical;
  const ordered = [...docs].sort((a, b) => Number(agree(a.canonical)) - Number(agree(b.canonical)) || byId(a.node, b.node));
  const rows: TableRow[] = ordered.slice(0, majority.holders === majority.members ? DOC_ROWS_AGREEING : DOC_ROWS).map((d) => ({
    key: d.node,
    cells: [d.node === observer ? `${d.node} (shown)` : d.node, `v${d.version}`, docText(d.entries), agree(d.canonical) ? { text: 'same', tone: 'good' } : { text: 'differs', tone: 'warn' }],
  }));
  const hidden = docs.length - rows.length;
  if (hidden > 0) rows.push({ key: 'more', cells: [dim(`… ${hidden} more`), '', dim('the majority’s document'), dim('same')], tone: 'dim' });
  const down = stage.nodeIds.length - docs.length;
  const downText = down > 0 ? ` (${down} member(s) down or gone: not counted)` : '';
  const example = docs.find((d) => agree(d.canonical));
  if (majority.holders === majority.members) {
    const problems = stage.docProblems();
    if (problems.length > 0) return { kind: 'table', columns, rows, caption: { text: `documents agree, but the convergence checker objects: ${problems[0]?.message ?? ''}`, tone: 'bad' } };
    return { kind: 'table', columns, rows, caption: { text: `documents agree: all ${majority.members} live members hold ${docText(example?.entries ?? [])}${downText}`, tone: 'good' } };
  }
  return { kind: 'table', columns, rows, caption: { text: `documents differ: ${majority.holders} of ${majority.members} live members hold the majority’s, ${majority.members - majority.holders} differ${downText}`, tone: 'warn' } };
}

// ---------------------------------------------------------------- probes

function probeOutcome(p: ProbeRecord): TableCell {
  if (p.ackedMs !== null) return { text: p.ackedVia === p.target ? 'late ack' : `ack via ${p.ackedVia ?? '?'}`, tone: 'good' };
  if (p.endedMs !== null) return { text: 'none: suspect', tone: 'bad' };
  return { text: 'waiting', tone: 'warn' };
}

export function probesTable(stage: GossipStage, observer: NodeId | undefined): TableContent {
  const columns = ['probe', 'ping-req via', 'nacks', 'outcome'];
  const escalated = stage.tracker.escalations.slice(-PROBE_ROWS).reverse();
  const rows: TableRow[] = escalated.map((p) => ({
    key: `${p.prober}-${p.seq}-${p.startedMs}`,
    cells: [
      { text: `${p.prober} → ${p.target}`, title: `${p.prober} pinged ${p.target} at ${p.startedMs} ms` },
      { text: p.relays.join(', '), title: `ping-req sent at ${p.escalatedMs ?? '?'} ms` },
      p.nacks.length === 0 ? dim('none') : p.nacks.join(', '),
      probeOutcome(p),
    ],
  }));
  const current = observer === undefined ? undefined : stage.tracker.currentProbe(observer);
  let caption: TableCell;
  if (current === undefined || observer === undefined) caption = dim('No probe yet.');
  else {
    const ack = current.ackedMs === null ? (current.escalatedMs === null ? 'no ack yet' : `no ack in ${stage.config.probeTimeoutMs} ms: ping-req via ${current.relays.join(', ')}${current.nacks.length > 0 ? `, nack from ${current.nacks.join(', ')}` : ''}`) : current.ackedVia === current.target ? `ack after ${current.ackedMs - current.startedMs} ms` : `ack via ${current.ackedVia ?? '?'} after ${current.ackedMs - current.startedMs} ms`;
    caption = toned(`${observer} probes ${current.target} (ping at ${current.startedMs} ms): ${ack}`, current.ackedMs === null && current.escalatedMs !== null ? 'warn' : undefined);
  }
  return { kind: 'table', columns, rows, caption, empty: 'No probe has gone indirect yet: every direct ping was acked in time.' };
}

// ---------------------------------------------------------------- traffic

const TYPE_ORDER = ['ping', 'ack', 'ping-req', 'nack', 'gossip', 'sync', 'sync-reply', 'crdt-delta', 'crdt-sync'];

export function trafficTable(sim: Pick<Simulation<never, unknown, unknown, unknown>, 'stats'>): TableContent {
  const rows: TableRow[] = [];
  let flight = 0;
  const types = [...sim.stats.byType.keys()].sort((a, b) => (TYPE_ORDER.indexOf(a) + 1 || 99) - (TYPE_ORDER.indexOf(b) + 1 || 99));
  for (const type of types) {
    const c = sim.stats.byType.get(type);
    if (c === undefined) continue;
    const inFlight = Math.max(0, c.sent + c.duplicated - c.delivered - c.dropped);
    flight += inFlight;
    rows.push({ key: type, cells: [type, String(inFlight), String(c.sent), c.dropped === 0 ? dim('0') : toned(String(c.dropped), 'warn')] });
  }
  const t = sim.stats.total;
  return { kind: 'table', columns: ['type', 'in flight', 'sent', 'dropped'], rows, empty: 'Nothing sent yet.', caption: dim(`${flight} in flight · ${t.sent} sent · ${t.delivered} delivered · ${t.dropped} dropped so far`) };
}

// ---------------------------------------------------------------- the story

export function storyTable(stage: GossipStage): TableContent {
  const story = stage.tracker.story;
  const shown = story.slice(-STORY_ROWS);
  const first = stage.tracker.storyCount - shown.length;
  const rows: TableRow[] = shown.map((l, i) => ({ key: String(first + i), cells: [`${l.atMs} ms`, l.who, toned(l.text, l.tone)] }));
  return { kind: 'table', columns: ['time', 'who', 'what happened'], rows, empty: 'Nothing yet: pick a scenario, or pause, crash or partition members.' };
}
