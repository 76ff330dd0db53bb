// The WARS model of a Dynamo-style partial quorum (PBS, section 4) and its Monte-Carlo estimate of
// t-visibility: how likely a read that starts t ms after a write commits sees that write. Each trial
// draws the four one-way latencies per replica once and computes the one number that decides every t:
// the smallest t at which the read is consistent. P(consistent | t) is then an empirical CDF, exact
// for the sample, monotone in t by construction, and read off for any t without new draws.
import { assertInvariant } from '../../core/assert.js';
import { draw, samplerOf, type Uniform } from './distributions.js';
import { checkIntegerOption, checkOpenProbability, failPbs } from './errors.js';
import { checkProfile, type WarsProfile } from './profiles.js';

/** R and W: the read waits for the first R responses, the write commits at the W-th acknowledgement. */
export interface Quorum {
  readonly readQuorum: number;
  readonly writeQuorum: number;
}

export interface WarsOptions {
  readonly profile: WarsProfile;
  /** N: replicas of the key; every write and every read is sent to all of them. */
  readonly replicas: number;
  /**
   * The (R, W) pairs to judge. All are judged on the same sampled trials (common random numbers),
   * so two quorums' curves differ only by the quorum, not by sampling noise.
   */
  readonly quorums: readonly Quorum[];
  readonly trials: number;
  /** Called every PROGRESS_EVERY_TRIALS trials and once at the end: the core prints nothing, its host may. */
  readonly onProgress?: (doneTrials: number, totalTrials: number) => void;
}

/** The paper sweeps N up to 100; a trial costs O(N^2) in the sorting here, so more is not useful. */
export const MAX_REPLICAS = 100;
/** Three Float64Arrays per quorum of this many entries is 480 MB: the most a 24 GiB machine should hold per run. */
export const MAX_TRIALS = 20_000_000;
export const MAX_QUORUMS = 64;
export const PROGRESS_EVERY_TRIALS = 1 << 17;

/** One trial's latencies, indexed by replica: W_i, A_i, R_i, S_i in ms (remote delays included). */
export interface WarsTrial {
  readonly writeMs: ArrayLike<number>;
  readonly ackMs: ArrayLike<number>;
  readonly readMs: ArrayLike<number>;
  readonly responseMs: ArrayLike<number>;
}

/** What one trial decides for one quorum. */
export interface TrialOutcome {
  /** When the write commits: the W-th smallest W_i + A_i (the write starts at 0). */
  readonly commitMs: number;
  /** The read's latency: the R-th smallest R_j + S_j. */
  readonly readLatencyMs: number;
  /**
   * The read, started t ms after commit, is consistent iff t >= criticalTMs: one of its first R
   * responders j had the write when the request arrived, W_j <= commit + t + R_j. So
   * criticalTMs = min over those j of (W_j - commit - R_j); at most 0 means consistent at once.
   */
  readonly criticalTMs: number;
}

/**
 * Judges one trial for one quorum, exactly as the paper states the check (section 5.1): commit at
 * the W-th smallest W_i + A_i; the first R read responses ordered by R_j + S_j (ties: lower replica
 * index first); consistent when some such j has W_j <= commit + t + R_j.
 */
export function judgeTrial(trial: WarsTrial, quorum: Quorum): TrialOutcome {
  const n = trial.writeMs.length;
  checkQuorum(n, quorum);
  for (const leg of [trial.writeMs, trial.ackMs, trial.readMs, trial.responseMs]) {
    if (leg.length !== n) failPbs('PBS_INVALID_OPTION', `a trial has one latency per replica on every leg: ${n} writes but ${leg.length} on another leg`);
    for (let i = 0; i < n; i++) {
      const x = leg[i] as number;
      if (!(Number.isFinite(x) && x >= 0)) failPbs('PBS_INVALID_OPTION', `a latency is a finite number of ms >= 0, got ${String(x)}`);
    }
  }
  const scratch = new Scratch(n);
  scratch.load(trial);
  return scratch.outcome(quorum.readQuorum, quorum.writeQuorum);
}

/** Reusable per-trial arrays, so the Monte-Carlo loop allocates nothing per trial. */
class Scratch {
  readonly writeMs: Float64Array;
  readonly ackMs: Float64Array;
  readonly readMs: Float64Array;
  readonly responseMs: Float64Array;
  /** W_i + A_i, ascending. */
  private readonly sortedWriteRoundTripMs: Float64Array;
  /** R_j + S_j per replica. */
  private readonly readRoundTripMs: Float64Array;
  /** Replica indices by ascending R_j + S_j (ties by index). */
  private readonly readOrder: Int32Array;

