// The live adapter of the "quorum" service (src/server/quorum-service.ts as real processes): the
// leaderless store's replicas, each node coloured by its place for a chosen key as in the
// simulated view, the ring, the key's copy on every node, and requests sent through a node.
// A node's GET /v1/status gives its keys, hints and the peers it believes up. The rest the
// adapter reads itself through the supervisor's per-node routes (/api/nodes/:id/ring,
// /dkv-local, /dkv, /dkv-repair: src/supervisor/quorum-proxy.ts), about once a second while the
// page draws live mode: the contract has no feed for them, and drawing happens only while live
// mode shows. Its buttons send their requests themselves for the same reason: the live source
// carries out only the Watch panel's action.
import { decodeContext, decodeKeyState } from '../../../src/quorum/codec.js';
import { BUCKET_NAME } from '../../../src/quorum/config.js';
import { stateVvLabel, versionsLabel, vvLabel } from '../../../src/quorum/scenarios/text.js';
import { canonicalText, type KeyState } from '../../../src/quorum/versions.js';
import type { NodeDisplay } from '../source/types.js';
import { isRecord, processView, type LiveAdapter, type LiveNodeRow } from './live.js';
import { quorumAdapter } from './quorum.js';
import type { NodeView, PanelButton, PanelContents, PanelDef, TableCell, TableContent, TableRow } from './types.js';

/** A quorum node's GET /v1/status. */
export interface QuorumStatus {
  readonly id: string;
  readonly role: 'replica';
  readonly keys: number;
  readonly hints: number;
  readonly peersUp: readonly string[];
  readonly replicas: number;
  readonly readQuorum: number;
  readonly writeQuorum: number;
  readonly sloppyQuorum: boolean;
}

/** A node's GET /v1/ring?bucket=&key=, as far as the view reads it. */
export interface RingAnswer {
  readonly members: readonly string[];
  readonly replicas: number;
  readonly standIns: number;
  readonly partitionCount: number;
  /** Partitions whose first replica is the node. */
  readonly ownership: Readonly<Record<string, number>>;
  readonly key: { readonly position: number; readonly partition: number; readonly homeReplicas: readonly string[]; readonly standIns: readonly string[] } | null;
}

/** What the view knows of one node's own copy of the chosen key. */
interface NodeCopy {
  /** null: the node holds no copy. */
  readonly state: KeyState | null;
  /** Hints it keeps for this key (writes for home replicas that missed them). */
  readonly hints: number;
  /** Why the last read of it failed (the copy shown is then the last one read). */
  readonly problem: string | null;
}

/** One request sent from the panel, and its answer once it came. */
interface RequestLine {
  readonly n: number;
  readonly text: string;
  readonly via: string;
  readonly phase: 'pending' | 'ok' | 'failed';
  readonly answer: string;
  /** The context a read or write returned. */
  readonly context: string | null;
}

/** How the adapter reaches the supervisor: method, same-origin path, JSON body. */
export type QuorumCall = (method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown, timeoutMs?: number) => Promise<{ readonly status: number; readonly body: unknown }>;

/** How often the ring and the copies are read while the page draws. */
const QUORUM_POLL_MS = 1000;
const LOOKUP_TIMEOUT_MS = 3000;
/** A node's read or write waits up to 2 × its request timeout plus slack (the proxy gives it 6 s). */
const REQUEST_TIMEOUT_MS = 8000;
const REQUEST_ROWS = 8;
const LEVEL = /^(one|quorum|all|any|[1-9][0-9]?)$/;

