// What the lock adapters show of a simulated lock system (src/lockcore/sim): the lock as the
// service holds it (holder, token, waiters in line, each lease's time left), each client's belief,
// the protected resource (value, highest accepted token, last refused write), the checkers'
// verdicts, and a story: one line per thing that happened, so a scenario is told as it goes.
import { checkLockSafety, type LockSafetyReport } from '../../../src/check/index.js';
import type { JsonValue, NodeId, ProtocolCore, TraceEvent } from '../../../src/sim/index.js';
import { checkInventory, lockKey, lockPrefix, type LockScenario, type LockSystem, type LockSystemMessage, type LockSystemOp, type LockSystemRequest, type LockSystemResponse } from '../../../src/lockcore/sim/index.js';
import { isRecord } from './live.js';
import type { TableCell, TableContent, TableRow, Tone } from './types.js';

type AnyCore = ProtocolCore<LockSystemMessage, LockSystemRequest, LockSystemResponse, LockSystemOp>;
export type Unwrap = (core: AnyCore | undefined) => AnyCore | undefined;

/** Story lines kept (the panel shows the newest). */
const STORY_LINES = 200;
const STORY_ROWS = 14;
/** Lock keys read from the store per view. */
const LINE_LIMIT = 100;

export interface StoryLine {
  readonly atMs: number;
  readonly who: string;
  readonly text: string;
  readonly tone?: Tone;
}

/** The lock as the service holds it now: holder, waiters in line, their tokens and time left. */
export interface ServiceLine {
  readonly source: string;
  readonly entries: readonly { readonly client: string; readonly holds: boolean; readonly token: number | null; readonly leftMs: number | null; readonly where: string }[];
  /** How the line is ordered (for the caption). */
  readonly order: string;
}

/**
 * Follows one LockSystem: reads the service, the clients and the resource for the panels, keeps
 * the checkers' verdicts current (recomputed only when something was recorded), and tells the
 * story from the trace and the recorders.
 */
export class LockView {
  readonly story: StoryLine[] = [];
  private readonly pausedUntil = new Map<NodeId, number>();
  private seenEvents = 0;
  private seenWrites = 0;
  private report: LockSafetyReport | undefined;
  private reportAt = { events: -1, writes: -1 };
  /** The scenario step under way, and how the scenario ended. */
  step = '';
  finished: string | undefined;

  constructor(
    readonly system: LockSystem,
    private readonly unwrap: Unwrap,
    readonly scenario: LockScenario | undefined,
  ) {
    system.sim.subscribe((e) => this.onTrace(e));
  }

  // ---------------------------------------------------------------- the story

  private tell(who: string, text: string, tone?: Tone): void {
    if (this.story.length >= STORY_LINES) this.story.shift();
    this.story.push({ atMs: this.system.nowMs, who, text, ...(tone === undefined ? {} : { tone }) });
  }

  /** A scenario step began. */
  stepBegan(where: string, text: string): void {
    this.step = `${where}: ${text}`;
    this.tell('scenario', `step ${where}: ${text}`, 'dim');
  }

  /** After every core step: what the recorders gained since. */
  catchUp(): void {
    const s = this.system;
    for (; this.seenEvents < s.events.length; this.seenEvents++) {
      const e = s.events[this.seenEvents];
      if (e === undefined) break;
      const token = e.token === null ? '' : ` (token ${e.token})`;
      if (e.by === 'service') {
        if (e.kind === 'acquired') this.tell('service', `grants lock ${e.lock} to ${e.holder}${token}`, 'good');
        else if (e.kind === 'released') this.tell('service', `${e.holder} released lock ${e.lock}`);
        else if (e.kind === 'lost') this.tell('service', `${e.holder}'s lease on ${e.lock} expired: the lock is free for the next one`, 'warn');
      } else if (e.kind === 'acquired') this.tell(e.holder, `learns it holds lock ${e.lock}${token}`);
      else if (e.kind === 'validity-passed') this.tell(e.holder, `its lease has run out by its own clock${this.isPaused(e.holder) ? ', but it is paused and cannot notice' : ''}`, 'warn');
      else if (e.kind === 'lost') this.tell(e.holder, `finds it lost lock ${e.lock}`, 'warn');
    }
    for (; this.seenWrites < s.writes.length; this.seenWrites++) {
      const w = s.writes[this.seenWrites];
      if (w === undefined) break;
      const token = w.token === null ? 'without a token' : `with token ${w.token}`;
      if (w.accepted) this.tell('db', `accepts ${w.holder}'s write of ${w.resource} ${token}`, 'good');
      else this.tell('db', `REFUSES ${w.holder}'s write of ${w.resource} ${token}: a later holder already wrote with a higher one`, 'bad');
    }
  }