  constructor(readonly n: number) {
    this.writeMs = new Float64Array(n);
    this.ackMs = new Float64Array(n);
    this.readMs = new Float64Array(n);
    this.responseMs = new Float64Array(n);
    this.sortedWriteRoundTripMs = new Float64Array(n);
    this.readRoundTripMs = new Float64Array(n);
    this.readOrder = new Int32Array(n);
  }

  load(trial: WarsTrial): void {
    for (let i = 0; i < this.n; i++) {
      this.writeMs[i] = trial.writeMs[i] as number;
      this.ackMs[i] = trial.ackMs[i] as number;
      this.readMs[i] = trial.readMs[i] as number;
      this.responseMs[i] = trial.responseMs[i] as number;
    }
    this.order();
  }

  /** Sorts the write round trips and orders the replicas by read round trip (insertion sorts: N is small). */
  order(): void {
    const n = this.n;
    for (let i = 0; i < n; i++) {
      const w = (this.writeMs[i] as number) + (this.ackMs[i] as number);
      let k = i;
      while (k > 0 && (this.sortedWriteRoundTripMs[k - 1] as number) > w) {
        this.sortedWriteRoundTripMs[k] = this.sortedWriteRoundTripMs[k - 1] as number;
        k--;
      }
      this.sortedWriteRoundTripMs[k] = w;
      const r = (this.readMs[i] as number) + (this.responseMs[i] as number);
      this.readRoundTripMs[i] = r;
      k = i;
      // strictly greater: an equal round trip keeps the lower index first
      while (k > 0 && (this.readRoundTripMs[this.readOrder[k - 1] as number] as number) > r) {
        this.readOrder[k] = this.readOrder[k - 1] as number;
        k--;
      }
      this.readOrder[k] = i;
    }
  }

  outcome(readQuorum: number, writeQuorum: number): TrialOutcome {
    const commitMs = this.commitMs(writeQuorum);
    return { commitMs, readLatencyMs: this.readLatencyMs(readQuorum), criticalTMs: this.criticalTMs(readQuorum, writeQuorum, commitMs) };
  }

  commitMs(writeQuorum: number): number {
    return this.sortedWriteRoundTripMs[writeQuorum - 1] as number;
  }

  readLatencyMs(readQuorum: number): number {
    return this.readRoundTripMs[this.readOrder[readQuorum - 1] as number] as number;
  }

  criticalTMs(readQuorum: number, writeQuorum: number, commitMs: number): number {
    let criticalTMs = Infinity;
    for (let k = 0; k < readQuorum; k++) {
      const j = this.readOrder[k] as number;
      criticalTMs = Math.min(criticalTMs, (this.writeMs[j] as number) - commitMs - (this.readMs[j] as number));
    }
    // with R + W > N the first R responders include a replica that acknowledged, so it had the
    // write before commit (W_j <= W_j + A_j <= commit): the read cannot be stale
    if (readQuorum + writeQuorum > this.n && criticalTMs > 0) {
      assertInvariant(false, () => `strict quorum R=${readQuorum} W=${writeQuorum} N=${this.n} judged stale at t=0 (critical t ${criticalTMs} ms)`);
    }
    return criticalTMs;
  }
}

function checkQuorum(n: number, q: Quorum): void {
  checkIntegerOption('R (readQuorum)', q.readQuorum, 1, n);
  checkIntegerOption('W (writeQuorum)', q.writeQuorum, 1, n);
}

/** Checks the options; throws PBS_INVALID_OPTION or PBS_INVALID_DISTRIBUTION. */
export function checkWarsOptions(options: WarsOptions): WarsOptions {
  checkProfile(options.profile);
  checkIntegerOption('N (replicas)', options.replicas, 1, MAX_REPLICAS);
  checkIntegerOption('trials', options.trials, 1, MAX_TRIALS);
  if (!Array.isArray(options.quorums) || options.quorums.length === 0 || options.quorums.length > MAX_QUORUMS) {
    failPbs('PBS_INVALID_OPTION', `quorums is a list of 1 to ${MAX_QUORUMS} (R, W) pairs`);
  }
  for (const q of options.quorums) checkQuorum(options.replicas, q);
  return options;
}

