// The Raft core: a deterministic, sans-I/O state machine driven by messages, ticks and client
// requests (src/core/protocol.ts). It emits durable ops through fx.persist before any dependent
// send (the host orders them), sends messages, answers clients and applies committed entries.
// What stands alone lives in helpers: pure rules (quorum, election, replication, config-change,
// commands, recovery), records (timers, durability, snapshots, read-queue, tracker), and the
// leader's workers behind narrow ports (replicator: appends, snapshots and heartbeats; admin:
// membership changes and leadership transfer; leader-duties: the machine's leader-local state).
// This file holds the node's state and wires them to roles, messages and requests.
import type { CoreEnv, Effects, NodeId, OutputOptions, ProtocolCore } from '../core/index.js';
import type { JsonValue } from '../core/index.js';
import { assertInvariant, type StateMachine } from '../core/index.js';
import { RaftLog } from './log.js';
import {
  ConfigHistory,
  isVoter,
  makeMembership,
  membershipFromJson,
  membershipToJson,
} from './membership.js';
import { applyEntry, requestProblem, type ApplyOutcome } from './commands.js';
import { AdminRequests } from './admin.js';
import { canChangeConfig } from './config-change.js';
import { grantsPreVote, grantsVote } from './election.js';
import { DurableWriter, HeartbeatRounds, LeaderDurability } from './durability.js';
import type { Progress } from './progress.js';
import { quorumHas, voteResult, type VoteResult } from './quorum.js';
import { LeaderDutyRunner, type QueuedRead } from './leader-duties.js';
import { LeaderLease, ReadQueue } from './read-queue.js';
import { recover } from './recovery.js';
import { planAppend } from './replication.js';
import { LeaderReplicator } from './replicator.js';
import { LatestSnapshot, SnapshotReceiver, snapshotDue, snapshotPhase, type SnapshotPayload } from './snapshots.js';
import { SessionTable } from './sessions.js';
import { RaftTimers } from './timers.js';
import { ProgressTracker } from './tracker.js';
import type {
  LogEntry,
  Membership,
  NodeStatus,
  RaftErrorReason,
  RaftMessage,
  RaftOptions,
  RaftPersistOp,
  RaftRequest,
  RaftResponse,
  Role,
  SnapshotMeta,
} from './types.js';

type Fx = Effects<RaftMessage, RaftPersistOp, RaftResponse>;
type Msg<T extends RaftMessage['type']> = Extract<RaftMessage, { type: T }>;

interface PendingProposal {
  readonly requestId: string;
  readonly term: number;
}

/** Outputs that need not wait for this node's unsynced writes (see OutputOptions). */
const EARLY: OutputOptions = { awaitPersist: false };
/** A removed node is kept informed for at most this many (maximum) election timeouts. */
const DEPARTING_TIMEOUT_ELECTIONS = 10;

/**
 * `C`, `Q`, `R`: the state machine's command, query and result types. Raft itself stores and
 * ships commands as JSON; the machine decodes them (StateMachine.decodeCommand).
 */
export class RaftCore<C = unknown, Q = unknown, R extends JsonValue = JsonValue> implements ProtocolCore<RaftMessage, RaftRequest, RaftResponse, RaftPersistOp> {
  readonly id: NodeId;
  private readonly log = new RaftLog();
  private readonly configs: ConfigHistory;
  private readonly sessions: SessionTable;

  // durable (hard) state, written in order by `writer`
  private term = 0;
  private vote: NodeId | null = null;
  private commit = 0;
  private readonly writer = new DurableWriter(
    () => ({ term: this.term, vote: this.vote, commit: this.commit }),
    (op) => this.out.persist(op),
  );
  private readonly snapshot: LatestSnapshot;

  // volatile state
  private role: Exclude<Role, 'learner'> = 'follower';
  private leader: NodeId | null = null;
  private applied = 0;
  private tickCount = 0;
  private readonly timers: RaftTimers;
  private readonly votes = new Map<NodeId, boolean>();
  /** Leader: the nodes it replicates to, and what it sends them. */
  private readonly tracker: ProgressTracker;
  private readonly replicator: LeaderReplicator;
  private readonly proposals = new Map<number, PendingProposal>();
  private readonly reads = new ReadQueue<QueuedRead<Q>>();
  /** Leader: the state machine's leader-local state, due commands and leader-local reads. */
  private readonly duties: LeaderDutyRunner<C, Q, R>;
  /** Leader: its heartbeat and probe rounds (send time for leases, log end for durability). */
  private readonly rounds = new HeartbeatRounds();
  /** Leader: how far its own log and its term are known durable, and the syncProbe in flight. */
  private readonly durability = new LeaderDurability();
  private readonly lease: LeaderLease;
  /** Leader: admin requests in progress (a learner to promote, a leadership transfer). */
  private readonly admin: AdminRequests;
  private readonly incoming: SnapshotReceiver;
  private fx: Fx | undefined;
  /** Where in each snapshot interval this node snapshots (see snapshotPhase). */
  private readonly snapshotPhaseEntries: number;