  private onTrace(e: TraceEvent): void {
    switch (e.ev) {
      case 'pause':
        this.pausedUntil.set(e.node, e.t + e.ms);
        this.tell(e.node, `is paused for ${e.ms} ms (a stop-the-world pause): it handles nothing until ${e.t + e.ms} ms`, 'warn');
        break;
      case 'crash':
        this.tell(e.node, 'is down (crashed or powered off)', 'bad');
        break;
      case 'clock':
        this.tell(e.node, `its clock jumps to ${e.offsetMs >= 0 ? '+' : ''}${e.offsetMs} ms`, 'warn');
        break;
      case 'partition':
        this.tell('network', `partition: ${e.cuts.length} link${e.cuts.length === 1 ? '' : 's'} cut`, 'warn');
        break;
      case 'heal':
        this.tell('network', 'healed');
        break;
      case 'invoke':
        this.tell(e.process, `starts: ${opText(e.f, e.input)}`);
        break;
      case 'complete':
        this.tell(e.process, `is told: ${e.outcome}${e.output === null ? '' : ` (${JSON.stringify(e.output)})`}`, e.outcome === 'ok' ? undefined : 'warn');
        break;
      default:
        break;
    }
  }

  /** A core sent `msg` (seen through a wrapped spec): what a client asks the database and what it answers. */
  sending(from: NodeId, to: NodeId, msg: { readonly type: string; readonly body?: unknown }): void {
    const type = msg.type;
    const body = msg.body;
    if (!isRecord(body)) return;
    if (type === 'db/dbRequest' && isRecord(body['request'])) {
      const r = body['request'];
      const key = String(r['key']);
      switch (r['op']) {
        case 'read':
          return this.tell(from, `reads ${key}`);
        case 'write':
          return this.tell(from, `writes ${key} = ${String(r['value'])}${r['token'] === null || r['token'] === undefined ? '' : ` with token ${String(r['token'])}`}`);
        case 'casVersion':
          return this.tell(from, `writes ${key} = ${String(r['value'])} if its version is still ${String(r['version'])}`);
        case 'decrementIfPositive':
          return this.tell(from, `decrements ${key} if it is above 0 (one statement)`);
        case 'lockRow':
          return this.tell(from, `locks the row ${key} (SELECT ... FOR UPDATE)`);
        case 'unlockRow':
          return this.tell(from, `unlocks the row ${key}`);
        default:
          return;
      }
    }
    if (type === 'client/dbReply' && isRecord(body['reply'])) {
      const r = body['reply'];
      if (r['ok'] === true) return r['value'] === null || r['value'] === undefined ? undefined : this.tell('db', `answers ${to}: ${String(r['value'])} (version ${String(r['version'])})`);
      return this.tell('db', `refuses ${to}: ${String(r['message'] ?? r['error'])}`, 'warn');
    }
    if (type === 'kv/kvRequest' && this.system.options.buyers === 'version-check' && isRecord(body['request'])) {
      const op = body['request']['op'];
      const inner = isRecord(op) ? op['op'] : undefined;
      if (inner === 'txn') this.tell(from, 'sends its txn: write the stock and the order if the version is unchanged');
      else if (inner === 'get') this.tell(from, 'reads the stock and its version from the KV');
    }
  }

  isPaused(id: NodeId): boolean {
    return (this.pausedUntil.get(id) ?? -1) > this.system.nowMs;
  }

  // ---------------------------------------------------------------- verdicts

  /** The checkers over what was recorded so far (recomputed only when that grew). */
  verdicts(): LockSafetyReport {
    const s = this.system;
    if (this.report === undefined || this.reportAt.events !== s.events.length || this.reportAt.writes !== s.writes.length) {
      this.report = checkLockSafety(s.events, s.writes);
      this.reportAt = { events: s.events.length, writes: s.writes.length };
    }
    return this.report;
  }

