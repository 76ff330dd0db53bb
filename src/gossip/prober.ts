// SWIM's failure detector with Lifeguard's changes: one probe per (health-scaled) probe interval,
// a direct ping first, ping-reqs through `indirectChecks` members when its ack is late, and the
// verdict at the end of the interval; and the relay side, which pings for others and answers
// nack when the target stays silent, so the asker can tell its own slowness from the target's.
import type { NodeId } from '../core/index.js';
import type { GossipConfig } from './config.js';
import { AWARENESS_DELTA } from './lifeguard.js';
import type { MemberRecord } from './members.js';
import type { Membership } from './membership.js';
import type { GossipMessage, MemberUpdate } from './messages.js';

/** Ping-reqs relayed at once; the oldest is dropped beyond (a relay lasts one probe interval). */
const MAX_RELAYS = 256;
/** A relay says nack when this share of its probe timeout passed without an ack (memberlist's 80%). */
const NACK_AT_SHARE = 0.8;

/** Where messages go: the node's effects (an object, so that no closure is made per input). */
interface Sender {
  send(to: NodeId, msg: GossipMessage): void;
}

interface Probe {
  readonly target: NodeId;
  readonly seq: number;
  readonly startedMs: number;
  readonly timeoutMs: number;
  acked: boolean;
  indirectSent: boolean;
  intermediaries: readonly NodeId[];
  readonly nacksFrom: Set<NodeId>;
}

interface Relay {
  readonly origin: NodeId;
  readonly originSeq: number;
  readonly target: NodeId;
  nackAtMs: number | undefined;
  readonly expiresMs: number;
}

export class Prober {
  probes = 0;
  probesFailed = 0;
  private probe: Probe | undefined;
  private readonly relays = new Map<number, Relay>();
  /** Starts at a random offset each life: an ack to the last life's probe must not match this one's. */
  private seq: number;
  private nextProbeMs: number;

  constructor(
    private readonly id: NodeId,
    private readonly config: GossipConfig,
    private readonly membership: Membership,
    /** What to piggyback on a message to a member. */
    private readonly piggyback: (to: NodeId) => MemberUpdate[],
    /** Up to `count` distinct random members other than this node that `keep` accepts. */
    private readonly sample: (count: number, keep: (r: MemberRecord) => boolean) => NodeId[],
    firstProbeMs: number,
    firstSeq: number,
  ) {
    this.nextProbeMs = firstProbeMs;
    this.seq = firstSeq;
  }

  /** Starts, escalates and judges probes as their times come. */
  tick(now: number, out: Sender): void {
    const probe = this.probe;
    if (probe !== undefined && !probe.acked && !probe.indirectSent && now >= probe.startedMs + probe.timeoutMs) this.sendIndirect(probe, out);
    if (now < this.nextProbeMs) return;
    if (probe !== undefined) this.finish(probe, now);
    this.probe = undefined;
    this.start(now, out);
    this.nextProbeMs = now + this.membership.awareness.scale(this.config.probeIntervalMs);
  }

  /** Drops the probe under way without a verdict (this node stood still, or left), and waits a full interval. */
  abandon(now: number): void {
    this.probe = undefined;
    this.nextProbeMs = now + this.membership.awareness.scale(this.config.probeIntervalMs);
  }

  private start(now: number, out: Sender): void {
    const m = this.membership;
    const target = m.order.next(() => m.table.idsIncludingForgotten(), (id) => id !== this.id && isLive(m.table.get(id)));
    if (target === undefined) return;
    this.probes++;
    const seq = ++this.seq;
    this.probe = { target, seq, startedMs: now, timeoutMs: m.awareness.scale(this.config.probeTimeoutMs), acked: false, indirectSent: false, intermediaries: [], nacksFrom: new Set() };
    out.send(target, { type: 'ping', seq, target, updates: this.piggyback(target) });
  }

  /** The direct ping missed its ack: ask `indirectChecks` random alive members to ping the target. */
  private sendIndirect(probe: Probe, out: Sender): void {
    probe.indirectSent = true;
    probe.intermediaries = this.sample(this.config.indirectChecks, (r) => r.state === 'alive' && r.id !== probe.target);
    for (const via of probe.intermediaries) out.send(via, { type: 'ping-req', seq: probe.seq, target: probe.target, nack: this.config.lifeguard, updates: this.piggyback(via) });
  }

  /** The probe interval is over: an unanswered probe costs health and makes the target suspect. */
  private finish(probe: Probe, now: number): void {
    if (probe.acked) return;
    const m = this.membership;
    this.probesFailed++;
    m.health(AWARENESS_DELTA.failedProbe);
    // relays that said neither ack nor nack: the messages lost may be this node's own
    if (probe.indirectSent && probe.nacksFrom.size < probe.intermediaries.length) m.health(AWARENESS_DELTA.missedNack);
    m.suspectAfterProbe(probe.target, now);
  }

  /** Pings `msg.target` for `origin`, to pass on its ack (or say nack when asked and it stays silent). */
  relay(origin: NodeId, msg: Extract<GossipMessage, { type: 'ping-req' }>, now: number, out: Sender): void {
    if (msg.target === this.id) return out.send(origin, { type: 'ack', seq: msg.seq, updates: this.piggyback(origin) });
    if (this.relays.size >= MAX_RELAYS) this.relays.delete(this.relays.keys().next().value as number);
    const seq = ++this.seq;
    const scale = (ms: number): number => this.membership.awareness.scale(ms);
    const nackAtMs = msg.nack ? now + scale(this.config.probeTimeoutMs) * NACK_AT_SHARE : undefined;
    this.relays.set(seq, { origin, originSeq: msg.seq, target: msg.target, nackAtMs, expiresMs: now + scale(this.config.probeIntervalMs) });
    out.send(msg.target, { type: 'ping', seq, target: msg.target, updates: this.piggyback(msg.target) });
  }

  relayTick(now: number, out: Sender): void {
    if (this.relays.size === 0) return;
    for (const [seq, relay] of this.relays) {
      if (relay.nackAtMs !== undefined && now >= relay.nackAtMs) {
        relay.nackAtMs = undefined;
        out.send(relay.origin, { type: 'nack', seq: relay.originSeq, updates: this.piggyback(relay.origin) });
      }
      if (now >= relay.expiresMs) this.relays.delete(seq);
    }
  }

  onAck(from: NodeId, seq: number, out: Sender): void {
    const probe = this.probe;
    if (probe !== undefined && probe.seq === seq && (from === probe.target || probe.intermediaries.includes(from))) {
      if (!probe.acked) this.membership.health(AWARENESS_DELTA.successfulProbe);
      probe.acked = true;
      return;
    }
    const relay = this.relays.get(seq);
    if (relay === undefined || relay.target !== from) return;
    this.relays.delete(seq);
    out.send(relay.origin, { type: 'ack', seq: relay.originSeq, updates: this.piggyback(relay.origin) });
  }

  onNack(from: NodeId, seq: number): void {
    const probe = this.probe;
    if (probe !== undefined && probe.seq === seq && probe.intermediaries.includes(from)) probe.nacksFrom.add(from);
  }
}

export function isLive(record: MemberRecord | undefined): boolean {
  return record !== undefined && (record.state === 'alive' || record.state === 'suspect');
}