  constructor(
    private readonly env: CoreEnv,
    durable: readonly RaftPersistOp[],
    private readonly opts: RaftOptions,
    private readonly machine: StateMachine<C, Q, R>,
  ) {
    this.id = env.id;
    this.sessions = new SessionTable(opts.maxSessions);
    this.incoming = new SnapshotReceiver(env.id);
    this.tracker = new ProgressTracker(env.id);
    this.lease = new LeaderLease(opts);
    this.replicator = new LeaderReplicator(env.id, this.tracker, this.log, opts, {
      term: () => this.term,
      commit: () => this.commit,
      nowTick: () => this.tickCount,
      sendEarly: () => this.durability.termDurable,
      snapshot: () => this.snapshot.outgoing(),
      send: (peer, msg, options) => this.out.send(peer, msg, options),
    });
    this.admin = new AdminRequests(env.id, this.tracker, opts, {
      config: () => this.configs.current,
      commit: () => this.commit,
      nowTick: () => this.tickCount,
      lastIndex: () => this.log.lastIndex,
      mayChangeConfig: () => canChangeConfig(this.committedInTerm(), this.configs.currentIndex, this.commit),
      proposeConfig: (requestId, config) => this.proposeEntry(requestId, 'config', membershipToJson(config)),
      reply: (requestId, response) => this.reply(requestId, response),
      refuse: (requestId, error, message) => this.reply(requestId, this.failure(error, message)),
      sendTimeoutNow: (peer) => this.out.send(peer, { type: 'timeoutNow', term: this.term }),
      sendAppends: (peer, pr) => this.replicator.sendAppends(peer, pr),
      endLease: () => this.lease.end(),
    });
    this.duties = new LeaderDutyRunner(machine, opts, {
      now: () => env.now(),
      confirmedSentAtMs: () => this.tracker.quorumAckedSentAtMs(this.configs.current, env.now(), (round) => this.rounds.get(round)?.sentAtMs ?? -Infinity),
      mayPropose: () => this.admin.transferTarget === undefined && this.log.lastIndex - this.commit < this.opts.maxUncommittedEntries,
      propose: (ops) => ops.flatMap((op) => (this.role === 'leader' ? [this.proposeEntry(null, 'command', { clientId: null, seq: 0, op })] : [])),
    });
    this.snapshotPhaseEntries = snapshotPhase(env.members.indexOf(env.id), opts.snapshotThresholdEntries, env.members.length);
    // A node that is not among the bootstrap members (a joiner) starts with the bootstrap
    // configuration too, so it never campaigns until a configuration entry makes it a voter.
    const bootstrap = makeMembership(env.members);
    this.snapshot = new LatestSnapshot({ index: 0, term: 0, config: membershipToJson(bootstrap) });
    this.configs = new ConfigHistory(bootstrap);
    this.replay(durable);
    // After a reboot in lease mode, behave as if a leader was just heard from: a leader's lease
    // may still count on this node's promise not to vote.
    this.timers = new RaftTimers(opts, () => env.random(), opts.readMode === 'lease');
    this.applyCommitted(Number.MAX_SAFE_INTEGER);
  }

  // ================================================================ host entry points

  start(fx: Fx): void {
    this.run(fx, () => {});
  }

  handleMessage(from: NodeId, msg: RaftMessage, fx: Fx): void {
    this.run(fx, () => this.step(from, msg));
  }

  handleTick(fx: Fx): void {
    this.run(fx, () => this.tick());
  }

  handleRequest(requestId: string, request: RaftRequest, fx: Fx): void {
    this.run(fx, () => this.request(requestId, request));
  }

  /** Every call ends the same way: apply what is committed, write the hard state, describe the state. */
  private run(fx: Fx, body: () => void): void {
    this.fx = fx;
    try {
      this.writer.beginCall();
      body();
      this.applyCommitted(this.opts.maxApplyPerCall);
      this.writer.endCall();
      this.annotate();
    } finally {
      this.fx = undefined;
    }
  }

  private get out(): Fx {
    assertInvariant(this.fx !== undefined, () => `node ${this.id}: effects used outside a host call`);
    return this.fx;
  }

  // ================================================================ inspection (tests, monitors, cluster)

  get config(): Membership {
    return this.configs.current;
  }

  get displayRole(): Role {
    if (this.role === 'follower' && this.configs.current.learners.includes(this.id)) return 'learner';
    return this.role;
  }

  status(): NodeStatus {
    const c = this.configs.current;
    return {
      id: this.id,
      role: this.displayRole,
      term: this.term,
      vote: this.vote,
      leader: this.leader,
      commit: this.commit,
      applied: this.applied,
      lastIndex: this.log.lastIndex,
      snapshotIndex: this.snapshot.meta.index,
      configIndex: this.configs.currentIndex,
      voters: c.voters,
      learners: c.learners,
    };
  }

  /** The entries still in the log (after the snapshot), oldest first. */
  entries(): readonly LogEntry[] {
    return this.log.all();
  }

