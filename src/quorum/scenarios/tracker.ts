// Follows each client request through the watched cores: its coordinator, whom it asked, which
// acks (or answers) counted toward W (or R) before the client's answer, whom read repair fixed;
// also hints parked and delivered, anti-entropy's pushes, and a story of everything that happened.
import type { NodeId } from '../../core/index.js';
import type { TraceEvent } from '../../sim/trace.js';
import type { QuorumConfig } from '../config.js';
import type { QuorumMessage, QuorumPersistOp } from '../messages.js';
import type { QuorumNode } from '../node.js';
import { replicasFor, type QuorumRequest, type QuorumResponse } from '../requests.js';
import { mergeStates, type KeyState } from '../versions.js';
import type { QuorumInput, QuorumOutput, QuorumWatcher } from './observe.js';
import { liveValues, responseLabel, versionsLabel } from './text.js';

export type StoryTone = 'good' | 'bad' | 'warn' | 'dim';

export interface StoryLine {
  readonly atMs: number;
  readonly who: string;
  readonly text: string;
  readonly tone?: StoryTone;
}

/** One node a coordinator asked. */
export interface FanOutLeg {
  readonly node: NodeId;
  /** The home replica this stand-in keeps a hint for (sloppy quorum); null for a home replica. */
  readonly standsInFor: NodeId | null;
  /** The coordinator itself (its own copy counts at once). */
  readonly self: boolean;
  readonly askedMs: number;
  /** When the coordinator got the acknowledgement (write) or the answer (read). */
  answeredMs: number | null;
  /** Answered before the coordinator answered the client: counted toward W or R. */
  counted: boolean;
  /** Reads: the live values this replica answered with (empty: none). */
  values: readonly string[] | null;
  /** Reads: when read repair sent it the merged version. */
  repairedMs: number | null;
}

export type RequestOp = 'put' | 'delete' | 'get';

/** The requests of plain buckets the tracker follows. */
export type StoreRequest = Extract<QuorumRequest, { op: RequestOp }>;

export interface TrackedRequest {
  /** Its position in the tracker's list (and its number in the panels). */
  readonly index: number;
  readonly client: string;
  readonly op: RequestOp;
  /** The store key (bucket/key). */
  readonly key: string;
  readonly value: string | null;
  readonly via: NodeId;
  /** W (writes) or R (reads) as a replica count. */
  readonly needed: number;
  readonly startMs: number;
  readonly requestId: string;
  /** The node that ran it: via, or the home replica via forwarded a write to. */
  coordinator: NodeId | null;
  forwardedTo: NodeId | null;
  legs: FanOutLeg[];
  /** Hints this request left: who holds one, for which home replica. */
  hints: { readonly holder: NodeId; readonly target: NodeId }[];
  /** When the coordinator answered (legs answered later were not counted). */
  decidedMs: number | null;
  endMs: number | null;
  /** The client's answer (undefined until it came, or when it timed out: see `timedOut`). */
  response: QuorumResponse | undefined;
  timedOut: boolean;
  rid: string | null;
  forwardRid: string | null;
}

export interface ParkedHint {
  readonly id: string;
  readonly holder: NodeId;
  readonly target: NodeId;
  readonly key: string;
  readonly parkedMs: number;
  deliveredMs: number | null;
  expiredMs: number | null;
}

/** A copy changed by a repair: read repair (the read's merge) or anti-entropy (a Merkle exchange's push). */
export interface AppliedRepair {
  readonly kind: 'read' | 'anti-entropy';
  readonly node: NodeId;
  readonly from: NodeId;
  readonly key: string;
  readonly atMs: number;
}

/** Story lines kept; the oldest are dropped beyond it. */
const MAX_STORY = 4000;
const WRITES: readonly string[] = ['put', 'delete'];

