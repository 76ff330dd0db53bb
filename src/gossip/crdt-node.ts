// A SWIM member that also keeps a document of named CRDTs on gossip, as a sans-I/O core: local
// changes are persisted, answered, and spread as deltas infection-style (each retransmitted
// λ·log N times to random live members, like membership updates), and a periodic full-state
// exchange with a random member repairs whatever the rumours missed (loss, partitions, joins).
import { assertInvariant, type CoreEnv, type Effects, type NodeId, type ProtocolCore, type ProtocolSpec } from '../core/index.js';
import { CRDT_DOC, docChangeProblem, docEntry, docGrows, docMutate, docRead, type CrdtDocState, type DocChange, type DocEntryView } from '../crdt/doc.js';
import { isCrdtError } from '../crdt/errors.js';
import { OR_SET, orSetHas } from '../crdt/or-set.js';
import { resolveGossipConfig, type GossipConfig } from './config.js';
import type { GossipMessage, GossipPersistOp, GossipRequest, GossipResponse, MemberView } from './messages.js';
import { SwimNode, type SwimOptions } from './swim.js';

export type CrdtGossipMessage =
  /** Rumour: the join of a few recent deltas. */
  | { readonly type: 'crdt-delta'; readonly doc: CrdtDocState }
  /** Push-pull: the sender's whole document; `reply`: answer with yours. */
  | { readonly type: 'crdt-sync'; readonly reply: boolean; readonly doc: CrdtDocState };

export type GossipNodeMessage = GossipMessage | CrdtGossipMessage;

export type GossipNodeRequest =
  | GossipRequest
  /** The entries named `name` (every kind), or the whole document. */
  | { readonly op: 'crdt-get'; readonly name?: string }
  | { readonly op: 'crdt-change'; readonly change: DocChange };

export type GossipNodeResponse =
  | GossipResponse
  | { readonly ok: true; readonly op: 'crdt-get'; readonly entries: readonly DocEntryView[] }
  /** The changed entry as this node holds it after the change (durable here); for a set change, whether the element was present before. */
  | { readonly ok: true; readonly op: 'crdt-change'; readonly entries: readonly DocEntryView[]; readonly wasPresent?: boolean };

export type GossipNodePersistOp =
  | GossipPersistOp
  /** A local change (remote deltas are soft state: peers give them back after a restart). */
  | { readonly op: 'crdt-delta'; readonly replica: string; readonly delta: CrdtDocState }
  /** The whole document and the node's own record: every earlier op is redundant. */
  | { readonly op: 'crdt-snapshot'; readonly replica: string; readonly incarnation: number; readonly meta: string; readonly doc: CrdtDocState };

export interface CrdtGossipOptions extends SwimOptions {
  /** Between two full-document exchanges with a random live member; default the config's pushPullIntervalMs. */
  readonly crdtSyncIntervalMs?: number;
  /** Deltas waiting to be retransmitted at most (the oldest are dropped: the full exchange covers them). */
  readonly maxQueuedDeltas?: number;
  /** Deltas joined into one rumour at most. */
  readonly deltasPerMessage?: number;
  /** Local changes persisted one by one before the whole document is written again (bounds replay). */
  readonly snapshotEveryChanges?: number;
}

export interface CrdtGossipStats {
  crdtDeltasSent: number;
  crdtSyncsSent: number;
  crdtBadMessages: number;
  crdtChanges: number;
  crdtQueued: number;
}

type Fx = Effects<GossipNodeMessage, GossipNodePersistOp, GossipNodeResponse>;

interface QueuedDelta {
  readonly delta: CrdtDocState;
  sent: number;
}

const DEFAULTS = { maxQueuedDeltas: 1_024, deltasPerMessage: 16, snapshotEveryChanges: 256 } as const;

export class GossipCrdtNode implements ProtocolCore<GossipNodeMessage, GossipNodeRequest, GossipNodeResponse, GossipNodePersistOp> {
  readonly swim: SwimNode;
  /** The id this node's CRDT changes carry: fresh for a life that recovered none, so that a node restarted without its disk never reuses a dot. */
  readonly replica: string;
  private current: CrdtDocState;
  private readonly queue: QueuedDelta[] = [];
  private readonly syncIntervalMs: number;
  private readonly options: Required<Omit<CrdtGossipOptions, 'crdtSyncIntervalMs' | keyof SwimOptions>>;
  private nextGossipMs: number;
  private nextSyncMs: number;
  private lastMs: number;
  private changesSinceSnapshot = 0;
  /** Grows by one with every change of the document (local or learned): what subscribers compare. */
  private version = 0;
  private readonly counters = { crdtDeltasSent: 0, crdtSyncsSent: 0, crdtBadMessages: 0, crdtChanges: 0 };