  entryAt(index: number): LogEntry | undefined {
    return this.log.entryAt(index);
  }

  termAt(index: number): number | undefined {
    return this.log.termAt(index);
  }

  /** Answers a read against this node's applied state (no linearizability: for tests and tools). */
  queryLocal(query: Q): R {
    return this.machine.query(query);
  }

  /** The state machine's snapshot of its current (applied) state. */
  machineSnapshot(): JsonValue {
    return this.machine.snapshot();
  }

  /**
   * What a snapshot taken now would hold, without taking one: the applied index, its term and
   * configuration, and the replicated payload (state machine and client sessions). For backups;
   * restoring it gives a node exactly this state.
   */
  exportApplied(): { readonly meta: SnapshotMeta; readonly data: JsonValue } {
    const index = this.applied;
    const term = index === this.log.snapshotIndex ? this.snapshot.meta.term : (this.log.termAt(index) as number);
    const payload: SnapshotPayload = { machine: this.machine.snapshot(), sessions: this.sessions.toJson() };
    return { meta: { index, term, config: membershipToJson(this.configs.at(index)) }, data: payload as unknown as JsonValue };
  }

  // ================================================================ restart

  private replay(durable: readonly RaftPersistOp[]): void {
    const { hardState, snapshotMeta, snapshotPayload } = recover(this.id, durable, this.log, this.configs, this.snapshot.meta);
    this.term = hardState.term;
    this.vote = hardState.vote;
    this.commit = hardState.commit;
    this.writer.restored(hardState);
    this.snapshot.replace(snapshotMeta, snapshotPayload);
    if (snapshotPayload !== undefined) this.restoreMachine(snapshotPayload);
    this.applied = this.log.snapshotIndex;
  }

  private restoreMachine(payload: SnapshotPayload): void {
    this.machine.restore(payload.machine);
    this.sessions.restore(payload.sessions);
  }

  // ================================================================ persistence and commit

  private persistSnapshot(): void {
    const { meta, payload } = this.snapshot;
    const entriesAfter = this.log.lastIndex > meta.index ? this.log.slice(meta.index + 1, this.log.lastIndex) : [];
    this.writer.writeSnapshot(meta, payload as unknown as JsonValue, entriesAfter);
  }

  private setCommit(index: number): void {
    assertInvariant(index >= this.commit, () => `node ${this.id}: commit index would decrease from ${this.commit} to ${index}`);
    assertInvariant(index <= this.log.lastIndex, () => `node ${this.id}: commit ${index} beyond the last index ${this.log.lastIndex}`);
    this.commit = index;
  }

  // ================================================================ timers

  /** With check-quorum, a node that heard from a leader less than a minimum election timeout ago ignores campaigns. */
  private inLease(): boolean {
    return this.opts.checkQuorum && this.timers.recentlyHeardFromLeader();
  }

  private tick(): void {
    this.tickCount++;
    if (this.role === 'leader') {
      this.tickLeader();
      return;
    }
    if (this.timers.tickElection() && this.promotable()) this.campaign(false);
  }

  /**
   * May this node campaign? A voter of its latest configuration may. So may a node whose removal
   * is still uncommitted (it is a voter of the committed configuration): the removal's entry may
   * be on this node alone, and the others may need it to win an election. Votes are always counted
   * among the latest configuration's voters.
   */
  private promotable(): boolean {
    if (isVoter(this.configs.current, this.id)) return true;
    return this.configs.currentIndex > this.commit && isVoter(this.configs.at(this.commit), this.id);
  }

  private tickLeader(): void {
    this.timers.heardFromLeader();
    if (this.timers.heartbeatDue()) {
      this.broadcastHeartbeats();
      this.replicator.retransmitStalled();
      this.durability.allowProbe();
      this.maybeProbeDurability();
    }
    if (this.timers.checkQuorumDue()) {
      if (this.opts.checkQuorum && !this.tracker.quorumActive(this.configs.current)) {
        this.becomeFollower(this.term, null, null);
        return;
      }
      this.tracker.resetActivity();
    }
    this.admin.tick();
    this.tracker.dropOverdue(this.tickCount);
    this.expireReads();
    this.duties.tick();
  }

  // ================================================================ roles

  private becomeFollower(term: number, leader: NodeId | null, cause: NodeId | null): void {
    const wasLeader = this.role === 'leader';
    if (term > this.term) {
      this.term = term;
      this.vote = null;
    }
    if (wasLeader) this.abandonLeadership(cause);
    this.role = 'follower';
    this.leader = leader;
    if (leader !== null) this.timers.heardFromLeader();
    else if (wasLeader) this.timers.loseLeader();
    this.votes.clear();
    this.timers.resetElection();
  }

  private campaign(transfer: boolean): void {
    if (this.opts.preVote && !transfer) this.becomePreCandidate();
    else this.becomeCandidate(transfer);
  }