  /** The inventory's verdict once every buyer is done (before, a sale under way looks like a lost update). */
  inventory(): { readonly sold: number; readonly left: number | null; readonly verdict: { ok: boolean; message: string } | null } | undefined {
    const inv = this.scenario?.inventory;
    if (inv === undefined) return undefined;
    const raw = inv.store === 'db' ? this.system.dbValue(inv.key) : this.system.kvValue(inv.key);
    const left = typeof raw === 'number' ? raw : null;
    const sold = this.system.purchases();
    const started = this.system.history().ops.length > 0;
    return { sold, left, verdict: started && this.system.idle() ? checkInventory(inv.initial, left, sold) : null };
  }

  // ---------------------------------------------------------------- the service

  /** The lock's line at the service now. */
  serviceLine(): ServiceLine {
    const s = this.system;
    if (s.options.buyers !== undefined) return { source: 'no lock service: the buyers use the database (or the KV) directly', entries: [], order: '' };
    return s.options.backend === 'synod' ? this.synodLine() : this.redisLine();
  }

  private synodLine(): ServiceLine {
    const s = this.system;
    const leader = s.leader();
    let source = leader;
    if (source === undefined) {
      let applied = -1;
      for (const id of s.layout.kv) {
        const a = s.raft(id)?.status().applied ?? -1;
        if (a > applied) [source, applied] = [id, a];
      }
    }
    const store = source === undefined ? undefined : s.kvStore(source);
    if (source === undefined || store === undefined) return { source: 'no Raft node is up', entries: [], order: '' };
    const got = store.query({ op: 'range', prefix: lockPrefix(s.lock), limit: LINE_LIMIT });
    const items = 'items' in got ? [...got.items].sort((a, b) => a.createRevision - b.createRevision) : [];
    const now = s.sim.localNowMs(source);
    const entries = items.map((item, i) => ({
      client: typeof item.value === 'string' ? item.value : JSON.stringify(item.value),
      holds: i === 0,
      token: item.createRevision,
      leftMs: leader === source && item.lease !== undefined ? store.lessor.remainingMs(item.lease, now) : null,
      where: item.key,
    }));
    return { source: `node ${source}${leader === source ? ' (Raft leader; its Lessor counts the leases down)' : ' (no leader now: the node that applied most; no countdown)'} · keys under ${lockPrefix(s.lock)}`, entries, order: 'create revision (= the token)' };
  }

  private redisLine(): ServiceLine {
    const s = this.system;
    const key = lockKey(s.lock);
    const byValue = new Map<string, { nodes: NodeId[]; leftMs: number[] }>();
    for (const id of s.layout.redis) {
      const core = s.spec.part(this.unwrap(s.sim.core(id)), 'redis');
      if (core === undefined) continue;
      for (const e of core.entries()) {
        if (e.key !== key) continue;
        const seen = byValue.get(e.value) ?? { nodes: [], leftMs: [] };
        seen.nodes.push(id);
        if (e.expiresAtMs !== null) seen.leftMs.push(e.expiresAtMs - s.sim.localNowMs(id));
        byValue.set(e.value, seen);
      }
    }
    const quorum = Math.floor(s.layout.redis.length / 2) + 1;
    const entries = [...byValue].map(([value, h]) => ({
      client: `${holderOf(value)}${h.nodes.length < quorum ? ` (on ${h.nodes.length} of ${s.layout.redis.length}: no majority)` : ''}`,
      holds: h.nodes.length >= quorum,
      token: this.tokenOf(value),
      leftMs: h.leftMs.length === 0 ? null : Math.min(...h.leftMs),
      where: h.nodes.join(', '),
    }));
    entries.sort((a, b) => Number(b.holds) - Number(a.holds));
    // no line at a Redis lock: whoever is acquiring retries SET NX until it gets in
    for (const c of s.layout.clients) if (this.phase(c) === 'acquiring') entries.push({ client: c, holds: false, token: null, leftMs: null, where: 'retrying SET NX' });
    return { source: `key ${key} on ${s.layout.redis.join(', ')}${s.layout.redis.length > 1 ? ` (held with a majority: ${quorum})` : ''}; time left by each node's clock (the least shown)`, entries, order: 'none: waiters retry SET NX' };
  }

