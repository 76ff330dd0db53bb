// A Raft node's clocks, counted in ticks: a follower's or candidate's election timeout (drawn
// anew for every wait), how long since it last heard from a leader (pre-vote and check-quorum
// leases), and a leader's heartbeat and check-quorum intervals. Deterministic: the host's seeded
// stream draws the timeouts; the core decides what a firing means.
import type { RaftOptions } from './types.js';

/** "Not in contact with any leader": larger than any election timeout. */
export const NO_CONTACT_TICKS = Number.MAX_SAFE_INTEGER;

export type TimerOptions = Pick<RaftOptions, 'electionTimeoutMinTicks' | 'electionTimeoutMaxTicks' | 'heartbeatTicks'>;

export class RaftTimers {
  private electionElapsed = 0;
  private electionTimeout: number;
  private leaderContact: number;
  private heartbeatElapsed = 0;
  private checkQuorumElapsed = 0;

  /**
   * `random`: the node's seeded stream, in [0, 1), drawn once per election wait. `inContact`: start
   * as if a leader was just heard from (else as out of contact with any).
   */
  constructor(
    private readonly opts: TimerOptions,
    private readonly random: () => number,
    inContact: boolean,
  ) {
    this.electionTimeout = this.drawElectionTimeout();
    this.leaderContact = inContact ? 0 : NO_CONTACT_TICKS;
  }

  /** Ticks waited in the current election wait. */
  get electionElapsedTicks(): number {
    return this.electionElapsed;
  }

  /** The timeout of the current election wait. */
  get electionTimeoutTicks(): number {
    return this.electionTimeout;
  }

  /** Ticks since this node last heard from a leader (NO_CONTACT_TICKS: not since it lost one). */
  get leaderContactTicks(): number {
    return this.leaderContact;
  }

  private drawElectionTimeout(): number {
    const { electionTimeoutMinTicks: min, electionTimeoutMaxTicks: max } = this.opts;
    return min + Math.floor(this.random() * (max - min + 1));
  }

  /** A new election wait, with a new timeout. */
  resetElection(): void {
    this.electionElapsed = 0;
    this.electionTimeout = this.drawElectionTimeout();
  }

  /** A follower tick: true when the election timeout fired (a new wait has begun). */
  tickElection(): boolean {
    if (this.leaderContact < NO_CONTACT_TICKS) this.leaderContact++;
    this.electionElapsed++;
    if (this.electionElapsed < this.electionTimeout) return false;
    this.resetElection();
    return true;
  }

  /** A leader was heard from (or this node leads). */
  heardFromLeader(): void {
    this.leaderContact = 0;
  }

  /** The current wait restarts, keeping its timeout: the leader of the term was heard from. */
  followLeader(): void {
    this.electionElapsed = 0;
    this.leaderContact = 0;
  }

  /** No leader is known any more (a campaign starts, or this node stopped leading). */
  loseLeader(): void {
    this.leaderContact = NO_CONTACT_TICKS;
  }

  /** Whether a leader was heard from less than a minimum election timeout ago (so no election may be won without it). */
  recentlyHeardFromLeader(): boolean {
    return this.leaderContact < this.opts.electionTimeoutMinTicks;
  }

  /** Leadership starts: both leader intervals start over. */
  startLeading(): void {
    this.leaderContact = 0;
    this.heartbeatElapsed = 0;
    this.checkQuorumElapsed = 0;
  }

  /** A leader tick of the heartbeat interval: true when heartbeats are due. */
  heartbeatDue(): boolean {
    this.heartbeatElapsed++;
    if (this.heartbeatElapsed < this.opts.heartbeatTicks) return false;
    this.heartbeatElapsed = 0;
    return true;
  }

  /** A leader tick of the check-quorum interval (a minimum election timeout): true when a check is due. */
  checkQuorumDue(): boolean {
    this.checkQuorumElapsed++;
    if (this.checkQuorumElapsed < this.opts.electionTimeoutMinTicks) return false;
    this.checkQuorumElapsed = 0;
    return true;
  }
}