export class QuorumTracker implements QuorumWatcher {
  readonly requests: TrackedRequest[] = [];
  readonly hints: ParkedHint[] = [];
  readonly repairs: AppliedRepair[] = [];
  /** The newest story lines, and how many were ever told (the first kept is number storyCount - story.length). */
  readonly story: StoryLine[] = [];
  storyCount = 0;
  /** Ops persisted by any node so far: a cheap sign that some copy or hint may have changed. */
  persists = 0;
  /** Dots seen naming two different versions (a node reusing its counter would cause it), checked as states are persisted. */
  readonly dotConflicts: string[] = [];
  private readonly dotValues = new Map<string, string | null>();
  private readonly byRequestId = new Map<string, TrackedRequest>();
  private readonly byRid = new Map<string, TrackedRequest>();
  private readonly byForward = new Map<string, TrackedRequest>();
  private readonly hintById = new Map<string, ParkedHint>();
  private readonly offered = new Set<string>();
  private readonly repairKind = new WeakMap<QuorumMessage, AppliedRepair['kind']>();
  /** The request a node's current input belongs to (a client request or a forwarded one). */
  private stepRequest: TrackedRequest | undefined;

  constructor(
    private readonly now: () => number,
    private readonly config: Pick<QuorumConfig, 'replicas' | 'readQuorum' | 'writeQuorum' | 'requestTimeoutMs'>,
  ) {}

  tell(who: string, text: string, tone?: StoryTone): void {
    this.story.push({ atMs: this.now(), who, text, ...(tone === undefined ? {} : { tone }) });
    this.storyCount++;
    if (this.story.length > MAX_STORY) this.story.splice(0, this.story.length - MAX_STORY);
  }

  // ---------------------------------------------------------------- client side (from the stage)

  /** A client sent `request` to `via` (the simulator's request id links it to the node's input). */
  begin(client: string, via: NodeId, request: StoreRequest, storeKey: string, requestId: string): TrackedRequest {
    const op: RequestOp = request.op === 'get' ? 'get' : request.op === 'delete' ? 'delete' : 'put';
    const n = request.n ?? this.config.replicas;
    const level = request.op === 'get' ? request.r : request.w;
    const fallback = op === 'get' ? ('readQuorum' as const) : ('writeQuorum' as const);
    const rec: TrackedRequest = {
      index: this.requests.length,
      client,
      op,
      key: storeKey,
      value: request.op === 'put' ? request.value : null,
      via,
      needed: replicasFor(level, this.config[fallback], n),
      startMs: this.now(),
      requestId,
      coordinator: null,
      forwardedTo: null,
      legs: [],
      hints: [],
      decidedMs: null,
      endMs: null,
      response: undefined,
      timedOut: false,
      rid: null,
      forwardRid: null,
    };
    this.requests.push(rec);
    this.byRequestId.set(requestId, rec);
    const what = op === 'get' ? `reads ${storeKey} (R=${rec.needed})` : op === 'delete' ? `deletes ${storeKey} (W=${rec.needed})` : `writes ${storeKey} = ${rec.value ?? ''} (W=${rec.needed})`;
    const context = request.op === 'put' || request.op === 'delete' ? (request.context === undefined || request.context === '' ? ', blind: no context' : ', with the context of what it has seen') : '';
    this.tell(client, `${what} through node ${via}${context}`);
    return rec;
  }

  /** The client got its answer (or gave up). */
  end(rec: TrackedRequest, response: QuorumResponse | undefined): void {
    rec.endMs = this.now();
    rec.response = response;
    rec.timedOut = response === undefined;
    this.tell(rec.client, `is told: ${responseLabel(response)}`, response === undefined || !response.ok ? 'warn' : 'good');
  }

  // ---------------------------------------------------------------- the nodes (observe.ts)

