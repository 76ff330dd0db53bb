// Follows what the members of a gossip stage do, from the watcher's reports (observe.ts): each
// member's probes (a direct ping, its escalation to ping-req through k members, the acks and nacks,
// failed probes turning into suspicions), the suspicions, deaths and refutations as they spread
// (when the first member held a state, when every live member did), a rumour's spread (when each
// member learned a metadata change, and from which message), and a short story. Read-only: it
// never changes a member.
import type { NodeId } from '../../core/index.js';
import type { GossipCrdtNode, GossipNodeMessage } from '../crdt-node.js';
import type { MemberState } from '../messages.js';
import type { GossipInput, GossipWatcher } from './observe.js';

export type StoryTone = 'good' | 'bad' | 'warn' | 'dim';

export interface StoryLine {
  readonly atMs: number;
  readonly who: string;
  readonly text: string;
  readonly tone?: StoryTone;
}

/** One probe a member started: its direct ping, and what became of it. */
export interface ProbeRecord {
  readonly prober: NodeId;
  readonly target: NodeId;
  readonly seq: number;
  readonly startedMs: number;
  /** When the direct ping's ack was late and the prober sent ping-reqs (null: it was not). */
  escalatedMs: number | null;
  /** The members asked to probe the target (ping-req). */
  readonly relays: NodeId[];
  /** Relays that answered nack: they could not reach the target either. */
  readonly nacks: NodeId[];
  /** When an ack came (from the target, or passed on by a relay); null: none yet. */
  ackedMs: number | null;
  ackedVia: NodeId | null;
  /** When the probe interval ended (the next probe started); null while it runs. */
  endedMs: number | null;
}

/** One rumour followed: a member's metadata change, and when each member learned it. */
export interface RumourRecord {
  readonly origin: NodeId;
  readonly incarnation: number;
  readonly meta: string;
  readonly startMs: number;
  /** Member → when it learned the update and from what (a message type, or "request" for the origin). */
  readonly learned: Map<NodeId, { readonly atMs: number; readonly via: string }>;
}

/** A state of one member (subject) at one incarnation, as the others came to hold it. */
export interface Milestone {
  readonly subject: NodeId;
  readonly state: MemberState;
  readonly incarnation: number;
  readonly first: NodeId;
  readonly firstMs: number;
  readonly holders: Set<NodeId>;
  /** When every live member (but the subject) had held it; null: not yet. */
  allMs: number | null;
}

/** Lines of the story kept (the oldest are dropped). */
const STORY_KEPT = 300;
/** Probes kept per member (the oldest are dropped), and escalated probes kept in all. */
const PROBES_KEPT = 4;
const ESCALATIONS_KEPT = 200;

interface Seen {
  core: GossipCrdtNode;
  events: number;
  refutations: number;
  suspicionsStarted: number;
  deadDeclared: number;
}

export class GossipTracker implements GossipWatcher {
  readonly story: StoryLine[] = [];
  storyCount = 0;
  /** Each member's latest probes, newest last. */
  readonly probes = new Map<NodeId, ProbeRecord[]>();
  /** Probes that went indirect (ping-req), oldest first. */
  readonly escalations: ProbeRecord[] = [];
  /** Every rumour followed, oldest first; the last is the one shown. */
  readonly rumours: RumourRecord[] = [];
  /** By `${subject}|${state}|${incarnation}`: suspicions, deaths, leaves and returns as they spread. */
  readonly milestones = new Map<string, Milestone>();
  /** Sums over every life of every member. */
  readonly totals = { suspicionsStarted: 0, refutations: 0, deadDeclared: 0 };
  private readonly seen = new Map<NodeId, Seen>();
  /** Members some milestone is about: their alive updates are followed too (a return, a refutation). */
  private readonly watched = new Set<NodeId>();
  private readonly toldEscalation = new WeakSet<ProbeRecord>();

  constructor(
    private readonly now: () => number,
    /** The members up and in the group now. */
    private readonly live: () => readonly NodeId[],
  ) {}

  get rumour(): RumourRecord | undefined {
    return this.rumours[this.rumours.length - 1];
  }

  /** The member's probe under way (or its last one). */
  currentProbe(node: NodeId): ProbeRecord | undefined {
    const list = this.probes.get(node);
    return list?.[list.length - 1];
  }

  tell(who: string, text: string, tone?: StoryTone): void {
    this.story.push(tone === undefined ? { atMs: this.now(), who, text } : { atMs: this.now(), who, text, tone });
    this.storyCount++;
    if (this.story.length > STORY_KEPT) this.story.splice(0, this.story.length - STORY_KEPT);
  }

