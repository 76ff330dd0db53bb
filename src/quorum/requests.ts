// What clients ask the leaderless store and what it answers, with the checks a coordinator runs
// on every request before acting on it (a request may come from any client, over HTTP or from a
// peer that forwarded it): known op, bucket and key shape, levels within N, value size.
import { BUCKET_NAME, bucketType, type BucketType, type QuorumConfig } from './config.js';
import { failQuorum, type QuorumErrorCode } from './errors.js';
import type { Dot } from './versions.js';

/** A consistency level: a replica count, or ONE / QUORUM (a majority of N) / ALL; ANY (writes only) is satisfied by the coordinator's own copy. */
export type Level = number | 'one' | 'quorum' | 'all' | 'any';

interface Addressed {
  readonly bucket: string;
  readonly key: string;
  /** N for this request (default: the cluster's); keep it fixed per bucket, see docs/quorum.md. */
  readonly n?: number;
}

export type QuorumRequest =
  | (Addressed & { readonly op: 'get'; readonly r?: Level })
  | (Addressed & { readonly op: 'put'; readonly value: string; readonly context?: string; readonly w?: Level })
  | (Addressed & { readonly op: 'delete'; readonly context?: string; readonly w?: Level })
  | (Addressed & { readonly op: 'increment'; readonly delta: number; readonly w?: Level })
  | (Addressed & { readonly op: 'add' | 'remove'; readonly element: string; readonly w?: Level })
  /** Start an anti-entropy exchange now with every other home replica of every partition this node holds. */
  | { readonly op: 'anti-entropy' }
  /** Membership (docs/quorum.md): the claimant starts moving partitions to a new node (with its addresses, for real processes) ... */
  | { readonly op: 'ring-join'; readonly node: string; readonly peer?: string; readonly client?: string }
  /** ... or away from a member (`force`: it is gone for good and will not hand its data off) ... */
  | { readonly op: 'ring-leave'; readonly node: string; readonly force?: boolean }
  /** ... and any node tells the ring it knows and how far its own hand-off has come. */
  | { readonly op: 'ring-status' };

/** What a ring request answers: the record as the answering node holds it, and its hand-off. */
export interface RingStatus {
  readonly ok: true;
  readonly op: 'ring';
  readonly epoch: number;
  readonly members: readonly string[];
  /** While a change is under way: the members it moves to. */
  readonly next?: readonly string[];
  /** The claimant's view while a change is under way: current members that have not finished handing off. */
  readonly waitingFor?: readonly string[];
  /** This node's hand-off: streams of partitions to new homes, and keys it holds for partitions it no longer owns. */
  readonly handoff: { readonly streams: number; readonly streamsDone: number; readonly keysSent: number; readonly strayKeys: number };
}

export type QuorumResponse =
  | {
      readonly ok: true;
      readonly op: 'get';
      readonly found: boolean;
      /** Plain buckets: every live sibling; LWW: the value; OR-set: the elements. */
      readonly values: readonly string[];
      readonly count?: number;
      /** Pass back with the next write to supersede exactly what this read saw. */
      readonly context: string;
      readonly siblings: number;
      readonly replies: number;
    }
  | {
      readonly ok: true;
      readonly op: 'write';
      /** The new version's causal context: covers exactly the versions in `values` and what they replaced. */
      readonly context: string;
      readonly dot: Dot | null;
      readonly acks: number;
      /** Every live value of the key as the coordinator holds it after the write (its own and concurrent siblings): what the context covers. */
      readonly values: readonly string[];
      readonly siblings: number;
    }
  | { readonly ok: true; readonly op: 'anti-entropy'; readonly exchanges: number }
  | RingStatus
  | { readonly ok: false; readonly code: QuorumErrorCode; readonly message: string; readonly acks?: number };

export const MAX_KEY_LENGTH = 1024;