  input(node: NodeId, core: QuorumNode, input: QuorumInput): void {
    this.stepRequest = undefined;
    if (input.kind === 'request') {
      const rec = this.byRequestId.get(input.requestId);
      if (rec === undefined) return;
      this.stepRequest = rec;
      if (rec.op === 'get') this.startRead(rec, node, core, ('n' in input.request ? input.request.n : undefined) ?? this.config.replicas);
      return;
    }
    if (input.kind !== 'message') return;
    const msg = input.msg;
    switch (msg.type) {
      case 'forward':
        this.stepRequest = this.byForward.get(`${input.from} ${msg.rid}`);
        return;
      case 'stored':
      case 'fetched': {
        const rec = this.byRid.get(`${node} ${msg.rid}`);
        const leg = rec?.legs.find((l) => l.node === input.from);
        if (rec === undefined || leg === undefined || leg.answeredMs !== null) return;
        leg.answeredMs = this.now();
        leg.counted = rec.decidedMs === null;
        const count = rec.legs.filter((l) => l.counted).length;
        if (msg.type === 'fetched') {
          leg.values = liveValues(msg.state);
          const said = leg.values.length === 0 ? 'nothing' : leg.values.join(' | ');
          this.tell(input.from, leg.counted ? `answers ${node}: ${said} (${count} of R=${rec.needed})` : `answers ${node} late: ${said} (not counted: R was met)`, leg.counted ? undefined : 'dim');
        } else {
          const stands = leg.standsInFor === null ? '' : ` (standing in for ${leg.standsInFor})`;
          this.tell(input.from, leg.counted ? `acknowledges to ${node}${stands}: ${count} of W=${rec.needed}` : `acknowledges to ${node} late${stands} (not counted: W was met)`, leg.counted ? undefined : 'dim');
        }
        return;
      }
      default:
        return;
    }
  }

  output(node: NodeId, _core: QuorumNode, input: QuorumInput, out: QuorumOutput): void {
    if (out.kind === 'reply') return this.onReply(node, out.requestId, out.response);
    if (out.kind === 'persist') return this.onPersist(node, input, out.op);
    const msg = out.msg;
    const rec = this.stepRequest;
    switch (msg.type) {
      case 'forward':
        if (rec === undefined) return;
        rec.forwardedTo = out.to;
        rec.forwardRid = msg.rid;
        this.byForward.set(`${node} ${msg.rid}`, rec);
        this.tell(node, `is not a home replica of ${rec.key}: forwards the write to home replica ${out.to}`);
        return;
      case 'forwarded': {
        const fwd = this.byForward.get(`${out.to} ${msg.rid}`);
        if (fwd !== undefined) this.decide(fwd, node, msg.response);
        return;
      }
      case 'store':
      case 'fetch':
        if (rec === undefined || (input.kind !== 'request' && !(input.kind === 'message' && input.msg.type === 'forward'))) return;
        rec.coordinator = node;
        rec.rid = msg.rid;
        this.byRid.set(`${node} ${msg.rid}`, rec);
        rec.legs.push({ node: out.to, standsInFor: msg.type === 'store' ? (msg.hintFor ?? null) : null, self: false, askedMs: this.now(), answeredMs: null, counted: false, values: null, repairedMs: null });
        if (msg.type === 'fetch') this.tell(node, `asks ${out.to} for its copy of ${rec.key}`);
        else this.tell(node, msg.hintFor === undefined ? `sends the new version to home replica ${out.to}` : `home replica ${msg.hintFor} is down: sends the new version to stand-in ${out.to}, to keep as a hint (sloppy quorum)`, msg.hintFor === undefined ? undefined : 'warn');
        return;
      case 'repair':
        return this.onRepairSent(node, input, out.to, msg);
      case 'hint':
        if (this.offered.has(msg.id)) return;
        this.offered.add(msg.id);
        this.tell(node, `hands its hint for ${msg.key} to ${out.to}`);
        return;
      default:
        return;
    }
  }

  /** Fault lines from the simulator's trace, for the story. */
  onTrace(e: TraceEvent): void {
    switch (e.ev) {
      case 'crash':
        return this.tell(e.node, 'crashes', 'bad');
      case 'restart':
        return this.tell(e.node, `restarts from its disk (${e.replayedOps} ops replayed)`, 'good');
      case 'partition':
        return this.tell('network', `is partitioned (${e.cuts.length} one-way links cut)`, 'warn');
      case 'heal':
        return this.tell('network', 'heals', 'good');
      case 'pause':
        return this.tell(e.node, `is paused for ${e.ms} ms`, 'warn');
      default:
        return;
    }
  }