  // ---------------------------------------------------------------- the watcher

  input(node: NodeId, _core: GossipCrdtNode, input: GossipInput): void {
    if (input.kind !== 'message') return;
    const msg = input.msg;
    if (msg.type !== 'ack' && msg.type !== 'nack') return;
    const probe = this.currentProbe(node);
    if (probe === undefined || probe.seq !== msg.seq || probe.endedMs !== null) return;
    if (msg.type === 'nack') {
      if (!probe.nacks.includes(input.from)) probe.nacks.push(input.from);
      if (probe.escalatedMs !== null) this.tell(node, `${input.from} answers nack: it could not reach ${probe.target} either`, 'dim');
    } else if (probe.ackedMs === null) {
      probe.ackedMs = this.now();
      probe.ackedVia = input.from;
      if (probe.escalatedMs !== null) this.tell(node, input.from === probe.target ? `${probe.target} acks at last (late)` : `${input.from} passes on ${probe.target}'s ack: ${probe.target} is reachable`, 'good');
    }
  }

  sent(node: NodeId, _core: GossipCrdtNode, input: GossipInput, to: NodeId, msg: GossipNodeMessage): void {
    if (msg.type === 'ping' && !(input.kind === 'message' && input.msg.type === 'ping-req')) {
      // a ping not sent for a ping-req: this member's own probe starts
      const list = this.probes.get(node) ?? [];
      const previous = list[list.length - 1];
      if (previous !== undefined && previous.endedMs === null) previous.endedMs = this.now();
      list.push({ prober: node, target: msg.target, seq: msg.seq, startedMs: this.now(), escalatedMs: null, relays: [], nacks: [], ackedMs: null, ackedVia: null, endedMs: null });
      if (list.length > PROBES_KEPT) list.shift();
      this.probes.set(node, list);
      return;
    }
    if (msg.type === 'ping-req') {
      const probe = this.currentProbe(node);
      if (probe === undefined || probe.seq !== msg.seq) return;
      if (probe.escalatedMs === null) {
        probe.escalatedMs = this.now();
        this.escalations.push(probe);
        if (this.escalations.length > ESCALATIONS_KEPT) this.escalations.shift();
      }
      probe.relays.push(to);
    }
  }

  handled(node: NodeId, core: GossipCrdtNode, input: GossipInput): void {
    const seen = this.seenFor(node, core);
    const membership = core.swim.membership;
    const probe = this.currentProbe(node);
    // a probe just escalated: tell it once, with all its relays (they were sent in this step)
    if (probe !== undefined && probe.escalatedMs !== null && probe.relays.length > 0 && !this.toldEscalation.has(probe)) {
      this.toldEscalation.add(probe);
      this.tell(node, `no ack from ${probe.target} within the probe timeout: asks ${probe.relays.join(', ')} to probe it (ping-req)`, 'warn');
    }
    const stats = membership.stats;
    if (stats.suspicionsStarted > seen.suspicionsStarted) {
      this.totals.suspicionsStarted += stats.suspicionsStarted - seen.suspicionsStarted;
      const failed = this.failedProbe(node);
      if (failed !== undefined) {
        const how = failed.escalatedMs === null ? 'no ack' : `no ack, directly or through ${failed.relays.length} member(s)${failed.nacks.length > 0 ? ` (${failed.nacks.length} nack(s): the relays could not reach it either)` : ''}`;
        this.tell(node, `suspects ${failed.target}: its probe got ${how}`, 'warn');
      }
    }
    if (stats.refutations > seen.refutations) {
      this.totals.refutations += stats.refutations - seen.refutations;
      this.tell(node, `refutes: it is alive, and says so at a higher incarnation, ${core.swim.incarnation}`, 'good');
    }
    const declared = stats.deadDeclared > seen.deadDeclared;
    if (declared) this.totals.deadDeclared += stats.deadDeclared - seen.deadDeclared;
    const logged = membership.table.eventsLogged;
    if (logged > seen.events) this.readEvents(node, core, logged - seen.events, declared);
    seen.events = logged;
    seen.refutations = stats.refutations;
    seen.suspicionsStarted = stats.suspicionsStarted;
    seen.deadDeclared = stats.deadDeclared;
    this.followRumour(node, core, input);
  }

