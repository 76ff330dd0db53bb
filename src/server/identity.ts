// Who a data directory belongs to, and which data directories this node has met. A node keeps
// its cluster id, node id and a random incarnation (made when the directory is first used) in
// identity.json, so it knows when it starts on a directory that lost its state; it keeps the
// incarnation of every peer it has talked to in peers.json, so it refuses a peer that came back
// with another data directory (whose votes and acknowledgements were forgotten) as etcd refuses
// a member whose data was wiped.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

export type InitialClusterState = 'new' | 'existing';

export interface NodeIdentity {
  readonly clusterId: string;
  readonly nodeId: string;
  /** Random, made when the data directory was first initialised; a wiped directory gets a new one. */
  readonly incarnation: string;
  readonly createdAt: string;
}

export class IdentityError extends Error {
  constructor(
    readonly code: 'DATA_LOST' | 'WRONG_DATA_DIR' | 'BAD_IDENTITY',
    message: string,
  ) {
    super(message);
    this.name = 'IdentityError';
  }
}

const IDENTITY_FILE = 'identity.json';
const PEERS_FILE = 'peers.json';
const FORMAT = 1;

/**
 * Reads the directory's identity, or makes one. `hasState`: the log recovered something.
 * `initialClusterState` 'existing' says the node is a member of a running cluster, so an empty
 * directory means its state was lost: refuse (DATA_LOST) rather than start as a fresh voter.
 */
export function openIdentity(dir: string, expected: { clusterId: string; nodeId: string; initialClusterState: InitialClusterState; hasState: boolean; now: () => Date }): { identity: NodeIdentity; created: 'new' | 'upgraded' | null } {
  const path = join(dir, IDENTITY_FILE);
  if (existsSync(path)) {
    const identity = parseIdentity(readFileSync(path, 'utf8'), path);
    if (identity.nodeId !== expected.nodeId) throw new IdentityError('WRONG_DATA_DIR', `${dir} belongs to node ${identity.nodeId}, not node ${expected.nodeId}; check --data-dir`);
    if (identity.clusterId !== expected.clusterId) throw new IdentityError('WRONG_DATA_DIR', `${dir} belongs to cluster ${identity.clusterId}, not ${expected.clusterId}; check --data-dir and the cluster config`);
    if (!expected.hasState && expected.initialClusterState === 'existing') {
      throw new IdentityError('DATA_LOST', `${dir} has an identity but no log: its state was lost. ${RECOVERY_HINT}`);
    }
    return { identity, created: null };
  }
  if (!expected.hasState && expected.initialClusterState === 'existing') {
    throw new IdentityError('DATA_LOST', `node ${expected.nodeId} is a member of an existing cluster but ${dir} is empty: its state was lost (or --data-dir is wrong). ${RECOVERY_HINT}`);
  }
  const identity: NodeIdentity = { clusterId: expected.clusterId, nodeId: expected.nodeId, incarnation: randomBytes(12).toString('hex'), createdAt: expected.now().toISOString() };
  writeFileDurably(path, JSON.stringify({ format: FORMAT, ...identity }, null, 2) + '\n');
  // a directory with a log but no identity was written before identities existed: adopt it
  return { identity, created: expected.hasState ? 'upgraded' : 'new' };
}

export const RECOVERY_HINT = 'To bring this node back: remove it from the cluster (synod member remove ID), empty its data directory, start it with --join, add it again (synod member add) and promote it; see docs/runtime.md, "Recovering a node".';

function parseIdentity(text: string, path: string): NodeIdentity {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new IdentityError('BAD_IDENTITY', `${path} is not valid JSON (${(err as Error).message}); it was damaged: see docs/runtime.md, "Recovering a node"`);
  }
  const r = raw as Partial<NodeIdentity> & { format?: unknown };
  if (r.format !== FORMAT || typeof r.clusterId !== 'string' || typeof r.nodeId !== 'string' || typeof r.incarnation !== 'string' || typeof r.createdAt !== 'string') {
    throw new IdentityError('BAD_IDENTITY', `${path} is not a Synod identity file of format ${FORMAT}`);
  }
  return { clusterId: r.clusterId, nodeId: r.nodeId, incarnation: r.incarnation, createdAt: r.createdAt };
}

/** Writes a small file so that a crash leaves the old or the new content, never a mix: temp, fsync, rename, fsync dir. */
export function writeFileDurably(path: string, text: string): void {
  const temp = `${path}.tmp`;
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
  const dirFd = openSync(dirname(path), 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

/** A peer's data directory as this node first met it. */
interface KnownPeer {
  readonly incarnation: string;
  /** The revision of the peer's member record (_synod/members/ID) when it was met; a newer record (re-added) resets it. */
  readonly memberRevision: number;
}

/**
 * The incarnations of the peers this node has talked to, kept durably (peers.json) before the
 * first message of a new peer is accepted: trust on first use, then refuse any other. An operator
 * who removes a member and adds it again (a new member record) resets it.
 */
export class KnownPeers {
  private readonly peers: Map<string, KnownPeer>;

  constructor(private readonly dir: string) {
    const path = join(dir, PEERS_FILE);
    this.peers = new Map();
    if (!existsSync(path)) return;
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new IdentityError('BAD_IDENTITY', `${path} is not valid JSON (${(err as Error).message})`);
    }
    const entries = (raw as { peers?: unknown }).peers;
    if (typeof entries !== 'object' || entries === null) throw new IdentityError('BAD_IDENTITY', `${path} has no "peers" object`);
    for (const [id, p] of Object.entries(entries as Record<string, Partial<KnownPeer>>)) {
      if (typeof p.incarnation === 'string' && typeof p.memberRevision === 'number') this.peers.set(id, { incarnation: p.incarnation, memberRevision: p.memberRevision });
    }
  }

  /**
   * 'accept' when `incarnation` is the one known for `peer`, or the peer is new to us (then it is
   * recorded durably first), or its member record is newer than when we met it; otherwise 'refuse'.
   */
  check(peer: string, incarnation: string, memberRevision: number): 'accept' | 'refuse' {
    const known = this.peers.get(peer);
    if (known !== undefined && known.incarnation === incarnation) return 'accept';
    if (known !== undefined && memberRevision <= known.memberRevision) return 'refuse';
    this.peers.set(peer, { incarnation, memberRevision });
    this.save();
    return 'accept';
  }

  incarnationOf(peer: string): string | undefined {
    return this.peers.get(peer)?.incarnation;
  }

  private save(): void {
    writeFileDurably(join(this.dir, PEERS_FILE), JSON.stringify({ format: FORMAT, peers: Object.fromEntries(this.peers) }, null, 2) + '\n');
  }
}

/** The cluster id a config implies when it names none: derived from the secret, which every member shares. */
export function defaultClusterId(secret: string, hash: (text: string) => string): string {
  return hash(`synod cluster id\0${secret}`).slice(0, 16);
}