  // ---------------------------------------------------------------- helpers

  /** A read's coordinator answers from its own copy at once when it is a home replica (or a stand-in with hints). */
  private startRead(rec: TrackedRequest, node: NodeId, core: QuorumNode, n: number): void {
    rec.coordinator = node;
    if (!core.preferenceList(rec.key, n).slice(0, n).includes(node)) return;
    let state: KeyState | undefined = core.stateOf(rec.key);
    for (const h of core.hints()) if (h.key === rec.key) state = state === undefined ? h.state : mergeStates(state, h.state);
    const values = liveValues(state);
    const now = this.now();
    rec.legs.push({ node, standsInFor: null, self: true, askedMs: now, answeredMs: now, counted: true, values, repairedMs: null });
    this.tell(node, `coordinates the read; its own copy counts: ${values.length === 0 ? 'nothing' : values.join(' | ')} (1 of R=${rec.needed})`);
  }

  private onReply(node: NodeId, requestId: string, response: QuorumResponse): void {
    const rec = this.byRequestId.get(requestId);
    if (rec !== undefined) this.decide(rec, node, response);
  }

  private decide(rec: TrackedRequest, node: NodeId, response: QuorumResponse): void {
    if (rec.decidedMs !== null) return;
    rec.decidedMs = this.now();
    this.tell(node, `answers ${rec.client === '' ? 'the client' : rec.client}: ${responseLabel(response)}`, response.ok ? 'good' : 'warn');
  }

  private onPersist(node: NodeId, input: QuorumInput, op: QuorumPersistOp): void {
    this.persists++;
    if (op.op === 'state') this.noteDots(node, op.key, op.state);
    else if (op.op === 'hint') this.noteDots(node, op.hint.key, op.hint.state);
    const now = this.now();
    switch (op.op) {
      case 'state': {
        const rec = this.stepRequest;
        if (rec !== undefined && WRITES.includes(rec.op) && op.key === rec.key && rec.coordinator === null) {
          // the coordinator's own durable copy: it counts toward W at once
          rec.coordinator = node;
          rec.legs.push({ node, standsInFor: null, self: true, askedMs: now, answeredMs: now, counted: true, values: null, repairedMs: null });
          this.tell(node, `coordinates: writes the new version on its own copy (now ${versionsLabel(op.state)}): 1 of W=${rec.needed}`);
          return;
        }
        if (input.kind !== 'message') return;
        const msg = input.msg;
        if (msg.type === 'repair') {
          const kind = this.repairKind.get(msg) ?? 'anti-entropy';
          this.repairs.push({ kind, node, from: input.from, key: op.key, atMs: now });
          this.tell(node, `${kind === 'read' ? 'read repair' : 'anti-entropy'} from ${input.from} updates its copy of ${op.key}: ${versionsLabel(op.state)}`, 'good');
        } else if (msg.type === 'hint') {
          this.tell(node, `takes the hint from ${input.from}: its copy of ${op.key} is now ${versionsLabel(op.state)}`, 'good');
        } else if (msg.type === 'fetched') {
          // a read's coordinator that answered with less than the merge repairs itself
          const rec2 = this.byRid.get(`${node} ${msg.rid}`);
          const self = rec2?.legs.find((l) => l.self);
          if (rec2 !== undefined && self !== undefined && op.key === rec2.key) {
            self.repairedMs = now;
            this.repairs.push({ kind: 'read', node, from: node, key: op.key, atMs: now });
            this.tell(node, `read repair: updates its own copy of ${op.key}: ${versionsLabel(op.state)}`, 'good');
          }
        }
        return;
      }
      case 'hint': {
        if (this.hintById.has(op.hint.id)) return;
        const hint: ParkedHint = { id: op.hint.id, holder: node, target: op.hint.target, key: op.hint.key, parkedMs: now, deliveredMs: null, expiredMs: null };
        this.hintById.set(hint.id, hint);
        this.hints.push(hint);
        const rec = this.requestOfHint(node, input, op.hint.key);
        rec?.hints.push({ holder: node, target: op.hint.target });
        this.tell(node, `parks a hint for ${op.hint.target}: ${op.hint.key} = ${versionsLabel(op.hint.state)}`, 'warn');
        return;
      }
      case 'hint-done': {
        const hint = this.hintById.get(op.id);
        if (hint === undefined) return;
        const delivered = input.kind === 'message' && input.msg.type === 'hint-ack';
        if (delivered) hint.deliveredMs = now;
        else hint.expiredMs = now;
        this.tell(node, delivered ? `drops its hint for ${hint.target} (${hint.key}): ${hint.target} acknowledged it` : `drops its hint for ${hint.target} (${hint.key}): older than the hint window`, delivered ? 'good' : 'bad');
        return;
      }
      default:
        return;
    }
  }