/**
 * Runs `trials` WARS trials and judges each quorum on them; one result per quorum, in order.
 * Per trial the draws are, in order: with a WAN profile the write's and then the read's local
 * replica (one uniform each), then for each replica i = 0..N-1 its W, A, R and S latencies (a
 * mixture leg spends one uniform choosing its component first). Same uniform stream, same result.
 */
export function simulateWars(options: WarsOptions, uniform: Uniform): WarsResult[] {
  checkWarsOptions(options);
  const { profile, replicas: n, quorums, trials } = options;
  const [write, ack, read, response] = [profile.write, profile.ack, profile.read, profile.response].map(samplerOf) as [Sampler, Sampler, Sampler, Sampler];
  const remoteMs = profile.remoteDelayMs;
  const scratch = new Scratch(n);
  const critical = quorums.map(() => new Float64Array(trials));
  const readLatency = quorums.map(() => new Float64Array(trials));
  const writeLatency = quorums.map(() => new Float64Array(trials));
  for (let t = 0; t < trials; t++) {
    let localWrite = -1;
    let localRead = -1;
    if (remoteMs !== undefined) {
      localWrite = pickReplica(n, uniform);
      localRead = pickReplica(n, uniform);
    }
    for (let i = 0; i < n; i++) {
      const writeExtraMs = remoteMs !== undefined && i !== localWrite ? remoteMs : 0;
      const readExtraMs = remoteMs !== undefined && i !== localRead ? remoteMs : 0;
      scratch.writeMs[i] = write(uniform) + writeExtraMs;
      scratch.ackMs[i] = ack(uniform) + writeExtraMs;
      scratch.readMs[i] = read(uniform) + readExtraMs;
      scratch.responseMs[i] = response(uniform) + readExtraMs;
    }
    scratch.order();
    for (let q = 0; q < quorums.length; q++) {
      const { readQuorum, writeQuorum } = quorums[q] as Quorum;
      const commitMs = scratch.commitMs(writeQuorum);
      (critical[q] as Float64Array)[t] = scratch.criticalTMs(readQuorum, writeQuorum, commitMs);
      (readLatency[q] as Float64Array)[t] = scratch.readLatencyMs(readQuorum);
      (writeLatency[q] as Float64Array)[t] = commitMs;
    }
    if ((t + 1) % PROGRESS_EVERY_TRIALS === 0 && t + 1 < trials) options.onProgress?.(t + 1, trials);
  }
  options.onProgress?.(trials, trials);
  return quorums.map((q, i) => new WarsResult(profile.name, n, q.readQuorum, q.writeQuorum, critical[i] as Float64Array, readLatency[i] as Float64Array, writeLatency[i] as Float64Array));
}

type Sampler = (uniform: Uniform) => number;

/** A replica index uniform in 0..n-1 (the min guards u * n rounding up to n). */
function pickReplica(n: number, uniform: Uniform): number {
  return Math.min(n - 1, Math.floor(draw(uniform) * n));
}

/** The judged trials of one quorum: P(consistent | t), t-visibility and operation latencies. */
export class WarsResult {
  // each array is sorted on its first query: a run that asks only for t-visibility never pays
  // for sorting the latencies (a million-entry sort costs about as much as 100,000 trials)
  private criticalSorted = false;
  private latenciesSorted = false;

  /** Takes ownership of the arrays (one entry per trial; see TrialOutcome). */
  constructor(
    readonly profileName: string,
    readonly replicas: number,
    readonly readQuorum: number,
    readonly writeQuorum: number,
    private readonly criticalTMsByTrial: Float64Array,
    private readonly readLatencyMsByTrial: Float64Array,
    private readonly writeLatencyMsByTrial: Float64Array,
  ) {
    assertInvariant(
      criticalTMsByTrial.length > 0 && readLatencyMsByTrial.length === criticalTMsByTrial.length && writeLatencyMsByTrial.length === criticalTMsByTrial.length,
      () => 'a result holds one critical t and two latencies per trial',
    );
  }

  /** Critical t of every trial, ascending. */
  private get criticalTMs(): Float64Array {
    if (!this.criticalSorted) {
      this.criticalTMsByTrial.sort();
      this.criticalSorted = true;
    }
    return this.criticalTMsByTrial;
  }