  /** The probe of this member that just ended without an ack (the one before the current, or the current one). */
  private failedProbe(node: NodeId): ProbeRecord | undefined {
    const list = this.probes.get(node) ?? [];
    for (let i = list.length - 1; i >= 0; i--) {
      const p = list[i] as ProbeRecord;
      if (p.endedMs !== null && p.ackedMs === null) return p;
    }
    return undefined;
  }

  private seenFor(node: NodeId, core: GossipCrdtNode): Seen {
    let seen = this.seen.get(node);
    if (seen === undefined || seen.core !== core) {
      // a new life: its counters start again
      seen = { core, events: 0, refutations: 0, suspicionsStarted: 0, deadDeclared: 0 };
      this.seen.set(node, seen);
    }
    return seen;
  }

  private readEvents(node: NodeId, core: GossipCrdtNode, count: number, declared: boolean): void {
    const events = core.swim.events();
    for (let i = Math.max(0, events.length - count); i < events.length; i++) {
      const e = events[i] as (typeof events)[number];
      if (e.state === 'alive' && !this.watched.has(e.member)) continue;
      this.milestone(node, e.member, e.state, e.incarnation, declared && e.state === 'dead');
    }
  }

  private milestone(holder: NodeId, subject: NodeId, state: MemberState, incarnation: number, declaredHere: boolean): void {
    const key = `${subject}|${state}|${incarnation}`;
    let m = this.milestones.get(key);
    if (m === undefined) {
      m = { subject, state, incarnation, first: holder, firstMs: this.now(), holders: new Set([holder]), allMs: null };
      this.milestones.set(key, m);
      this.watched.add(subject);
      if (state === 'dead') this.tell(holder, declaredHere ? `declares ${subject} dead: the suspicion ran out unrefuted` : `holds ${subject} dead`, 'bad');
      else if (state === 'left') this.tell(holder, `learns that ${subject} left`, 'dim');
      else if (state === 'alive') this.tell(holder, `holds ${subject} alive again, at incarnation ${incarnation}`, 'good');
      else if (holder !== this.lastSuspecter(subject)) this.tell(holder, `holds ${subject} suspect (learned from gossip)`, 'dim');
    } else {
      m.holders.add(holder);
    }
    if (m.allMs === null && this.everyoneHolds(m)) {
      m.allMs = this.now();
      this.tell('all', `every live member has held ${subject} ${state}${state === 'alive' ? ` at incarnation ${incarnation}` : ''} (${m.allMs - m.firstMs} ms after the first)`, state === 'dead' ? 'bad' : state === 'alive' ? 'good' : 'warn');
    }
  }

  /** The member whose own probe last turned into a suspicion of `subject` (its line says so already). */
  private lastSuspecter(subject: NodeId): NodeId | undefined {
    for (let i = this.story.length - 1; i >= 0 && i >= this.story.length - 4; i--) {
      const line = this.story[i] as StoryLine;
      if (line.text.startsWith(`suspects ${subject}:`)) return line.who;
    }
    return undefined;
  }

  private everyoneHolds(m: Milestone): boolean {
    const live = this.live();
    if (m.holders.size < live.length - 1) return false;
    for (const id of live) if (id !== m.subject && !m.holders.has(id)) return false;
    return true;
  }

  // ---------------------------------------------------------------- rumours

  private followRumour(node: NodeId, core: GossipCrdtNode, input: GossipInput): void {
    if (input.kind === 'request' && input.request.op === 'set-meta') {
      const self = core.swim.member(node);
      if (self !== undefined && self.meta === input.request.meta && !this.rumours.some((r) => r.origin === node && r.incarnation === self.incarnation)) {
        const learned = new Map([[node, { atMs: this.now(), via: 'request' }]]);
        this.rumours.push({ origin: node, incarnation: self.incarnation, meta: self.meta, startMs: this.now(), learned });
        this.tell(node, `changes its metadata to ${JSON.stringify(self.meta)} (incarnation ${self.incarnation}): news to spread`, 'good');
      }
      return;
    }
    const r = this.rumour;
    if (r === undefined || r.learned.has(node)) return;
    const record = core.swim.member(r.origin);
    if (record === undefined || record.incarnation < r.incarnation) return;
    r.learned.set(node, { atMs: this.now(), via: input.kind === 'message' ? input.msg.type : input.kind });
    const live = this.live();
    if (r.learned.size >= live.length && live.every((id) => r.learned.has(id))) {
      this.tell('all', `every live member has ${r.origin}'s update (${this.now() - r.startMs} ms after the change)`, 'good');
    }
  }
}