  /** Every sibling's dot must keep naming the value it named when first seen, on every node. */
  private noteDots(node: NodeId, key: string, state: KeyState): void {
    if (state.kind !== 'dvv') return;
    for (const s of state.siblings) {
      const name = `${key}\u0000${s.dot.actor}:${s.dot.counter}`;
      const seen = this.dotValues.get(name);
      if (seen === undefined) this.dotValues.set(name, s.value);
      else if (seen !== s.value) this.dotConflicts.push(`dot ${s.dot.actor}:${s.dot.counter} of ${key} names ${JSON.stringify(seen)} and, on ${node}, ${JSON.stringify(s.value)}`);
    }
  }

  /** The write a new hint belongs to: the request under way, the stand-in's store, or (at a timeout) the coordinator's latest write of the key. */
  private requestOfHint(node: NodeId, input: QuorumInput, key: string): TrackedRequest | undefined {
    if (this.stepRequest !== undefined) return this.stepRequest;
    if (input.kind === 'message' && input.msg.type === 'store') return this.byRid.get(`${input.from} ${input.msg.rid}`);
    if (input.kind === 'tick') return this.latest(node, key, (r) => WRITES.includes(r.op));
    return undefined;
  }

  private latest(coordinator: NodeId, key: string, accept: (r: TrackedRequest) => boolean): TrackedRequest | undefined {
    const since = this.now() - 3 * this.config.requestTimeoutMs;
    for (let i = this.requests.length - 1; i >= 0; i--) {
      const r = this.requests[i] as TrackedRequest;
      if (r.startMs < since) break;
      if (r.coordinator === coordinator && r.key === key && accept(r)) return r;
    }
    return undefined;
  }

  private onRepairSent(node: NodeId, input: QuorumInput, to: NodeId, msg: Extract<QuorumMessage, { type: 'repair' }>): void {
    if (input.kind === 'message' && input.msg.type === 'ae') {
      this.repairKind.set(msg, 'anti-entropy');
      this.tell(node, `anti-entropy with ${to}: their Merkle trees differ in ${msg.states.length} key(s); pushes ${msg.states.map(([k]) => k).join(', ')}`);
      return;
    }
    // read repair: sent when the last asked replica answered (or at the read's deadline)
    this.repairKind.set(msg, 'read');
    const [entry] = msg.states;
    if (entry === undefined) return;
    const key = entry[0];
    const rec = input.kind === 'message' && input.msg.type === 'fetched' ? this.byRid.get(`${node} ${input.msg.rid}`) : this.latest(node, key, (r) => r.op === 'get');
    const leg = rec?.legs.find((l) => l.node === to);
    if (leg !== undefined) leg.repairedMs = this.now();
    this.tell(node, `read repair: ${to} answered with less than the merge; sends it ${key} = ${versionsLabel(entry[1])}`, 'warn');
  }
}