  private sortLatencies(): void {
    if (this.latenciesSorted) return;
    this.readLatencyMsByTrial.sort();
    this.writeLatencyMsByTrial.sort();
    this.latenciesSorted = true;
  }

  get trials(): number {
    return this.criticalTMsByTrial.length;
  }

  /** R + W > N: every read sees the last committed write, at every t. */
  get strict(): boolean {
    return this.readQuorum + this.writeQuorum > this.replicas;
  }

  /** Trials whose read, started `tMs` after commit, misses the write. */
  staleReads(tMs: number): number {
    checkT(tMs);
    return this.trials - countAtMost(this.criticalTMs, tMs);
  }

  /** P(consistent read | the read starts tMs after commit), over the sampled trials. */
  probabilityConsistent(tMs: number): number {
    checkT(tMs);
    return countAtMost(this.criticalTMs, tMs) / this.trials;
  }

  /** Binomial standard error of probabilityConsistent(tMs). */
  standardError(tMs: number): number {
    const p = this.probabilityConsistent(tMs);
    return Math.sqrt((p * (1 - p)) / this.trials);
  }

  /**
   * t-visibility: the smallest t >= 0 with P(consistent | t) >= target over the sample. Since
   * P(consistent | t) is the share of trials with critical t <= t, this is the k-th smallest
   * critical t, k = ceil(target x trials), or 0 when that is already consistent at commit.
   */
  tVisibilityMs(target: number): number {
    checkOpenProbability('target', target);
    const k = rankFor(target, this.trials);
    const t = Math.max(0, this.criticalTMs[k - 1] as number);
    assertInvariant(this.probabilityConsistent(t) >= target, () => `t-visibility ${t} ms does not reach ${target}`);
    return t;
  }

  /**
   * A distribution-free confidence interval for the true t-visibility: the order statistics
   * k -/+ z sqrt(n p (1 - p)) around the estimate (z = 1.96: about 95%).
   */
  tVisibilityIntervalMs(target: number, z = 1.96): { readonly lowMs: number; readonly highMs: number } {
    checkOpenProbability('target', target);
    if (!(Number.isFinite(z) && z > 0 && z <= 10)) failPbs('PBS_INVALID_OPTION', `z must be in (0, 10], got ${String(z)}`);
    const n = this.trials;
    const spread = z * Math.sqrt(n * target * (1 - target));
    const k = rankFor(target, n);
    const at = (rank: number): number => Math.max(0, this.criticalTMs[Math.min(n, Math.max(1, Math.round(rank))) - 1] as number);
    return { lowMs: at(k - spread), highMs: at(k + spread) };
  }

  /** P(consistent | t) at each t, for plotting. */
  curve(tsMs: readonly number[]): { readonly tMs: number; readonly probability: number }[] {
    return tsMs.map((tMs) => ({ tMs, probability: this.probabilityConsistent(tMs) }));
  }

  /** The p-th percentile (nearest rank, p in (0, 1]) of the read latency: the R-th fastest response. */
  readLatencyPercentileMs(p: number): number {
    this.sortLatencies();
    return nearestRank(this.readLatencyMsByTrial, p);
  }

  /** The p-th percentile (nearest rank) of the write latency: the W-th acknowledgement, i.e. commit time. */
  writeLatencyPercentileMs(p: number): number {
    this.sortLatencies();
    return nearestRank(this.writeLatencyMsByTrial, p);
  }
}

function checkT(tMs: number): void {
  if (!(Number.isFinite(tMs) && tMs >= 0)) failPbs('PBS_INVALID_OPTION', `t must be a finite number of ms >= 0, got ${String(tMs)}`);
}

/** The smallest k in 1..n with k / n >= target, compared as the share itself is computed. */
function rankFor(target: number, n: number): number {
  let k = Math.ceil(target * n);
  while (k > 1 && (k - 1) / n >= target) k--;
  while (k < n && k / n < target) k++;
  return k;
}

/** How many entries of an ascending array are <= x (binary search). */
function countAtMost(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function nearestRank(sorted: Float64Array, p: number): number {
  if (!(Number.isFinite(p) && p > 0 && p <= 1)) failPbs('PBS_INVALID_OPTION', `a percentile takes p in (0, 1], got ${String(p)}`);
  return sorted[rankFor(p, sorted.length) - 1] as number;
}