/** A request from outside, checked: throws QUORUM_BAD_REQUEST (or QUORUM_WRONG_TYPE) saying what is wrong. */
export function decodeQuorumRequest(value: unknown, config: QuorumConfig): QuorumRequest {
  const r = value as Record<string, unknown> | null;
  if (typeof r !== 'object' || r === null || Array.isArray(r)) failQuorum('QUORUM_BAD_REQUEST', 'a request is an object');
  const op = r['op'];
  if (op === 'anti-entropy' || op === 'ring-status') return { op };
  if (op === 'ring-join' || op === 'ring-leave') return decodeRingRequest(r, op);
  const bucket = r['bucket'];
  const key = r['key'];
  if (typeof bucket !== 'string' || !BUCKET_NAME.test(bucket)) failQuorum('QUORUM_BAD_REQUEST', `bucket must match ${BUCKET_NAME.source}`);
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) failQuorum('QUORUM_BAD_REQUEST', `key is a string of 1 to ${MAX_KEY_LENGTH} characters`);
  const n = r['n'];
  if (n !== undefined && (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > config.replicas + config.standIns)) {
    failQuorum('QUORUM_BAD_REQUEST', `n is an integer from 1 to ${config.replicas + config.standIns}`);
  }
  const base = { bucket, key, ...(n === undefined ? {} : { n }) };
  const type = bucketType(config, bucket);
  const level = (field: 'r' | 'w'): Level | undefined => {
    const v = r[field];
    if (v === undefined) return undefined;
    if (v === 'one' || v === 'quorum' || v === 'all' || (v === 'any' && field === 'w')) return v;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= ((n as number | undefined) ?? config.replicas)) return v;
    return failQuorum('QUORUM_BAD_REQUEST', `${field} is one, quorum, all${field === 'w' ? ', any' : ''} or an integer from 1 to N`);
  };
  const expect = (types: readonly BucketType[]): void => {
    if (!types.includes(type)) failQuorum('QUORUM_WRONG_TYPE', `${String(op)} does not apply to bucket ${bucket} of type ${type}`);
  };
  const context = r['context'];
  if (context !== undefined && typeof context !== 'string') failQuorum('QUORUM_BAD_CONTEXT', 'context is the string a read or write returned');
  const w = level('w');
  const withW = w === undefined ? {} : { w };
  switch (op) {
    case 'get': {
      const rl = level('r');
      return { op, ...base, ...(rl === undefined ? {} : { r: rl }) };
    }
    case 'put': {
      expect(['plain', 'lww']);
      const v = r['value'];
      if (typeof v !== 'string' || v.length > config.maxValueLength) failQuorum('QUORUM_BAD_REQUEST', `value is a string of at most ${config.maxValueLength} characters`);
      return { op, ...base, value: v, ...(context === undefined ? {} : { context }), ...withW };
    }
    case 'delete':
      expect(['plain', 'lww']);
      return { op, ...base, ...(context === undefined ? {} : { context }), ...withW };
    case 'increment': {
      expect(['counter']);
      const delta = r['delta'];
      if (typeof delta !== 'number' || !Number.isSafeInteger(delta) || delta === 0 || Math.abs(delta) > 2 ** 40) failQuorum('QUORUM_BAD_REQUEST', 'delta is a non-zero integer of at most 2^40 in magnitude');
      return { op, ...base, delta, ...withW };
    }
    case 'add':
    case 'remove': {
      expect(['orset']);
      const element = r['element'];
      if (typeof element !== 'string' || element.length > config.maxValueLength) failQuorum('QUORUM_BAD_REQUEST', `element is a string of at most ${config.maxValueLength} characters`);
      return { op, ...base, element, ...withW };
    }
    default:
      return failQuorum('QUORUM_BAD_REQUEST', 'op is get, put, delete, increment, add, remove, anti-entropy, ring-join, ring-leave or ring-status');
  }
}

const MAX_NODE_NAME_LENGTH = 200;
const MAX_ADDRESS_LENGTH = 300;

function decodeRingRequest(r: Record<string, unknown>, op: 'ring-join' | 'ring-leave'): QuorumRequest {
  const node = r['node'];
  if (typeof node !== 'string' || node.length === 0 || node.length > MAX_NODE_NAME_LENGTH) failQuorum('QUORUM_BAD_REQUEST', `node is a member id of 1 to ${MAX_NODE_NAME_LENGTH} characters`);
  if (op === 'ring-leave') {
    const force = r['force'];
    if (force !== undefined && typeof force !== 'boolean') failQuorum('QUORUM_BAD_REQUEST', 'force is true or false');
    return { op, node, ...(force === true ? { force } : {}) };
  }
  const peer = r['peer'];
  const client = r['client'];
  const address = (v: unknown): boolean => typeof v === 'string' && v.length > 0 && v.length <= MAX_ADDRESS_LENGTH;
  if ((peer === undefined) !== (client === undefined)) failQuorum('QUORUM_BAD_REQUEST', 'give both peer and client addresses of the joining node, or neither');
  if (peer !== undefined && (!address(peer) || !address(client))) failQuorum('QUORUM_BAD_REQUEST', `peer and client are addresses of 1 to ${MAX_ADDRESS_LENGTH} characters`);
  return { op, node, ...(peer === undefined ? {} : { peer: peer as string, client: client as string }) };
}

/** The replica count a level asks for, out of `n` (ANY: the coordinator's own copy). */
export function replicasFor(level: Level | undefined, fallback: number, n: number): number {
  if (level === undefined) return Math.min(fallback, n);
  if (level === 'one' || level === 'any') return 1;
  if (level === 'quorum') return Math.floor(n / 2) + 1;
  if (level === 'all') return n;
  return Math.min(level, n);
}

/** Where a key lives in the store and on the ring: bucket and key joined by '/' (bucket names have no '/'). */
export function storeKeyOf(bucket: string, key: string): string {
  return `${bucket}/${key}`;
}

export function bucketOfStoreKey(storeKey: string): string {
  return storeKey.slice(0, storeKey.indexOf('/'));
}