  private becomePreCandidate(): void {
    this.role = 'precandidate';
    this.startCampaign();
    if (this.tally() === 'won') {
      this.becomeCandidate(false);
      return;
    }
    const msg: RaftMessage = { type: 'preVote', term: this.term + 1, lastIndex: this.log.lastIndex, lastTerm: this.log.lastTerm };
    for (const voter of this.configs.current.voters) if (voter !== this.id) this.out.send(voter, msg);
  }

  private becomeCandidate(transfer: boolean): void {
    this.term++;
    this.vote = this.id;
    this.role = 'candidate';
    this.startCampaign();
    if (this.tally() === 'won') {
      this.becomeLeader();
      return;
    }
    const msg: RaftMessage = { type: 'vote', term: this.term, lastIndex: this.log.lastIndex, lastTerm: this.log.lastTerm, transfer };
    for (const voter of this.configs.current.voters) if (voter !== this.id) this.out.send(voter, msg);
  }

  /** A (pre-)campaign starts: no leader, only this node's own vote, a new timeout. */
  private startCampaign(): void {
    this.leader = null;
    this.timers.loseLeader();
    this.votes.clear();
    this.votes.set(this.id, true);
    this.timers.resetElection();
  }

  /** Counts the votes of the current configuration's voters. */
  private tally(): VoteResult {
    return voteResult(this.configs.current, this.votes);
  }

  private becomeLeader(): void {
    assertInvariant(this.vote === this.id, () => `node ${this.id}: becoming leader of term ${this.term} without voting for itself`);
    this.role = 'leader';
    this.leader = this.id;
    this.timers.startLeading();
    this.rounds.reset();
    this.lease.end();
    const votedByOthers = [...this.votes].some(([id, granted]) => granted && id !== this.id);
    this.durability.startTerm(votedByOthers, this.log.lastIndex, this.log.snapshotIndex);
    this.tracker.clear();
    this.syncTracker();
    this.opts.observer?.becameLeader?.(this.id, this.term);
    this.duties.lead(this.log.lastIndex + 1);
    // A no-op of the new term: committing it commits everything before it (Figure 8) and lets
    // reads and configuration changes proceed.
    this.appendAsLeader('noop', null);
    this.replicator.broadcastAppends();
    this.maybeCommit();
  }

  /** Answers everything a leader was holding when it steps down. */
  private abandonLeadership(cause: NodeId | null): void {
    for (const p of this.proposals.values()) this.reply(p.requestId, this.failure('leadership-lost'));
    this.proposals.clear();
    for (const requestId of this.reads.clear()) this.reply(requestId, this.failure('not-leader'));
    this.admin.abandon(cause);
    this.tracker.clear();
    this.lease.end();
    this.duties.stop();
  }

  /** A message of the current term from a leader: follow it, and check there is only one. */
  private acceptLeader(from: NodeId): void {
    assertInvariant(this.role !== 'leader', () => `two leaders in term ${this.term}: ${this.id} (itself) and ${from}`);
    if (this.role !== 'follower') this.becomeFollower(this.term, from, from);
    assertInvariant(this.leader === null || this.leader === from, () => `two leaders in term ${this.term} seen by ${this.id}: ${this.leader} and ${from}`);
    this.leader = from;
    this.timers.followLeader();
  }

  // ================================================================ messages

  private step(from: NodeId, msg: RaftMessage): void {
    if (msg.type === 'preVote') return this.handlePreVote(from, msg);
    if (msg.type === 'preVoteResp') return this.handlePreVoteResp(from, msg);
    if (msg.term > this.term) {
      // A live leader is around: a campaign that was not asked for by it would only disrupt.
      if (msg.type === 'vote' && !msg.transfer && this.inLease()) return;
      const fromLeader = msg.type === 'append' || msg.type === 'heartbeat' || msg.type === 'snapshot' || msg.type === 'timeoutNow';
      this.becomeFollower(msg.term, fromLeader ? from : null, from);
    } else if (msg.term < this.term) {
      this.answerStale(from, msg);
      return;
    }
    switch (msg.type) {
      case 'vote':
        return this.handleVote(from, msg);
      case 'voteResp':
        return this.handleVoteResp(from, msg);
      case 'append':
        return this.handleAppend(from, msg);
      case 'appendResp':
        return this.handleAppendResp(from, msg);
      case 'heartbeat':
        return this.handleHeartbeat(from, msg);
      case 'heartbeatResp':
        return this.handleHeartbeatResp(from, msg);
      case 'snapshot':
        return this.handleSnapshot(from, msg);
      case 'snapshotResp':
        return this.handleSnapshotResp(from, msg);
      case 'timeoutNow':
        return this.handleTimeoutNow(from);
      case 'syncProbe':
        return this.handleSyncProbe(from, msg);
    }
  }

  /** A message from an older term: tell a stale leader or candidate about the newer term. */
  private answerStale(from: NodeId, msg: RaftMessage): void {
    if (msg.type === 'append' || msg.type === 'heartbeat' || msg.type === 'snapshot') {
      this.out.send(from, { type: 'appendResp', term: this.term, success: false, matchIndex: 0, rejectedIndex: -1, conflictTerm: null, conflictIndex: 0 });
    } else if (msg.type === 'vote') {
      this.out.send(from, { type: 'voteResp', term: this.term, granted: false });
    }
  }

