// PBS k-staleness in closed form (paper section 3.2): with read and write quorums of fixed sizes
// chosen uniformly at random and no propagation beyond the write quorum, the chance that a read
// misses the last k versions. It ignores time and anti-entropy, so it bounds WARS from above: a
// Dynamo write reaches every replica eventually, and WARS reads only get fresher with t.
import { checkIntegerOption } from './errors.js';
import { MAX_REPLICAS } from './wars.js';

/** The longest version history asked about; far past where the probability underflows to 0. */
export const MAX_VERSIONS = 1_000_000;

/**
 * P(a read quorum misses one given write quorum) = C(N - W, R) / C(N, R): the read quorum lies
 * wholly among the N - W replicas the write skipped. Computed as a product, never as factorials.
 */
export function probabilityMissingWrite(replicas: number, readQuorum: number, writeQuorum: number): number {
  checkIntegerOption('N (replicas)', replicas, 1, MAX_REPLICAS);
  checkIntegerOption('R (readQuorum)', readQuorum, 1, replicas);
  checkIntegerOption('W (writeQuorum)', writeQuorum, 1, replicas);
  if (readQuorum > replicas - writeQuorum) return 0;
  let p = 1;
  for (let i = 0; i < readQuorum; i++) p *= (replicas - writeQuorum - i) / (replicas - i);
  return p;
}

/**
 * PBS k-staleness: P(the read returns one of the last k committed versions) =
 * 1 - (C(N - W, R) / C(N, R))^k, each of the k writes' quorums drawn independently.
 */
export function probabilityWithinKVersions(replicas: number, readQuorum: number, writeQuorum: number, versions: number): number {
  checkIntegerOption('k (versions)', versions, 1, MAX_VERSIONS);
  return 1 - Math.pow(probabilityMissingWrite(replicas, readQuorum, writeQuorum), versions);
}