/** fetch, on the page's own origin (the supervisor's), with a time limit. */
const browserCall: QuorumCall = async (method, path, body, timeoutMs = LOOKUP_TIMEOUT_MS) => {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const headers: Record<string, string> = { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
    const res = await fetch(path, { method, headers, signal: abort.signal, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await res.text();
    try {
      return { status: res.status, body: JSON.parse(text) as unknown };
    } catch {
      return { status: res.status, body: text };
    }
  } finally {
    clearTimeout(timer);
  }
};

// ---------------------------------------------------------------- answers

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isIds = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

function isQuorumStatus(v: unknown): v is QuorumStatus {
  return isRecord(v) && v['service'] === 'quorum' && v['role'] === 'replica' && isCount(v['keys']) && isCount(v['hints']) && isIds(v['peersUp']) && isCount(v['replicas']);
}

function parseRing(v: unknown): RingAnswer | null {
  if (!isRecord(v) || !isIds(v['members']) || !isCount(v['replicas']) || !isCount(v['standIns']) || !isCount(v['partitionCount']) || !isRecord(v['ownership'])) return null;
  const ownership: Record<string, number> = {};
  for (const [id, count] of Object.entries(v['ownership'])) if (isCount(count)) ownership[id] = count;
  const k = v['key'];
  const key = isRecord(k) && isCount(k['position']) && isCount(k['partition']) && isIds(k['homeReplicas']) && isIds(k['standIns']) ? { position: k['position'], partition: k['partition'], homeReplicas: k['homeReplicas'], standIns: k['standIns'] } : null;
  return { members: v['members'], replicas: v['replicas'], standIns: v['standIns'], partitionCount: v['partitionCount'], ownership, key };
}

/** "CODE: message" of an error answer ({error: {code, message}}), or the status. */
function errorText(status: number, body: unknown): string {
  const e = isRecord(body) && isRecord(body['error']) ? body['error'] : null;
  if (e === null) return `HTTP ${status}`;
  const acks = isCount(e['acks']) ? ` (${e['acks']} acks)` : '';
  return `${typeof e['code'] === 'string' ? e['code'] : `HTTP ${status}`}: ${typeof e['message'] === 'string' ? e['message'] : ''}${acks}`;
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** A path segment: a bucket, a key or a node id. */
const seg = (text: string): string => encodeURIComponent(text);

/** The values of a read or write answer: "a | b (2 siblings)". */
function valuesText(body: Record<string, unknown>): string {
  const values = isIds(body['values']) ? body['values'] : [];
  const siblings = isCount(body['siblings']) ? body['siblings'] : values.length;
  return `${values.length === 0 ? '(none)' : values.map((x) => JSON.stringify(x)).join(' | ')}${siblings > 1 ? ` (${siblings} siblings)` : ''}`;
}

/** A context as the version vector it carries ("[1:2, 3:1]"); the raw text when it is not one. */
function contextText(context: string): string {
  try {
    return vvLabel(decodeContext(context));
  } catch {
    return context.length > 16 ? `${context.slice(0, 15)}…` : context;
  }
}

// ---------------------------------------------------------------- what the view reads and sends

interface RequestFields {
  readonly bucket: string;
  readonly key: string;
  readonly value: string;
  readonly level: string;
  readonly via: string;
}

type RequestKind = 'select' | 'write' | 'blind' | 'read' | 'repair';

type Built = ReturnType<PanelButton['build']>;

/** A button's answer when it sent its request itself: no action for the live source, and no message. */
const SENT: Built = { problem: '' };

/** The chosen key, the ring and the copies as last read, the requests sent, and the contexts they returned. */
export class QuorumProbe {
  bucket = 'default';
  key = 'greeting';
  ring: RingAnswer | null = null;
  /** The node whose ring is shown. */
  ringFrom = '';
  /** Why the last read of the ring failed (null: it did not). */
  ringProblem: string | null = null;
  readonly copies = new Map<string, NodeCopy>();
  requests: RequestLine[] = [];
  /** By bucket/key: the context of the last read or write answered (Write sends it back). */
  readonly contexts = new Map<string, string>();
  private rows: readonly LiveNodeRow<QuorumStatus>[] = [];
  private polling = false;
  private lastPoll = Number.NEGATIVE_INFINITY;
  /** Bumped when the key changes: a late answer about the previous key is dropped. */
  private generation = 0;
  private sent = 0;

  constructor(private readonly call: QuorumCall = browserCall) {}

  get storeKey(): string {
    return `${this.bucket}/${this.key}`;
  }

  /** The page draws: remember the rows, and read the ring and the copies again when due. */
  tick(rows: readonly LiveNodeRow<QuorumStatus>[], nowMs: number): void {
    this.rows = rows;
    if (!this.polling && nowMs - this.lastPoll >= QUORUM_POLL_MS) void this.poll(nowMs);
  }

  /** Follows another key: its preference list and copies are read at the next draw. */
  select(bucket: string, key: string): void {
    if (bucket === this.bucket && key === this.key) return;
    this.bucket = bucket;
    this.key = key;
    this.generation++;
    this.copies.clear();
    this.ring = this.ring === null ? null : { ...this.ring, key: null };
    this.lastPoll = Number.NEGATIVE_INFINITY;
  }

  /** Reads the ring (from one answering node) and every running node's own copy of the key. */
  async poll(nowMs: number): Promise<void> {
    this.polling = true;
    this.lastPoll = nowMs;
    const generation = this.generation;
    const { bucket, key } = this;
    const running = this.rows.filter((r) => r.process === 'running');
    const asked = running.find((r) => r.fresh) ?? running[0];
    try {
      const ring = asked === undefined ? Promise.resolve(undefined) : this.call('GET', `/api/nodes/${seg(asked.id)}/ring?bucket=${seg(bucket)}&key=${seg(key)}`).catch((err: unknown) => messageOf(err));
      const copies = running.map(async (r): Promise<[string, NodeCopy]> => {
        const before = this.copies.get(r.id);
        const failed = (problem: string): [string, NodeCopy] => [r.id, { state: before?.state ?? null, hints: before?.hints ?? 0, problem }];
        try {
          const a = await this.call('GET', `/api/nodes/${seg(r.id)}/dkv-local/${seg(bucket)}/${seg(key)}`);
          if (a.status !== 200 || !isRecord(a.body)) return failed(errorText(a.status, a.body));
          const raw = a.body['state'];
          const state = raw === null ? null : decodeKeyState(raw, Number.MAX_SAFE_INTEGER);
          return [r.id, { state, hints: isCount(a.body['hints']) ? a.body['hints'] : 0, problem: null }];
        } catch (err) {
          return failed(messageOf(err));
        }
      });
      const [ringAnswer, copyAnswers] = await Promise.all([ring, Promise.all(copies)]);
      if (generation !== this.generation) return;
      if (asked === undefined) this.ringProblem = 'no node is running';
      else if (typeof ringAnswer === 'string') this.ringProblem = `node ${asked.id} did not answer: ${ringAnswer}`;
      else if (ringAnswer !== undefined) {
        const parsed = ringAnswer.status === 200 ? parseRing(ringAnswer.body) : null;
        if (parsed === null) this.ringProblem = `node ${asked.id}: ${errorText(ringAnswer.status, ringAnswer.body)}`;
        else [this.ring, this.ringFrom, this.ringProblem] = [parsed, asked.id, null];
      }
      for (const [id, copy] of copyAnswers) this.copies.set(id, copy);
    } finally {
      this.polling = false;
    }
  }

  /** The node a request goes through: the one named, else the first running node that answers. */
  private coordinator(via: string): string | { readonly problem: string } {
    if (via !== '') {
      const row = this.rows.find((r) => r.id === via);
      if (row === undefined) return { problem: `no node ${via}` };
      return row.process === 'running' ? via : { problem: `node ${via} is ${row.process}: it cannot coordinate` };
    }
    const running = this.rows.filter((r) => r.process === 'running');
    const node = running.find((r) => r.fresh) ?? running[0];
    return node === undefined ? { problem: 'no node is running' } : node.id;
  }

  /** Checks the fields, selects their key and sends the request; what the button gives the panel. */
  send(kind: RequestKind, f: RequestFields): Built {
    if (kind !== 'repair') {
      if (!BUCKET_NAME.test(f.bucket)) return { problem: 'a bucket is 1 to 64 letters, digits, _ . or -' };
      // a browser would read "." and ".." in a URL path as steps
      if (f.key === '' || f.key.length > 1024 || f.key === '.' || f.key === '..') return { problem: 'a key is 1 to 1,024 characters (not "." or "..")' };
      if (f.level !== '' && (!LEVEL.test(f.level) || (kind === 'read' && f.level === 'any'))) return { problem: kind === 'read' ? 'R is a number, one, quorum or all' : 'W is a number, one, quorum, all or any' };
      this.select(f.bucket, f.key);
      if (kind === 'select') return SENT;
    }
    const via = this.coordinator(f.via);
    if (typeof via !== 'string') return via;
    const level = f.level === '' ? undefined : /^\d+$/.test(f.level) ? Number(f.level) : f.level;
    const storeKey = `${f.bucket}/${f.key}`;
    const path = `/api/nodes/${seg(via)}/dkv/${seg(f.bucket)}/${seg(f.key)}`;
    const context = kind === 'write' ? this.contexts.get(storeKey) : undefined;
    let text: string;
    let request: Promise<{ readonly status: number; readonly body: unknown }>;
    switch (kind) {
      case 'read':
        text = `read ${f.key}${level === undefined ? '' : ` · R = ${level}`}`;
        request = this.call('GET', `${path}${level === undefined ? '' : `?r=${seg(String(level))}`}`, undefined, REQUEST_TIMEOUT_MS);
        break;
      case 'repair':
        text = 'repair: anti-entropy with every other replica';
        request = this.call('POST', `/api/nodes/${seg(via)}/dkv-repair`, undefined, REQUEST_TIMEOUT_MS);
        break;
      default:
        text = `${kind === 'blind' ? 'blind write' : 'write'} ${f.key} = ${JSON.stringify(f.value)}${level === undefined ? '' : ` · W = ${level}`}${kind === 'write' ? (context === undefined ? ' · no context yet' : ' · with context') : ''}`;
        request = this.call('PUT', path, { value: f.value, ...(context === undefined ? {} : { context }), ...(level === undefined ? {} : { w: level }) }, REQUEST_TIMEOUT_MS);
    }
    const n = ++this.sent;
    const line: RequestLine = { n, text, via, phase: 'pending', answer: '…', context: null };
    this.requests = [line, ...this.requests].slice(0, REQUEST_ROWS);
    void request
      .then((a) => this.answered(n, storeKey, a.status, a.body))
      .catch((err: unknown) => this.finish(n, 'failed', `no answer: ${messageOf(err)}`, null));
    return SENT;
  }

  private answered(n: number, storeKey: string, status: number, body: unknown): void {
    if (status !== 200 || !isRecord(body)) return this.finish(n, 'failed', errorText(status, body), null);
    const context = typeof body['context'] === 'string' ? body['context'] : null;
    if (context !== null) this.contexts.set(storeKey, context);
    let answer: string;
    if (body['op'] === 'get') answer = `${body['found'] === true ? valuesText(body) : 'not found'} · ${isCount(body['replies']) ? body['replies'] : '?'} answers`;
    else if (body['op'] === 'write') {
      const dot = isRecord(body['dot']) ? ` · dot ${String(body['dot']['actor'])}:${String(body['dot']['counter'])}` : '';
      answer = `${isCount(body['acks']) ? body['acks'] : '?'} acks${dot} · now ${valuesText(body)}`;
    } else answer = `${isCount(body['exchanges']) ? body['exchanges'] : '?'} exchanges started`;
    this.finish(n, 'ok', answer, context);
    // the copies changed: read them at the next draw
    this.lastPoll = Number.NEGATIVE_INFINITY;
  }

  private finish(n: number, phase: 'ok' | 'failed', answer: string, context: string | null): void {
    this.requests = this.requests.map((r) => (r.n === n ? { ...r, phase, answer, context } : r));
  }
}

// ---------------------------------------------------------------- drawing

/** A node's place in the chosen key's preference list ("H1", "S2"), or null. */
function placeOf(ring: RingAnswer | null, id: string): { readonly label: string; readonly short: string; readonly home: boolean } | null {
  const key = ring?.key ?? null;
  if (key === null) return null;
  const home = key.homeReplicas.indexOf(id);
  if (home >= 0) return { label: `home ${home + 1}`, short: `H${home + 1}`, home: true };
  const standIn = key.standIns.indexOf(id);
  return standIn >= 0 ? { label: `stand-in ${standIn + 1}`, short: `S${standIn + 1}`, home: false } : null;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
const dim = (text: string): TableCell => ({ text, tone: 'dim' });

function describeNode(probe: QuorumProbe, r: LiveNodeRow<QuorumStatus>): NodeDisplay<NodeView> {
  const s = r.status;
  if (s === null) return processView(r, null);
  const place = placeOf(probe.ring, r.id);
  const copy = probe.copies.get(r.id);
  const role = place?.home === true ? 'home' : (copy?.hints ?? 0) > 0 ? 'hint' : place !== null ? 'standin' : 'other';
  const details = [place?.short ?? '—', `${probe.key}: ${copy === undefined ? '?' : copy.state === null ? 'no copy' : versionsLabel(copy.state)}`, `${plural(s.keys, 'key')} · ${plural(s.hints, 'hint')}`];
  return processView(r, { role, details });
}

/** The request panel, its buttons sending through `probe`. */
function requestPanel(probe: QuorumProbe): PanelDef {
  const button = (id: string, label: string, title: string, kind: RequestKind): PanelButton => ({
    kind: 'button',
    id,
    label,
    title,
    build: (values) => {
      const field = (name: string): string => (values.get(name) ?? '').trim();
      // the value is taken as typed: spaces may matter
      return probe.send(kind, { bucket: field('bucket'), key: field('key'), value: values.get('value') ?? '', level: field('level'), via: field('via') });
    },
  });
  return {
    id: 'dkv',
    title: 'Key and requests',
    place: 'main',
    hint: 'The key followed by the ring, the copies and the node colours, and requests sent through a node (via; empty: the first running one that answers). Write sends back the context of this page’s last read or write of the key (it supersedes what that saw); Blind write sends none (a sibling of what is there). Repair starts anti-entropy on the node now.',
    controls: [
      [
        { kind: 'text', id: 'bucket', label: 'bucket', initial: 'default', size: 8, title: 'the bucket (its type is set in the cluster file; plain buckets keep siblings)' },
        { kind: 'text', id: 'key', label: 'key', initial: 'greeting', size: 10, title: 'the key' },
        { kind: 'text', id: 'value', label: 'value', initial: 'hello', size: 10, title: 'the value a write stores (text)' },
        { kind: 'text', id: 'level', label: 'W or R', initial: '', size: 5, title: 'replicas to wait for: a number, one, quorum, all, or any (writes); empty: the store’s default' },
        { kind: 'text', id: 'via', label: 'via', initial: '', size: 3, title: 'the node that takes the request (its id); empty: the first running node that answers' },
      ],
      [
        button('select', 'Select key', 'Follow this key: its preference list, its copies and the node colours', 'select'),
        button('write', 'Write', 'PUT the value with the context this page last got for the key (W from the field)', 'write'),
        button('blind', 'Blind write', 'PUT the value without a context: it becomes a sibling of what is there', 'blind'),
        button('read', 'Read', 'GET the key (R from the field): every sibling, and the context to write back', 'read'),
        button('repair', 'Repair', 'POST /v1/dkv-repair on the node: an anti-entropy exchange with every other replica of its partitions, now', 'repair'),
      ],
    ],
  };
}

const RING_PANEL: PanelDef = {
  id: 'dkv-ring',
  title: 'Ring',
  place: 'main',
  hint: 'Q equal partitions dealt over the nodes, as a node reports them (GET /v1/ring): how many each node owns (is the first replica of), its place in the key’s preference list, and its status: keys, hints kept, the peers it believes up.',
};

const COPIES_PANEL: PanelDef = {
  id: 'dkv-copies',
  title: 'Copies of the key',
  place: 'main',
  hint: 'Each node’s own copy of the key, unmerged (GET /v1/dkv-local, read about once a second): its siblings as value@dot (the dot names the write), its version vector, and the hints it keeps for the key. Grey: the last copy read from a node that does not answer now.',
};

function processText(r: LiveNodeRow<QuorumStatus>): TableCell {
  if (r.process === 'stopped') return { text: 'stopped', tone: 'bad' };
  if (r.process === 'paused') return { text: 'paused', tone: 'warn' };
  return r.fresh ? { text: 'up', tone: 'good' } : { text: 'no answer', tone: 'warn' };
}

function requestsTable(probe: QuorumProbe): TableContent {
  const rows: TableRow[] = probe.requests.map((q) => ({
    key: String(q.n),
    ...(q.phase === 'pending' ? { tone: 'dim' as const } : {}),
    cells: [
      String(q.n),
      { text: q.text, title: q.text },
      q.via,
      { text: q.answer, title: q.answer, ...(q.phase === 'ok' ? { tone: 'good' as const } : q.phase === 'failed' ? { tone: 'bad' as const } : {}) },
      q.context === null ? dim('—') : { text: contextText(q.context), title: `context (pass it back with a write): ${q.context}` },
    ],
  }));
  const context = probe.contexts.get(probe.storeKey);
  const caption: TableCell = { text: `key ${probe.storeKey} · ${context === undefined ? 'no context yet: Write is blind until a read or write of it answers' : `Write sends context ${contextText(context)}`}` };
  return { kind: 'table', columns: ['#', 'request', 'via', 'answer', 'context'], rows, caption, empty: 'No request yet: write or read the key.' };
}

function ringTable(probe: QuorumProbe, rows: readonly LiveNodeRow<QuorumStatus>[]): TableContent {
  const ring = probe.ring;
  const table = rows.map((r): TableRow => {
    const s = r.status;
    const place = placeOf(ring, r.id);
    const last = r.process !== 'running' || !r.fresh;
    const peers = s === null ? '—' : s.peersUp.length === 0 ? 'none' : s.peersUp.join(', ');
    return {
      key: r.id,
      ...(last ? { tone: 'dim' as const } : {}),
      cells: [
        r.id,
        processText(r),
        ring === null ? '?' : String(ring.ownership[r.id] ?? 0),
        place === null ? dim(ring === null || ring.key === null ? '?' : '—') : { text: place.label, ...(place.home ? { tone: 'good' as const } : {}) },
        s === null ? '—' : String(s.keys),
        s === null ? '—' : { text: String(s.hints), ...(s.hints > 0 ? { tone: 'warn' as const } : {}) },
        peers,
      ],
    };
  });
  let caption: TableCell;
  if (ring === null) caption = { text: probe.ringProblem ?? 'Reading the ring…', ...(probe.ringProblem === null ? {} : { tone: 'bad' as const }) };
  else {
    const s = rows.find((r) => r.status !== null)?.status ?? null;
    const levels = s === null ? '' : ` · R = ${s.readQuorum}, W = ${s.writeQuorum}, sloppy quorum ${s.sloppyQuorum ? 'on' : 'off'}`;
    const k = ring.key;
    const where = k === null ? '' : ` · ${probe.key} at 0x${k.position.toString(16).padStart(8, '0')}, partition ${k.partition}: home replicas ${k.homeReplicas.join(', ')}; stand-ins ${k.standIns.join(', ') || 'none'}`;
    caption = { text: `Q = ${ring.partitionCount} partitions over ${ring.members.length} nodes, N = ${ring.replicas} (+${plural(ring.standIns, 'stand-in')})${levels}${where} (as node ${probe.ringFrom} says)${probe.ringProblem === null ? '' : ` · ${probe.ringProblem}`}`, ...(probe.ringProblem === null ? {} : { tone: 'warn' as const }) };
  }
  return { kind: 'table', columns: ['node', 'process', 'partitions', probe.key, 'keys', 'hints', 'peers up'], rows: table, caption, empty: 'no nodes yet' };
}

function copiesTable(probe: QuorumProbe, rows: readonly LiveNodeRow<QuorumStatus>[]): TableContent {
  const key = probe.ring?.key ?? null;
  const listed = key === null ? [] : [...key.homeReplicas, ...key.standIns];
  // the preference list first, then any other node that holds a copy or a hint of the key
  const others = rows.map((r) => r.id).filter((id) => !listed.includes(id) && (probe.copies.get(id)?.state != null || (probe.copies.get(id)?.hints ?? 0) > 0));
  const table = [...listed, ...others].map((id): TableRow => {
    const row = rows.find((r) => r.id === id);
    const place = placeOf(probe.ring, id);
    const copy = probe.copies.get(id);
    const placeCell = place?.label ?? '—';
    if (row === undefined || row.process === 'stopped') return { key: id, tone: 'dim', cells: [id, placeCell, { text: 'down', tone: 'bad' }, dim('unknown while down'), dim('—'), dim('—')] };
    const answering = row.process === 'running' && copy !== undefined && copy.problem === null;
    const stateCell: TableCell = answering ? { text: 'up', tone: 'good' } : { text: row.process === 'paused' ? 'paused' : 'no answer', tone: 'warn', ...(copy?.problem == null ? {} : { title: copy.problem }) };
    if (copy === undefined) return { key: id, tone: 'dim', cells: [id, placeCell, stateCell, dim('not read yet'), dim('—'), dim('—')] };
    const siblings = copy.state?.kind === 'dvv' ? copy.state.siblings.length : 0;
    return {
      key: id,
      ...(answering ? {} : { tone: 'dim' as const }),
      cells: [
        id,
        placeCell,
        stateCell,
        copy.state === null ? dim(place?.home === true ? 'no copy' : '—') : { text: versionsLabel(copy.state), ...(siblings > 1 ? { tone: 'warn' as const } : {}) },
        copy.state === null ? dim('—') : stateVvLabel(copy.state),
        copy.hints === 0 ? dim('—') : { text: plural(copy.hints, 'hint'), tone: 'warn', title: 'writes of this key it keeps for home replicas that missed them' },
      ],
    };
  });
  return { kind: 'table', columns: ['node', 'place', 'state', 'siblings (value@dot)', 'version vector', 'hints kept'], rows: table, caption: agreement(probe, rows), empty: 'Reading the key’s preference list…' };
}

/** Whether the home replicas that answered hold the same copy. */
function agreement(probe: QuorumProbe, rows: readonly LiveNodeRow<QuorumStatus>[]): TableCell {
  const homes = probe.ring?.key?.homeReplicas ?? [];
  if (homes.length === 0) return { text: `${probe.storeKey}: preference list not read yet`, tone: 'dim' };
  const answered = homes.filter((id) => rows.find((r) => r.id === id)?.process === 'running' && probe.copies.get(id)?.problem === null);
  const texts = new Set(answered.map((id) => {
    const state = probe.copies.get(id)?.state ?? null;
    return state === null ? '' : canonicalText(state);
  }));
  const siblings = (id: string): number => {
    const state = probe.copies.get(id)?.state;
    return state?.kind === 'dvv' ? state.siblings.length : 0;
  };
  const most = Math.max(0, ...answered.map(siblings));
  if (texts.size > 1) return { text: `${probe.storeKey}: the home replicas differ: read repair, hints or anti-entropy will bring them together`, tone: 'warn' };
  if (answered.length < homes.length) return { text: `${probe.storeKey}: ${answered.length} of ${homes.length} home replicas answered${answered.length > 1 ? ' and agree' : ''}; ${homes.length - answered.length} cannot be read now`, tone: 'warn' };
  if (texts.has('')) return { text: `${probe.storeKey}: no home replica holds it yet`, tone: 'dim' };
  return { text: `${probe.storeKey}: the home replicas agree${most > 1 ? ` · ${most} siblings: a read returns all, a write with its context resolves them` : ''}`, tone: most > 1 ? 'warn' : 'good' };
}

// ---------------------------------------------------------------- the adapter

const dash = (s: QuorumStatus | null, f: (s: QuorumStatus) => string): string => (s === null ? '—' : f(s));

/** The adapter over a probe (the page's reads and sends on its own origin; a test may give another). */
export function quorumLiveAdapterWith(probe: QuorumProbe): LiveAdapter<QuorumStatus> {
  const panels = [requestPanel(probe), RING_PANEL, COPIES_PANEL] as const;
  return {
    service: 'quorum',
    title: 'Quorum store',
    blurb: 'Colour = the node’s place for the chosen key (home replica, stand-in, holding a hint for it, or outside its preference list); inside, its place (H1, S1); under it, its own copy of the key (value@dot) and its keys and hints. Cross = stopped, orange badge = paused.',
    style: { roles: quorumAdapter.roles, messageTypes: [] },
    hasLeader: false,
    keyValue: false,
    columns: [
      { title: 'Keys', text: (r) => dash(r.status, (s) => String(s.keys)) },
      { title: 'Hints', text: (r) => dash(r.status, (s) => String(s.hints)) },
      { title: 'Peers up', text: (r) => dash(r.status, (s) => (s.peersUp.length === 0 ? 'none' : s.peersUp.join(', '))) },
    ],
    panels,
    parseStatus: (raw) => (isQuorumStatus(raw) ? raw : null),
    describeNode: (r) => describeNode(probe, r),
    describePanels(rows, feeds): PanelContents {
      probe.tick(rows, feeds.nowMs);
      return { [panels[0].id]: requestsTable(probe), [RING_PANEL.id]: ringTable(probe, rows), [COPIES_PANEL.id]: copiesTable(probe, rows) };
    },
    leader: () => null,
    changes(id, before, after) {
      const lines: string[] = [];
      if (before !== null && before.hints !== after.hints) lines.push(`node ${id}: keeps ${plural(after.hints, 'hint')} (was ${before.hints})`);
      if (before !== null) {
        const lost = before.peersUp.filter((p) => !after.peersUp.includes(p));
        const back = after.peersUp.filter((p) => !before.peersUp.includes(p));
        if (lost.length > 0) lines.push(`node ${id}: believes ${lost.join(', ')} down`);
        if (back.length > 0) lines.push(`node ${id}: hears from ${back.join(', ')} again`);
      }
      return lines;
    },
  };
}

/** The page's: one live cluster per page. */
export const quorumLiveAdapter: LiveAdapter<QuorumStatus> = quorumLiveAdapterWith(new QuorumProbe());