  private handlePreVote(from: NodeId, msg: Msg<'preVote'>): void {
    const voter = { term: this.term, isLeader: this.role === 'leader', leaderContactTicks: this.timers.leaderContactTicks, electionTimeoutMinTicks: this.opts.electionTimeoutMinTicks };
    const grant = grantsPreVote(voter, msg.term, this.log.isUpToDate(msg.lastIndex, msg.lastTerm));
    this.out.send(from, { type: 'preVoteResp', term: grant ? msg.term : this.term, granted: grant });
  }

  private handlePreVoteResp(from: NodeId, msg: Msg<'preVoteResp'>): void {
    if (!msg.granted && msg.term > this.term) {
      this.becomeFollower(msg.term, null, from);
      return;
    }
    if (this.role !== 'precandidate') return;
    if (msg.granted && msg.term !== this.term + 1) return; // from an older round
    this.votes.set(from, msg.granted);
    const outcome = this.tally();
    if (outcome === 'won') this.becomeCandidate(false);
    else if (outcome === 'lost') this.becomeFollower(this.term, null, null);
  }

  private handleVote(from: NodeId, msg: Msg<'vote'>): void {
    const grant = grantsVote(this.vote, this.leader, from, this.log.isUpToDate(msg.lastIndex, msg.lastTerm));
    if (grant) {
      this.vote = from;
      this.timers.resetElection();
    }
    this.out.send(from, { type: 'voteResp', term: this.term, granted: grant });
  }

  private handleVoteResp(from: NodeId, msg: Msg<'voteResp'>): void {
    if (this.role !== 'candidate') return;
    this.votes.set(from, msg.granted);
    const outcome = this.tally();
    if (outcome === 'won') this.becomeLeader();
    else if (outcome === 'lost') this.becomeFollower(this.term, null, null);
  }

  private handleTimeoutNow(from: NodeId): void {
    this.acceptLeader(from);
    if (this.promotable()) this.campaign(true);
  }

  private handleSyncProbe(from: NodeId, msg: Msg<'syncProbe'>): void {
    if (from !== this.id || this.role !== 'leader') return;
    this.durability.probeReturned(msg.round);
    const round = this.rounds.get(msg.round);
    if (round === undefined) return;
    this.noteSynced(round.lastIndex); // the probe was sent in this term, after the term was written
    this.maybeProbeDurability();
  }

  /** An answer proved the term, and the leader's own log up to `index`, durable: more may be committed. */
  private noteSynced(index: number): void {
    if (this.durability.synced(index, this.log.lastIndex)) this.maybeCommit();
  }

  /**
   * The leader learns how far its own log is durable by asking itself: the probe waits for the
   * host's sync, so it arrives only after everything written before it is durable. With it the
   * leader counts towards a quorum (a single voter, a follower down, or simply a commit at the
   * pace of the fastest follower rather than the slowest).
   */
  private maybeProbeDurability(): void {
    if (this.role !== 'leader' || !this.durability.needsProbe(this.log.lastIndex)) return;
    const round = this.newRound(true);
    this.durability.probeSent(round);
    this.out.send(this.id, { type: 'syncProbe', term: this.term, round });
  }

  // ---------------------------------------------------------------- follower side of replication

  private handleAppend(from: NodeId, msg: Msg<'append'>): void {
    this.acceptLeader(from);
    const plan = planAppend(this.log, this.commit, msg, this.id, from);
    if (plan.kind === 'reject') {
      const { rejectedIndex, conflictTerm, conflictIndex } = plan;
      this.out.send(from, { type: 'appendResp', term: this.term, success: false, matchIndex: 0, rejectedIndex, conflictTerm, conflictIndex });
      return;
    }
    if (plan.truncateFrom !== null) this.truncateFrom(plan.truncateFrom);
    if (plan.append.length > 0) {
      this.appendEntries(plan.append);
      this.writer.writeEntries(plan.append);
    }
    if (msg.commit > this.commit) this.setCommit(Math.max(this.commit, Math.min(msg.commit, plan.matchIndex)));
    this.out.send(from, { type: 'appendResp', term: this.term, success: true, matchIndex: plan.matchIndex, rejectedIndex: 0, conflictTerm: null, conflictIndex: 0 });
  }

  private truncateFrom(index: number): void {
    this.log.truncateFrom(index);
    const before = this.configs.currentIndex;
    this.configs.truncateFrom(index);
    if (this.configs.currentIndex !== before) this.onConfigChanged();
  }

  /** Appends to the log; configuration entries take effect right away. */
  private appendEntries(entries: readonly LogEntry[]): void {
    this.log.append(entries);
    let changed = false;
    for (const entry of entries) {
      if (entry.kind !== 'config') continue;
      this.configs.add(entry.index, membershipFromJson(entry.data));
      changed = true;
    }
    if (changed) this.onConfigChanged();
  }

