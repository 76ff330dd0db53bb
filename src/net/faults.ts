// The fault-injection hook: per-node filters that drop, delay or cut (partition) messages to and
// from named peers. It only decides; the transport applies the decision on its send and receive
// paths. Exists only when a transport is started with `faultInjection: true`.
import type { NodeId } from '../core/index.js';
import { failNet } from './errors.js';
import type { TimerHandle, Timers } from './options.js';

/** `out`: messages this node sends to the peer; `in`: messages it receives from the peer. */
export type FaultDirection = 'in' | 'out' | 'both';

export type FaultDecision = { readonly action: 'pass' } | { readonly action: 'drop' } | { readonly action: 'delay'; readonly delayMs: number };

const PASS: FaultDecision = { action: 'pass' };
const DROP: FaultDecision = { action: 'drop' };

interface LinkRule {
  dropRate: number;
  delayMs: number;
}

/** What the fault hook currently does, for logs and assertions. */
export interface FaultState {
  /** Peers this node is cut off from, both directions. */
  readonly partitionedFrom: readonly NodeId[];
  readonly outbound: Readonly<Record<NodeId, Readonly<LinkRule>>>;
  readonly inbound: Readonly<Record<NodeId, Readonly<LinkRule>>>;
}

export class FaultController {
  private readonly blocked = new Set<NodeId>();
  private readonly outbound = new Map<NodeId, LinkRule>();
  private readonly inbound = new Map<NodeId, LinkRule>();

  constructor(
    private readonly selfId: NodeId,
    private readonly random: () => number,
    private readonly onChange: (state: FaultState) => void = () => {},
  ) {}

  /**
   * Cuts every node of `sideA` off from every node of `sideB`, both directions. Each transport
   * applies the cuts that involve itself, so calling the same partition on every node (as a test
   * harness does through the node's admin API) gives a consistent cluster-wide partition; calling
   * it on one node alone already isolates that node's links. Cuts accumulate until `heal`.
   */
  partition(sideA: readonly NodeId[], sideB: readonly NodeId[]): void {
    const inA = sideA.includes(this.selfId);
    const inB = sideB.includes(this.selfId);
    if (inA && inB) failNet('NET_INVALID_OPTION', `node ${this.selfId} is on both sides of the partition`);
    const others = inA ? sideB : inB ? sideA : [];
    for (const peer of others) this.blocked.add(peer);
    this.changed();
  }

  /** Removes every partition (drop rates and delays stay; `reset` clears everything). */
  heal(): void {
    this.blocked.clear();
    this.changed();
  }

  /** Drops each message on the link with probability `probability` (0 removes the rule). */
  setDropRate(peer: NodeId, probability: number, direction: FaultDirection = 'out'): void {
    if (!(probability >= 0 && probability <= 1)) failNet('NET_INVALID_OPTION', `drop rate must be in [0, 1], got ${probability}`);
    this.update(peer, direction, (rule) => (rule.dropRate = probability));
  }

  /** Holds each message on the link for `delayMs` before it is queued (out) or delivered (in). */
  setDelayMs(peer: NodeId, delayMs: number, direction: FaultDirection = 'out'): void {
    if (!Number.isFinite(delayMs) || delayMs < 0) failNet('NET_INVALID_OPTION', `delay must be a non-negative number of ms, got ${delayMs}`);
    this.update(peer, direction, (rule) => (rule.delayMs = delayMs));
  }

  /** Clears partitions, drop rates and delays. */
  reset(): void {
    this.blocked.clear();
    this.outbound.clear();
    this.inbound.clear();
    this.changed();
  }

  state(): FaultState {
    return {
      partitionedFrom: [...this.blocked].sort(),
      outbound: Object.fromEntries([...this.outbound].map(([id, rule]) => [id, { ...rule }])),
      inbound: Object.fromEntries([...this.inbound].map(([id, rule]) => [id, { ...rule }])),
    };
  }

  /** The transport's question for each message crossing the link to or from `peer`. */
  decide(peer: NodeId, direction: 'in' | 'out'): FaultDecision {
    if (this.blocked.has(peer)) return DROP;
    const rule = (direction === 'out' ? this.outbound : this.inbound).get(peer);
    if (rule === undefined) return PASS;
    if (rule.dropRate > 0 && this.random() < rule.dropRate) return DROP;
    return rule.delayMs > 0 ? { action: 'delay', delayMs: rule.delayMs } : PASS;
  }

  private update(peer: NodeId, direction: FaultDirection, apply: (rule: LinkRule) => void): void {
    const maps = direction === 'both' ? [this.outbound, this.inbound] : [direction === 'out' ? this.outbound : this.inbound];
    for (const map of maps) {
      const rule = map.get(peer) ?? { dropRate: 0, delayMs: 0 };
      apply(rule);
      if (rule.dropRate === 0 && rule.delayMs === 0) map.delete(peer);
      else map.set(peer, rule);
    }
    this.changed();
  }

  private changed(): void {
    this.onChange(this.state());
  }
}

/** Holds delayed messages on timers, bounded in count; cleared (and counted) at close. */
export class DelayLine {
  private readonly pending = new Set<TimerHandle>();

  constructor(
    private readonly timers: Timers,
    private readonly maxPending: number,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  /** Runs `deliver` after `delayMs`; returns false (and runs nothing) when the line is full. */
  hold(delayMs: number, deliver: () => void): boolean {
    if (this.pending.size >= this.maxPending) return false;
    const handle = this.timers.setTimeout(() => {
      this.pending.delete(handle);
      deliver();
    }, delayMs);
    this.pending.add(handle);
    return true;
  }

  /** Cancels everything held; returns how many messages were discarded. */
  clear(): number {
    const discarded = this.pending.size;
    for (const handle of this.pending) this.timers.clearTimeout(handle);
    this.pending.clear();
    return discarded;
  }
}