  constructor(
    private readonly env: CoreEnv,
    readonly config: GossipConfig,
    durable: readonly GossipNodePersistOp[],
    options: CrdtGossipOptions = {},
  ) {
    const swimOps: GossipPersistOp[] = [];
    let doc = CRDT_DOC.empty();
    let replica: string | undefined;
    for (const op of durable) {
      if (op.op === 'self') swimOps.push(op);
      else if (op.op === 'crdt-delta') {
        doc = CRDT_DOC.join(doc, op.delta);
        replica = op.replica;
      } else {
        swimOps.push({ op: 'self', incarnation: op.incarnation, meta: op.meta });
        doc = op.doc;
        replica = op.replica;
      }
    }
    this.swim = new SwimNode(env, config, swimOps, options.startingView === undefined ? {} : { startingView: options.startingView });
    this.current = doc;
    this.replica = replica ?? `${env.id}.${Math.floor(env.random() * 36 ** 6).toString(36)}`;
    this.syncIntervalMs = options.crdtSyncIntervalMs ?? config.pushPullIntervalMs;
    this.options = {
      maxQueuedDeltas: options.maxQueuedDeltas ?? DEFAULTS.maxQueuedDeltas,
      deltasPerMessage: options.deltasPerMessage ?? DEFAULTS.deltasPerMessage,
      snapshotEveryChanges: options.snapshotEveryChanges ?? DEFAULTS.snapshotEveryChanges,
    };
    assertInvariant(this.syncIntervalMs >= 0 && this.options.maxQueuedDeltas > 0 && this.options.deltasPerMessage > 0 && this.options.snapshotEveryChanges > 0, () => 'CRDT gossip options out of range');
    this.lastMs = env.now();
    this.nextGossipMs = this.lastMs + config.gossipIntervalMs;
    this.nextSyncMs = this.lastMs + Math.floor(env.random() * Math.max(1, this.syncIntervalMs));
  }

  // ---------------------------------------------------------------- reading the node

  get id(): NodeId {
    return this.env.id;
  }

  doc(): CrdtDocState {
    return this.current;
  }

  /** The application's view: entries named `name`, or all. */
  read(name?: string): DocEntryView[] {
    return docRead(this.current, name);
  }

  /** Changes seen so far (local and learned); a subscriber compares it with the last it saw. */
  docVersion(): number {
    return this.version;
  }

  members(): MemberView[] {
    return this.swim.members();
  }

  get crdtStats(): CrdtGossipStats {
    return { ...this.counters, crdtQueued: this.queue.length };
  }

  // ---------------------------------------------------------------- inputs

  start(fx: Fx): void {
    this.swim.start(fx);
    // the seeds' documents, as the seeds get the member list
    for (const seed of new Set(this.env.members)) if (seed !== this.id) fx.send(seed, { type: 'crdt-sync', reply: true, doc: this.current });
  }

  handleTick(fx: Fx): void {
    this.swim.handleTick(fx);
    const now = this.clock();
    if (now >= this.nextGossipMs) {
      this.nextGossipMs = now + this.config.gossipIntervalMs;
      this.rumourRound(fx);
    }
    if (this.syncIntervalMs > 0 && now >= this.nextSyncMs) {
      this.nextSyncMs = now + this.syncIntervalMs;
      const [to] = this.pick(this.liveIds(), 1);
      if (to !== undefined) {
        this.counters.crdtSyncsSent++;
        fx.send(to, { type: 'crdt-sync', reply: true, doc: this.current });
      }
    }
  }

  handleMessage(from: NodeId, msg: GossipNodeMessage, fx: Fx): void {
    if (msg.type !== 'crdt-delta' && msg.type !== 'crdt-sync') return this.swim.handleMessage(from, msg, fx);
    let doc: CrdtDocState;
    try {
      // a peer may be buggy, old or hostile: its document is checked field by field first
      doc = CRDT_DOC.decode((msg as { doc?: unknown }).doc);
      if (msg.type === 'crdt-sync' && typeof msg.reply !== 'boolean') throw new Error('crdt-sync needs reply');
    } catch (err) {
      this.counters.crdtBadMessages++;
      return fx.annotate('lastBadMessage', `${from}: ${isCrdtError(err) || err instanceof Error ? err.message : 'bad CRDT message'}`);
    }
    if (msg.type === 'crdt-delta') {
      // only what is news travels on, so a rumour dies out once everyone has it
      if (docGrows(this.current, doc)) {
        this.learn(doc, fx);
        this.enqueue(doc);
      }
      return;
    }
    if (docGrows(this.current, doc)) this.learn(doc, fx);
    if (msg.reply) {
      this.counters.crdtSyncsSent++;
      fx.send(from, { type: 'crdt-sync', reply: false, doc: this.current });
    }
  }

  handleRequest(requestId: string, request: GossipNodeRequest, fx: Fx): void {
    if (typeof request !== 'object' || request === null) return fx.reply(requestId, { ok: false, code: 'GOSSIP_BAD_REQUEST', message: 'a request is an object' });
    if (request.op === 'crdt-get') {
      const name = (request as { name?: unknown }).name;
      if (name !== undefined && typeof name !== 'string') return fx.reply(requestId, { ok: false, code: 'GOSSIP_BAD_REQUEST', message: 'name is a string' });
      return fx.reply(requestId, { ok: true, op: 'crdt-get', entries: this.read(name) });
    }
    if (request.op === 'crdt-change') return this.change(requestId, (request as { change?: unknown }).change, fx);
    this.swim.handleRequest(requestId, request, fx);
  }