  private handleHeartbeat(from: NodeId, msg: Msg<'heartbeat'>): void {
    this.acceptLeader(from);
    const commit = Math.min(msg.commit, this.log.lastIndex);
    if (commit > this.commit) this.setCommit(commit);
    // An acknowledgement says only that this node has seen no higher term; its writes (even a
    // term it just adopted) need not be durable for that, so it does not wait behind them.
    this.out.send(from, { type: 'heartbeatResp', term: this.term, round: msg.round }, EARLY);
  }

  private handleSnapshot(from: NodeId, msg: Msg<'snapshot'>): void {
    this.acceptLeader(from);
    const answer = (done: boolean, matchIndex: number, nextOffset: number): void =>
      this.out.send(from, { type: 'snapshotResp', term: this.term, snapshotIndex: msg.meta.index, done, matchIndex, nextOffset });
    if (msg.meta.index <= this.commit) {
      this.incoming.discard();
      answer(true, this.commit, 0);
      return;
    }
    const got = this.incoming.receive(this.term, from, msg);
    if (got.kind === 'more') return answer(false, 0, got.nextOffset);
    this.installSnapshot(msg.meta, got.payload);
    answer(true, msg.meta.index, 0);
  }

  private installSnapshot(meta: SnapshotMeta, payload: SnapshotPayload): void {
    assertInvariant(meta.index > this.commit, () => `node ${this.id}: snapshot at ${meta.index} is not past commit ${this.commit}`);
    const config = membershipFromJson(meta.config);
    if (this.log.termAt(meta.index) === meta.term) {
      // The log agrees with the snapshot up to its index: keep what follows (Raft §7).
      this.log.compactTo(meta.index);
      this.configs.compactTo(meta.index, config);
    } else {
      this.log.reset(meta.index, meta.term, []);
      this.configs.reset(meta.index, config);
    }
    this.restoreMachine(payload);
    this.snapshot.replace(meta, payload);
    this.applied = meta.index;
    this.setCommit(meta.index);
    this.persistSnapshot();
    this.onConfigChanged();
  }

  // ---------------------------------------------------------------- leader side of replication

  private appendAsLeader(kind: LogEntry['kind'], data: JsonValue): LogEntry {
    const entry: LogEntry = { index: this.log.lastIndex + 1, term: this.term, kind, data };
    this.appendEntries([entry]);
    this.writer.writeEntries([entry]);
    this.maybeProbeDurability();
    return entry;
  }

  private handleAppendResp(from: NodeId, msg: Msg<'appendResp'>): void {
    const pr = this.tracker.get(from);
    if (this.role !== 'leader' || pr === undefined) return;
    if (this.replicator.appendAnswered(from, pr, msg)) this.afterMatchMoved(from, pr);
    if (msg.success && this.role === 'leader') this.replicator.sendAppends(from, pr);
  }

  private afterMatchMoved(peer: NodeId, pr: Progress): void {
    this.maybeCommit();
    if (this.role !== 'leader') return;
    this.admin.maybeSendTimeoutNow(peer, pr);
    this.admin.maybePromote();
  }

  private handleHeartbeatResp(from: NodeId, msg: Msg<'heartbeatResp'>): void {
    const pr = this.tracker.get(from);
    if (this.role !== 'leader' || pr === undefined) return;
    pr.recentActive = true;
    if (msg.round > pr.ackedRound) {
      pr.ackedRound = msg.round;
      this.confirmReads();
      this.extendLease();
      const round = this.rounds.get(msg.round);
      if (round?.waitedForSync === true) this.noteSynced(round.lastIndex); // it left only after the term was synced
      if (this.role !== 'leader') return;
    }
    if (this.tracker.forgetIfDeparted(from, msg.round)) return;
    this.replicator.heartbeatAnswered(from, pr);
    this.admin.maybeSendTimeoutNow(from, pr);
  }

  private handleSnapshotResp(from: NodeId, msg: Msg<'snapshotResp'>): void {
    const pr = this.tracker.get(from);
    if (this.role !== 'leader' || pr === undefined) return;
    if (this.replicator.snapshotAnswered(from, pr, msg)) this.afterMatchMoved(from, pr);
    if (msg.done && this.role === 'leader') this.replicator.sendAppends(from, pr);
  }

  /** Commits the highest index a quorum of voters holds, but only by counting an entry of this term (Figure 8). */
  private maybeCommit(): void {
    if (this.role !== 'leader') return;
    const config = this.configs.current;
    // The leader counts its own log only as far as it is known durable (always at least as far as
    // any follower acknowledged, so this only holds back a leader that is the only voter).
    const candidate = this.tracker.committable(config, this.durability.durableIndex);
    if (candidate <= this.commit || this.log.termAt(candidate) !== this.term) return;
    const wasCommittedInTerm = this.committedInTerm();
    this.setCommit(candidate);
    if (!wasCommittedInTerm) this.startDeferredReads();
    this.confirmReads();
    // A leader that removed itself leads until the removal commits, then steps down.
    if (!isVoter(config, this.id) && this.commit >= this.configs.currentIndex) this.becomeFollower(this.term, null, null);
  }

