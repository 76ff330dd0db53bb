// Configuration changes and leadership transfer as a Raft leader decides them: the membership an
// admin request asks for (or why it is refused), the pending promotion and transfer with their
// deadlines, and the removed nodes still being told of their removal (thesis §4.2.3). Pure:
// admin.ts carries the requests through, the tracker keeps the departing nodes, the core sends.
import type { NodeId } from '../core/index.js';
import { describeMembership, isMember, isVoter, makeMembership } from './membership.js';
import type { Membership, RaftErrorReason } from './types.js';

/** A new configuration to propose, or why the request is refused (`message` for the client). */
export type ConfigPlan =
  | { readonly ok: true; readonly config: Membership }
  | { readonly ok: false; readonly error: RaftErrorReason; readonly message: string };

export function planAddLearner(config: Membership, node: NodeId): ConfigPlan {
  if (isMember(config, node)) return { ok: false, error: 'already-member', message: `${node} is already in the configuration (${describeMembership(config)})` };
  return { ok: true, config: makeMembership(config.voters, [...config.learners, node]) };
}

export function planRemoveNode(config: Membership, node: NodeId): ConfigPlan {
  if (!isMember(config, node)) return { ok: false, error: 'not-a-member', message: `${node} is not in the configuration` };
  if (isVoter(config, node) && config.voters.length === 1) return { ok: false, error: 'last-voter', message: `cannot remove the last voter ${node}` };
  return { ok: true, config: makeMembership(config.voters.filter((v) => v !== node), config.learners.filter((l) => l !== node)) };
}

/** Makes learner `node` a voter (proposed once it has caught up; only a learner can be promoted). */
export function planPromotion(config: Membership, node: NodeId): ConfigPlan {
  if (!config.learners.includes(node)) return { ok: false, error: 'not-a-learner', message: `${node} is not a learner (${describeMembership(config)})` };
  return { ok: true, config: makeMembership([...config.voters, node], config.learners.filter((l) => l !== node)) };
}

/**
 * One change at a time, and only once the leader committed an entry of its term (Ongaro's fix
 * for single-server changes): its configuration entry must be committed before the next is proposed.
 */
export function canChangeConfig(committedInTerm: boolean, configIndex: number, commit: number): boolean {
  return committedInTerm && configIndex <= commit;
}

/** An admin request the leader answers later: when it completes, or at its deadline. */
export interface PendingAdmin {
  readonly requestId: string;
  readonly deadlineTick: number;
}

/** A leadership transfer: the target gets TimeoutNow once its log matches the leader's. */
export interface PendingTransfer extends PendingAdmin {
  readonly target: NodeId;
}

/** A learner to promote once it has caught up with the commit index. */
export interface PendingPromotion extends PendingAdmin {
  readonly node: NodeId;
}

export function isOverdue(pending: PendingAdmin | undefined, nowTick: number): pending is PendingAdmin {
  return pending !== undefined && nowTick >= pending.deadlineTick;
}

/** A removed node still informed, until it acknowledges a heartbeat that tells it the removal is committed. */
interface Departure {
  readonly configIndex: number;
  /** The first heartbeat round whose commit index covered the removal (0: none yet). */
  notifiedRound: number;
  readonly deadlineTick: number;
}

/**
 * A leader's nodes that the latest configuration removed. They keep receiving the log until they
 * have acknowledged a heartbeat telling them the removal is committed; otherwise a removed node
 * that never hears of its removal would keep campaigning. One that never answers is dropped at
 * its deadline.
 */
export class DepartingPeers {
  private readonly departures = new Map<NodeId, Departure>();

  has(peer: NodeId): boolean {
    return this.departures.has(peer);
  }

  /** Forgets `peer`; true when it was departing. */
  delete(peer: NodeId): boolean {
    return this.departures.delete(peer);
  }

  clear(): void {
    this.departures.clear();
  }

  /** `peer` was removed by the configuration entry at `configIndex`. */
  add(peer: NodeId, configIndex: number, deadlineTick: number): void {
    this.departures.set(peer, { configIndex, notifiedRound: 0, deadlineTick });
  }

  /** A heartbeat of `round` tells `peer` the commit index `commit`: the first that covers the removal notifies it. */
  heartbeatSent(peer: NodeId, commit: number, round: number): void {
    const d = this.departures.get(peer);
    if (d !== undefined && d.notifiedRound === 0 && commit >= d.configIndex) d.notifiedRound = round;
  }

  /** Whether `peer`, acknowledging heartbeat `round`, now knows its removal is committed. */
  acknowledged(peer: NodeId, round: number): boolean {
    const d = this.departures.get(peer);
    return d !== undefined && d.notifiedRound > 0 && round >= d.notifiedRound;
  }

  /** The departing peers whose deadline has come, in the order they left. */
  overdue(nowTick: number): NodeId[] {
    return [...this.departures].filter(([, d]) => nowTick >= d.deadlineTick).map(([peer]) => peer);
  }
}