  /** The token a Redis grant (its value) was given, as its client learned it. */
  private tokenOf(grant: string): number | null {
    for (let i = this.system.events.length - 1; i >= 0; i--) {
      const e = this.system.events[i];
      if (e !== undefined && e.grant === grant && e.token !== null) return e.token;
    }
    return null;
  }

  // ---------------------------------------------------------------- the clients

  /** What each client believes now, from its own reports (the client view of the checkers). */
  belief(client: NodeId): { readonly holds: boolean; readonly token: number | null; readonly expired: boolean } {
    let holds = false;
    let token: number | null = null;
    let expired = false;
    for (const e of this.system.events) {
      if (e.by !== 'client' || e.holder !== client) continue;
      if (e.kind === 'acquired') [holds, token, expired] = [true, e.token, false];
      else if (e.kind === 'validity-passed') expired = holds;
      else [holds, expired] = [false, false];
    }
    return { holds, token, expired };
  }

  phase(client: NodeId): string {
    return this.system.phaseOf(client) ?? (this.system.driver.isBusy(client) ? 'busy' : 'idle');
  }
}

function holderOf(value: string): string {
  const dot = value.indexOf('.');
  return dot < 0 ? value : value.slice(0, dot);
}

function opText(f: string, input: JsonValue): string {
  const o = isRecord(input) ? input : {};
  if (f === 'put') return `lock, work, write ${String(o['key'])} = ${String(o['value'])}, unlock`;
  if (f === 'buy') return `buy one ${String(o['key'])}`;
  if (f === 'get') return `read ${String(o['key'])}`;
  return f;
}

// ---------------------------------------------------------------- panel contents

const ms = (v: number): string => `${Math.max(0, Math.round(v))} ms`;

export function lockTable(v: LockView): TableContent {
  const columns = ['place', 'client', 'token', 'lease left', 'where'];
  const line = v.serviceLine();
  let waiters = 0;
  let holders = 0;
  const rows: TableRow[] = line.entries.map((e) => {
    const left: TableCell = e.leftMs === null ? { text: '—', tone: 'dim' } : { text: ms(e.leftMs), tone: e.leftMs < v.system.ttlMs / 3 ? 'warn' : 'good' };
    const n = e.holds ? ++holders : ++waiters;
    const place = e.holds ? (n === 1 ? 'holder' : `holder-${n}`) : `waiter-${n}`;
    return { key: place, cells: [e.holds ? { text: place.replace('-', ' '), tone: n === 1 ? 'good' : 'bad' } : `waiter ${n}`, e.client, e.token === null ? { text: 'none', tone: 'dim' } : String(e.token), left, { text: e.where, title: e.where }] };
  });
  return { kind: 'table', columns, rows, empty: 'Nobody holds the lock.', caption: { text: `lock ${v.system.lock} · ${line.source}${line.order === '' ? '' : ` · line order: ${line.order}`}` } };
}

export function clientsTable(v: LockView): TableContent {
  const columns = ['client', 'phase', 'believes', 'token'];
  const s = v.system;
  const rows: TableRow[] = s.layout.clients.map((c) => {
    const up = s.isUp(c);
    const b = v.belief(c);
    const phase = v.phase(c);
    let believes: TableCell;
    if (!up) believes = { text: 'down', tone: 'bad' };
    else if (b.holds) believes = { text: `holds${b.expired ? ' (its lease ran out by its clock)' : ''}${v.isPaused(c) ? ', paused' : ''}`, tone: b.expired ? 'bad' : 'good' };
    else if (phase === 'acquiring') believes = { text: `waiting${v.isPaused(c) ? ', paused' : ''}`, tone: 'warn' };
    else believes = { text: v.isPaused(c) ? 'paused' : 'does not hold', tone: v.isPaused(c) ? 'warn' : 'dim' };
    return { key: c, cells: [c, phase, believes, b.token === null ? '—' : String(b.token)] };
  });
  return { kind: 'table', columns, rows, caption: { text: 'each client as it sees itself: a paused client still believes what it believed when it stopped', tone: 'dim' } };
}