  private committedInTerm(): boolean {
    return this.log.termAt(this.commit) === this.term;
  }

  private newRound(waitedForSync: boolean): number {
    return this.rounds.start({ sentAtMs: this.env.now(), lastIndex: this.log.lastIndex, waitedForSync });
  }

  /** Starts a heartbeat round; its messages wait for this node's sync until the term is durable (so an answer proves it). */
  private broadcastHeartbeats(): number {
    const round = this.newRound(!this.durability.termDurable);
    this.replicator.sendHeartbeats(round);
    this.reads.assignRound(round);
    return round;
  }

  // ---------------------------------------------------------------- membership

  /** The configuration in effect changed: adjust who the leader replicates to and who may campaign. */
  private onConfigChanged(): void {
    if (this.role === 'leader') {
      this.syncTracker();
      this.admin.configChanged(this.configs.current);
    } else if ((this.role === 'candidate' || this.role === 'precandidate') && !this.promotable()) {
      this.becomeFollower(this.term, null, null);
    }
  }

  private syncTracker(): void {
    const departDeadlineTick = this.tickCount + DEPARTING_TIMEOUT_ELECTIONS * this.opts.electionTimeoutMaxTicks;
    this.tracker.sync(this.configs.current, { configIndex: this.configs.currentIndex, nextIndex: this.log.lastIndex + 1, nowTick: this.tickCount, departDeadlineTick });
  }

  // ---------------------------------------------------------------- client requests

  private request(requestId: string, req: RaftRequest): void {
    const problem = requestProblem(req);
    if (problem !== null) return this.reply(requestId, this.failure('bad-request', problem));
    switch (req.type) {
      case 'status':
        return this.reply(requestId, { ok: true, status: this.status() });
      case 'snapshot':
        if (this.applied > this.snapshot.meta.index) this.takeSnapshot();
        return this.reply(requestId, { ok: true, result: { snapshotIndex: this.snapshot.meta.index }, index: this.snapshot.meta.index });
      case 'command':
        return this.propose(requestId, req.clientId, req.seq, req.op);
      case 'read':
      case 'leaderRead':
        return this.handleRead(requestId, req.op, req.type === 'leaderRead');
      default:
        if (this.role !== 'leader') return this.reply(requestId, this.notLeader());
        return this.admin.handle(requestId, req.type, req.node);
    }
  }

  private propose(requestId: string, clientId: string | null, seq: number, op: JsonValue): void {
    if (this.role !== 'leader') return this.reply(requestId, this.notLeader());
    const transferTarget = this.admin.transferTarget;
    if (transferTarget !== undefined) return this.reply(requestId, { ok: false, error: 'transfer-in-progress', leaderHint: transferTarget });
    const decoded = this.machine.decodeCommand(op);
    if (!decoded.ok) return this.reply(requestId, this.failure('bad-request', decoded.problem));
    const refused = this.machine.admitCommand?.(decoded.value) ?? null;
    if (refused !== null) return this.reply(requestId, this.failure('bad-request', refused));
    if (this.proposals.size >= this.opts.maxPendingProposals || this.log.lastIndex - this.commit >= this.opts.maxUncommittedEntries) {
      return this.reply(requestId, this.failure('overloaded'));
    }
    this.proposeEntry(requestId, 'command', { clientId, seq, op });
  }

  /** Appends an entry of this term and sends it; `requestId` (if any) is answered once it is applied. Its index. */
  private proposeEntry(requestId: string | null, kind: LogEntry['kind'], data: JsonValue): number {
    const entry = this.appendAsLeader(kind, data);
    if (requestId !== null) this.proposals.set(entry.index, { requestId, term: this.term });
    this.replicator.broadcastAppends();
    this.maybeCommit();
    return entry.index;
  }

  private notLeader(): RaftResponse {
    return { ok: false, error: 'not-leader', leaderHint: this.leader !== this.id ? this.leader : null };
  }

  private failure(error: RaftErrorReason, message?: string): RaftResponse {
    const leaderHint = this.leader !== this.id ? this.leader : null;
    return message === undefined ? { ok: false, error, leaderHint } : { ok: false, error, leaderHint, message };
  }

  private reply(requestId: string, response: RaftResponse, options?: OutputOptions): void {
    this.out.reply(requestId, response, options);
  }

  // ---------------------------------------------------------------- reads

  private handleRead(requestId: string, raw: JsonValue, leaderLocal: boolean): void {
    if (this.role !== 'leader') return this.reply(requestId, this.notLeader());
    const decoded = this.duties.decodeRead(raw, leaderLocal);
    if (!decoded.ok) return this.reply(requestId, this.failure('bad-request', decoded.problem));
    if (this.reads.size >= this.opts.maxPendingReads) return this.reply(requestId, this.failure('overloaded'));
    // Until the leader commits an entry of its term, its commit index may lag what was committed before.
    if (!this.committedInTerm()) return this.reads.defer(requestId, decoded.value, this.tickCount);
    this.startRead(requestId, decoded.value, this.tickCount);
  }

