// A leader's admin requests (AdminRequestType) from arrival to answer: adding a learner, promoting
// one once it has caught up, removing a node, and handing leadership to another voter; each is
// answered when done, refused, or failed at its deadline or when leadership ends. Deterministic
// and sans-I/O: the plans are config-change.ts's; the leader appends and sends through a port.
import type { NodeId } from '../core/index.js';
import { assertInvariant } from '../core/index.js';
import { isOverdue, planAddLearner, planPromotion, planRemoveNode, type ConfigPlan, type PendingPromotion, type PendingTransfer } from './config-change.js';
import { isVoter } from './membership.js';
import type { Progress } from './progress.js';
import type { ProgressTracker } from './tracker.js';
import type { AdminRequestType, Membership, RaftErrorReason, RaftOptions, RaftResponse } from './types.js';

/** What admin requests need of the leader: its state now, and what it does on their behalf. */
export interface AdminPort {
  /** The configuration in effect. */
  config(): Membership;
  commit(): number;
  nowTick(): number;
  /** The leader's last log index: a transfer target that matches it can take over. */
  lastIndex(): number;
  /** Whether a configuration entry may be proposed now (see canChangeConfig in config-change.ts). */
  mayChangeConfig(): boolean;
  /** Appends `config` as a configuration entry; `requestId` is answered once it is applied. */
  proposeConfig(requestId: string, config: Membership): void;
  reply(requestId: string, response: RaftResponse): void;
  /** Answers `requestId` with a refusal (or failure) carrying the leader's hint. */
  refuse(requestId: string, error: RaftErrorReason, message?: string): void;
  /** Tells the transfer target to campaign now. */
  sendTimeoutNow(peer: NodeId): void;
  /** Sends `peer` what its pipeline has room for. */
  sendAppends(peer: NodeId, pr: Progress): void;
  /** A transfer started: the target will campaign ignoring leases, so the leader's lease ends now. */
  endLease(): void;
}

export type AdminDeadlines = Pick<RaftOptions, 'promoteTimeoutTicks' | 'electionTimeoutMaxTicks'>;

export class AdminRequests {
  private transfer: PendingTransfer | undefined;
  private promotion: PendingPromotion | undefined;

  constructor(
    private readonly self: NodeId,
    private readonly tracker: ProgressTracker,
    private readonly deadlines: AdminDeadlines,
    private readonly port: AdminPort,
  ) {}

  /** The node leadership is being handed to, if a transfer is in progress (the leader then takes no proposals and holds no lease). */
  get transferTarget(): NodeId | undefined {
    return this.transfer?.target;
  }

  /** An admin request reached the leader. */
  handle(requestId: string, type: AdminRequestType, node: NodeId): void {
    if (this.transfer !== undefined) return this.port.refuse(requestId, 'transfer-in-progress');
    const config = this.port.config();
    switch (type) {
      case 'addLearner':
        return this.propose(requestId, planAddLearner(config, node));
      case 'promote': {
        const plan = planPromotion(config, node);
        if (!plan.ok) return this.port.refuse(requestId, plan.error, plan.message);
        if (this.promotion !== undefined) return this.port.refuse(requestId, 'config-change-in-progress', `promotion of ${this.promotion.node} is pending`);
        this.promotion = { node, requestId, deadlineTick: this.port.nowTick() + this.deadlines.promoteTimeoutTicks };
        return this.maybePromote();
      }
      case 'removeNode':
        return this.propose(requestId, planRemoveNode(config, node));
      case 'transferLeadership':
        return this.startTransfer(requestId, node);
    }
  }

  private propose(requestId: string, plan: ConfigPlan): void {
    if (!plan.ok) return this.port.refuse(requestId, plan.error, plan.message);
    if (!this.port.mayChangeConfig()) return this.port.refuse(requestId, 'config-change-in-progress', 'a configuration change is still uncommitted or the leader is new');
    this.port.proposeConfig(requestId, plan.config);
  }

  /** Proposes the pending promotion once the learner has caught up with the commit index (and a change may be proposed). */
  maybePromote(): void {
    const p = this.promotion;
    if (p === undefined) return;
    const plan = planPromotion(this.port.config(), p.node);
    if (!plan.ok) {
      this.port.refuse(p.requestId, 'not-a-learner'); // it was removed meanwhile
      this.promotion = undefined;
      return;
    }
    const pr = this.tracker.get(p.node);
    if (pr === undefined || pr.match < this.port.commit() || !this.port.mayChangeConfig()) return;
    this.promotion = undefined;
    this.propose(p.requestId, plan);
  }

  private startTransfer(requestId: string, target: NodeId): void {
    if (target === this.self) return this.port.reply(requestId, { ok: true, result: { leader: this.self }, index: this.port.commit() });
    if (!isVoter(this.port.config(), target)) return this.port.refuse(requestId, 'not-a-voter', `${target} is not a voter`);
    this.transfer = { target, requestId, deadlineTick: this.port.nowTick() + this.deadlines.electionTimeoutMaxTicks };
    this.port.endLease();
    const pr = this.tracker.get(target);
    assertInvariant(pr !== undefined, () => `leader ${this.self}: transfer target ${target} is a voter but not tracked`);
    this.maybeSendTimeoutNow(target, pr);
    this.port.sendAppends(target, pr);
  }

  /** The transfer target's log matches the leader's: it is told to campaign now (again if it did not yet). */
  maybeSendTimeoutNow(peer: NodeId, pr: Progress): void {
    if (this.transfer === undefined || this.transfer.target !== peer || pr.match !== this.port.lastIndex()) return;
    this.port.sendTimeoutNow(peer);
  }

  /** Fails what is overdue, then tries the pending promotion again. */
  tick(): void {
    const nowTick = this.port.nowTick();
    if (isOverdue(this.transfer, nowTick)) {
      this.port.refuse(this.transfer.requestId, 'transfer-timeout', `node ${this.transfer.target} did not take over in time`);
      this.transfer = undefined;
    }
    if (isOverdue(this.promotion, nowTick)) {
      this.port.refuse(this.promotion.requestId, 'catch-up-timeout', `learner ${this.promotion.node} did not catch up in time`);
      this.promotion = undefined;
    }
    this.maybePromote();
  }

  /** The configuration in effect changed: a transfer to a node no longer a voter fails. */
  configChanged(config: Membership): void {
    if (this.transfer === undefined || isVoter(config, this.transfer.target)) return;
    this.port.refuse(this.transfer.requestId, 'not-a-voter');
    this.transfer = undefined;
  }

  /** Leadership ended, `cause` the node whose message ended it: a transfer to it succeeded; everything else fails. */
  abandon(cause: NodeId | null): void {
    if (this.promotion !== undefined) this.port.refuse(this.promotion.requestId, 'not-leader');
    this.promotion = undefined;
    const t = this.transfer;
    if (t !== undefined) {
      if (cause === t.target) this.port.reply(t.requestId, { ok: true, result: { leader: t.target }, index: this.port.commit() });
      else this.port.refuse(t.requestId, 'leadership-lost');
    }
    this.transfer = undefined;
  }
}