  // ---------------------------------------------------------------- changes

  private change(requestId: string, change: unknown, fx: Fx): void {
    const problem = docChangeProblem(change);
    if (problem !== undefined) return fx.reply(requestId, { ok: false, code: 'GOSSIP_BAD_REQUEST', message: problem });
    const c = change as DocChange;
    const wasPresent = c.kind === 'set' ? orSetHas(docEntry(this.current, 'set', c.name) ?? OR_SET.empty(), c.element) : undefined;
    let delta: CrdtDocState;
    try {
      delta = docMutate(this.current, this.replica, c);
    } catch (err) {
      if (!isCrdtError(err)) throw err;
      return fx.reply(requestId, { ok: false, code: 'GOSSIP_BAD_REQUEST', message: err.message });
    }
    this.current = CRDT_DOC.join(this.current, delta);
    this.counters.crdtChanges++;
    this.persistChange(delta, fx);
    this.bump(fx);
    // the reply and the rumours leave after the change is durable (persist before you speak)
    fx.reply(requestId, { ok: true, op: 'crdt-change', entries: this.read(c.name).filter((e) => e.kind === c.kind), ...(wasPresent === undefined ? {} : { wasPresent }) });
    this.enqueue(delta);
  }

  private persistChange(delta: CrdtDocState, fx: Fx): void {
    if (++this.changesSinceSnapshot < this.options.snapshotEveryChanges) return fx.persist({ op: 'crdt-delta', replica: this.replica, delta });
    this.changesSinceSnapshot = 0;
    const self = this.swim.member(this.id);
    fx.persist({ op: 'crdt-snapshot', replica: this.replica, incarnation: this.swim.incarnation, meta: self?.meta ?? '', doc: this.current });
  }

  private learn(doc: CrdtDocState, fx: Fx): void {
    this.current = CRDT_DOC.join(this.current, doc);
    this.bump(fx);
  }

  private bump(fx: Fx): void {
    this.version++;
    fx.annotate('crdtVersion', this.version);
  }

  private enqueue(delta: CrdtDocState): void {
    this.queue.push({ delta, sent: 0 });
    if (this.queue.length > this.options.maxQueuedDeltas) this.queue.shift();
  }

  /** Sends the least-sent queued deltas, joined, to gossipNodes random live members; drops those sent λ·log N times. */
  private rumourRound(fx: Fx): void {
    if (this.queue.length === 0) return;
    const limit = this.swim.membership.retransmitLimit();
    for (const to of this.pick(this.liveIds(), this.config.gossipNodes)) {
      this.queue.sort((a, b) => a.sent - b.sent);
      let doc = CRDT_DOC.empty();
      const take = Math.min(this.options.deltasPerMessage, this.queue.length);
      for (let i = 0; i < take; i++) {
        const item = this.queue[i] as QueuedDelta;
        doc = CRDT_DOC.join(doc, item.delta);
        item.sent++;
      }
      this.counters.crdtDeltasSent++;
      fx.send(to, { type: 'crdt-delta', doc });
      for (let i = this.queue.length - 1; i >= 0; i--) if ((this.queue[i] as QueuedDelta).sent >= limit) this.queue.splice(i, 1);
      if (this.queue.length === 0) return;
    }
  }

  // ---------------------------------------------------------------- helpers

  private clock(): number {
    // monotonic: a clock stepping back does not hold timers back forever
    this.lastMs = Math.max(this.lastMs, this.env.now());
    return this.lastMs;
  }

  private liveIds(): NodeId[] {
    const ids: NodeId[] = [];
    for (const m of this.swim.members()) if (m.id !== this.id && (m.state === 'alive' || m.state === 'suspect')) ids.push(m.id);
    return ids;
  }

  private pick(items: NodeId[], count: number): NodeId[] {
    const n = Math.min(count, items.length);
    for (let i = 0; i < n; i++) {
      const j = i + Math.floor(this.env.random() * (items.length - i));
      [items[i], items[j]] = [items[j] as NodeId, items[i] as NodeId];
    }
    return items.slice(0, n);
  }
}

/** The SWIM core with a CRDT document as a protocol spec; `config` is checked (and filled from the LAN preset) here. */
export function gossipCrdtSpec(
  config: Partial<GossipConfig> = {},
  base?: GossipConfig,
  options: CrdtGossipOptions = {},
): ProtocolSpec<GossipNodeMessage, GossipNodeRequest, GossipNodeResponse, GossipNodePersistOp, GossipCrdtNode> {
  const resolved = resolveGossipConfig(config, base);
  return {
    name: 'swim-crdt',
    tickIntervalMs: resolved.tickIntervalMs,
    create: (env, durable) => new GossipCrdtNode(env, resolved, durable, options),
    supersedesEarlier: (op) => op.op === 'crdt-snapshot',
  };
}