  /** Without a lease, the read waits for a heartbeat round sent after it arrived (started now if none is in flight). */
  private startRead(requestId: string, op: QueuedRead<Q>, startedTick: number): void {
    const confirmed = this.leaseValid() || this.selfIsQuorum();
    if (this.reads.add(requestId, op, startedTick, this.commit, confirmed)) this.broadcastHeartbeats(); // assigns it the round
  }

  private startDeferredReads(): void {
    for (const r of this.reads.takeDeferred()) this.startRead(r.requestId, r.op, r.startedTick);
  }

  private selfIsQuorum(): boolean {
    return quorumHas(this.configs.current, (v) => v === this.id);
  }

  /** A read is confirmed when a quorum acknowledged a heartbeat round sent after it arrived. */
  private confirmReads(): void {
    if (this.reads.confirm((round) => this.tracker.quorumAcked(this.configs.current, round))) this.broadcastHeartbeats(); // assigns the waiting reads the new round
  }

  private serveReads(): void {
    for (const read of this.reads.takeServable(this.applied)) this.reply(read.requestId, this.duties.answer(read.op, read.readIndex), EARLY);
  }

  private expireReads(): void {
    for (const requestId of this.reads.expire(this.tickCount, 2 * this.opts.electionTimeoutMaxTicks)) this.reply(requestId, this.failure('timeout'));
  }

  /** Lease reads (see LeaderLease): none during a transfer, whose target campaigns ignoring leases. */
  private leaseValid(): boolean {
    return this.opts.readMode === 'lease' && this.admin.transferTarget === undefined && this.committedInTerm() && this.lease.holdsAt(this.env.now());
  }

  private extendLease(): void {
    if (this.opts.readMode !== 'lease' || this.admin.transferTarget !== undefined) return;
    this.lease.extend(this.tracker.quorumAckedSentAtMs(this.configs.current, this.env.now(), (round) => this.rounds.get(round)?.sentAtMs ?? -Infinity));
  }

  // ---------------------------------------------------------------- applying

  private applyCommitted(limit: number): void {
    for (let n = 0; n < limit && this.applied < this.commit; n++) {
      const index = this.applied + 1;
      const entry = this.log.entryAt(index);
      assertInvariant(entry !== undefined, () => `node ${this.id}: committed entry ${index} is missing (log (${this.log.snapshotIndex}, ${this.log.lastIndex}])`);
      const outcome = applyEntry(entry, this.machine, this.sessions);
      this.applied = index;
      assertInvariant(this.applied <= this.commit, () => `node ${this.id}: applied ${this.applied} beyond commit ${this.commit}`);
      this.opts.observer?.applied?.(this.id, entry, this.term);
      this.answerProposal(entry, outcome);
    }
    if (this.fx === undefined) return;
    this.duties.applied(this.applied);
    this.serveReads();
    this.maybeSnapshot();
  }

  private answerProposal(entry: LogEntry, outcome: ApplyOutcome): void {
    const p = this.proposals.get(entry.index);
    if (p === undefined) return;
    this.proposals.delete(entry.index);
    if (p.term !== entry.term) this.reply(p.requestId, this.failure('leadership-lost'));
    else if (outcome.kind === 'stale') this.reply(p.requestId, this.failure('stale-session'));
    else this.reply(p.requestId, { ok: true, result: outcome.value, index: entry.index }, EARLY);
  }

  private maybeSnapshot(): void {
    if (snapshotDue(this.applied, this.snapshot.meta.index, this.opts.snapshotThresholdEntries, this.snapshotPhaseEntries)) this.takeSnapshot();
  }

  /** Snapshots the state machine at the applied index and compacts the log up to it. */
  private takeSnapshot(): void {
    const index = this.applied;
    const config = this.configs.at(index);
    this.snapshot.replace({ index, term: this.log.termAt(index) as number, config: membershipToJson(config) }, { machine: this.machine.snapshot(), sessions: this.sessions.toJson() });
    // keep a tail of entries before the snapshot for followers slightly behind (in memory only)
    const keepAfter = Math.max(this.log.snapshotIndex, index - this.opts.snapshotCatchUpEntries);
    this.log.compactTo(keepAfter);
    this.configs.compactTo(keepAfter, this.configs.at(keepAfter));
    this.persistSnapshot();
  }

  // ---------------------------------------------------------------- annotations

  private annotate(): void {
    const fx = this.out;
    fx.annotate('term', this.term);
    fx.annotate('role', this.displayRole);
    fx.annotate('vote', this.vote);
    fx.annotate('leader', this.leader);
    fx.annotate('commit', this.commit);
    fx.annotate('applied', this.applied);
    fx.annotate('lastIndex', this.log.lastIndex);
    fx.annotate('snapshotIndex', this.snapshot.meta.index);
    fx.annotate('electionElapsed', this.role === 'leader' ? 0 : this.timers.electionElapsedTicks);
    fx.annotate('electionTimeout', this.timers.electionTimeoutTicks);
    fx.annotate('config', this.configs.describeCurrent());
  }
}