export function resourceTable(v: LockView): TableContent {
  const columns = ['key', 'value', 'highest accepted token', 'writes accepted', 'refused'];
  const s = v.system;
  const keys = new Set<string>(s.writes.map((w) => w.resource));
  const inv = v.scenario?.inventory;
  if (inv?.store === 'db') keys.add(inv.key);
  const rows: TableRow[] = [...keys].sort().map((key) => {
    const mine = s.writes.filter((w) => w.resource === key);
    const accepted = mine.filter((w) => w.accepted);
    const tokens = accepted.map((w) => w.token).filter((t): t is number => t !== null);
    const refused = mine.length - accepted.length;
    const value = s.dbValue(key);
    return { key, cells: [key, value === null ? '—' : String(value), tokens.length === 0 ? '—' : String(Math.max(...tokens)), String(accepted.length), { text: String(refused), tone: refused > 0 ? 'warn' : undefined }] };
  });
  const last = [...s.writes].reverse().find((w) => !w.accepted);
  const fencing = s.options.fencing ? 'fenced: refuses a token below the highest it accepted' : 'not fenced: takes every write';
  const caption: TableCell =
    last === undefined
      ? { text: `database db, ${fencing} · no write refused` }
      : { text: `database db, ${fencing} · last refused: ${last.holder}'s write of ${last.resource} with token ${String(last.token)} at ${last.atMs} ms`, tone: 'warn' };
  return { kind: 'table', columns, rows, empty: 'Nothing written yet.', caption };
}

const VERDICTS: readonly { readonly id: 'service' | 'client' | 'clientValid' | 'grants' | 'resource'; readonly title: string }[] = [
  { id: 'service', title: 'one holder at a time, as the service granted' },
  { id: 'client', title: 'one holder at a time, as the clients believed' },
  { id: 'clientValid', title: 'as believed, within each lease by the client’s clock' },
  { id: 'grants', title: 'tokens unique and increasing' },
  { id: 'resource', title: 'fenced resource: no stale write accepted' },
];

export function verdictTable(v: LockView): TableContent {
  const columns = ['check', 'verdict', 'detail'];
  const r = v.verdicts();
  const rows: TableRow[] = [];
  const inv = v.inventory();
  if (inv !== undefined) {
    const verdict = inv.verdict;
    rows.push({
      key: 'inventory',
      cells: ['inventory: nothing oversold, no update lost', verdict === null ? { text: 'pending', tone: 'dim' } : { text: verdict.ok ? 'ok' : 'violation', tone: verdict.ok ? 'good' : 'bad' }, verdict === null ? `sold ${inv.sold}, left ${inv.left ?? '—'}: judged when every buyer is done` : verdict.message],
    });
  }
  if (v.system.options.buyers === undefined) {
    for (const c of VERDICTS) {
      const res = r[c.id];
      const ok = res.ok;
      const detail = c.id === 'resource' ? (v.system.writes.length === 0 ? 'no write yet' : fencedDetail(r)) : c.id === 'grants' ? (ok ? 'every token above the one before' : (r.grants.problems[0]?.message ?? '')) : ok ? `${r[c.id].intervals} hold${r[c.id].intervals === 1 ? '' : 's'}, none overlapping` : (r[c.id].overlaps[0]?.message ?? '');
      rows.push({ key: c.id, cells: [c.title, { text: ok ? 'ok' : 'violation', tone: ok ? 'good' : 'bad' }, { text: detail, title: detail }] });
    }
  }
  return { kind: 'table', columns, rows, caption: { text: 'the checkers of src/check/lock-safety.ts over what the run recorded so far', tone: 'dim' } };
}

function fencedDetail(r: LockSafetyReport): string {
  if (!r.resource.ok) return r.resource.violations[0]?.message ?? 'a stale write was accepted';
  return `${r.resource.accepted} accepted, ${r.resource.refused} refused`;
}

export function storyTable(v: LockView): TableContent {
  const shown = v.story.slice(-STORY_ROWS);
  const first = v.story.length - shown.length;
  const rows: TableRow[] = shown.map((l, i) => ({ key: String(first + i), cells: [`${l.atMs} ms`, l.who, { text: l.text, ...(l.tone === undefined ? {} : { tone: l.tone }), title: l.text }] }));
  return { kind: 'table', columns: ['time', 'who', 'what happened'], rows, empty: 'Nothing yet: pick a scenario, or press Play and start a client.' };
}
