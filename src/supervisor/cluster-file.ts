// The cluster file (DIR/cluster.json): what `synod cluster up` writes once and every node reads
// with --config (members, secret, service and its options, TLS files), and the node process flags
// the supervisor starts each node with.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { JsonValue } from '../core/index.js';
import type { RaftOptions } from '../raft/index.js';
import type { MemberAddress } from '../server/node.js';
import { DEFAULT_SERVICE, nodeService, nodeServiceNames } from '../server/services.js';
import { SupervisorError } from './errors.js';

/**
 * Node (V8) flags `synod cluster up` starts each node process with; run `synod node` directly
 * with the same ones (docs/runtime.md). A young generation of at most 2 x 8 MiB instead of
 * Node 20's 2 x 16: the highest node's peak resident memory after 130,000 puts fell from
 * 181-190 to 168-172 MiB in alternating runs, at the same throughput (a 4 MiB one cost about 5%).
 * A node cannot set this for itself: V8 sizes its heap before any script runs.
 */
export const NODE_PROCESS_FLAGS: readonly string[] = ['--max-semi-space-size=8'];

/** The cluster config file `synod cluster up` writes and `--config` reads. */
export interface ClusterFile {
  /** The service every node runs (default "kv"). */
  readonly service?: string;
  /** The service's own options (e.g. clock sync's serverId and clockOffsetsMs). */
  readonly options?: Readonly<Record<string, JsonValue>>;
  readonly members: Record<string, MemberAddress>;
  readonly secret: string;
  /** Names the cluster (data directories of another cluster are refused); derived from the secret when absent. */
  readonly clusterId?: string;
  /** The KV service's Raft timing (kept at the top level, where cluster files before services had it). */
  readonly raft?: Partial<RaftOptions>;
  readonly faultInjection?: boolean;
  /** HTTPS for the client API; paths relative to this file, "{id}" replaced by the node id. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile: string; readonly clientCertAuth?: 'none' | 'request' | 'require' };
  /** Mutual TLS between peers; paths as for `tls`. */
  readonly peerTls?: { readonly certFile: string; readonly keyFile: string; readonly caFile: string };
}

export function readClusterFile(path: string): ClusterFile {
  let file: ClusterFile;
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as ClusterFile;
  } catch (err) {
    throw new SupervisorError('BAD_CONFIG', `cannot read config ${path}: ${(err as Error).message}`);
  }
  if (typeof file !== 'object' || file === null || typeof file.members !== 'object' || file.members === null || typeof file.secret !== 'string') {
    throw new SupervisorError('BAD_CONFIG', `${path} is not a Synod cluster file (it needs "members" and "secret")`);
  }
  return file;
}

/** A path in a cluster file, relative to the file's directory, with {id} replaced. */
export function resolveClusterPath(clusterFile: string, path: string, id: string): string {
  const named = path.replaceAll('{id}', id);
  return isAbsolute(named) ? named : join(dirname(clusterFile), named);
}

/** What a new cluster file is made from (an existing one is checked against it). */
export interface ClusterFileRequest {
  /** The service every node runs; an existing cluster keeps the one its file names and refuses another. */
  readonly service?: string;
  readonly nodes: number;
  /** Clients on P+i, peers on P+100+i (i from 1). */
  readonly basePort: number;
  /** HTTPS for clients and mutual TLS between peers (default true). */
  readonly tls?: boolean;
  readonly faultInjection?: boolean;
  /** Options of the service for a new cluster file, over the service's defaults (e.g. the quorum store's sloppyQuorum). */
  readonly serviceOptions?: Readonly<Record<string, JsonValue>>;
}

/** Reads DIR/cluster.json when it exists (and matches the request), else writes a new one. */
export function loadOrCreateClusterFile(dataDir: string, o: ClusterFileRequest): ClusterFile & { readonly created: boolean } {
  const path = join(dataDir, 'cluster.json');
  if (existsSync(path)) {
    const file = readClusterFile(path);
    const service = file.service ?? DEFAULT_SERVICE;
    if (o.service !== undefined && o.service !== service) throw new SupervisorError('CLUSTER_EXISTS', `${path} is a cluster of ${service}, not ${o.service}; use another --data-dir or remove it`);
    if (Object.keys(file.members).length !== o.nodes) throw new SupervisorError('CLUSTER_EXISTS', `${path} describes ${Object.keys(file.members).length} nodes, not ${o.nodes}; use another --data-dir or remove it`);
    return { ...file, created: false };
  }
  const tls = o.tls !== false;
  const scheme = tls ? 'https' : 'http';
  const members = Object.fromEntries(Array.from({ length: o.nodes }, (_, i) => [String(i + 1), { peer: `127.0.0.1:${o.basePort + 101 + i}`, client: `${scheme}://127.0.0.1:${o.basePort + 1 + i}` }]));
  const files = { certFile: 'tls/node-{id}.crt', keyFile: 'tls/node-{id}.key', caFile: 'tls/ca.crt' };
  const service = nodeService(o.service ?? DEFAULT_SERVICE);
  if (service === undefined) throw new SupervisorError('UNKNOWN_SERVICE', `unknown service "${o.service ?? ''}" (known: ${nodeServiceNames().join(', ')})`);
  const file: ClusterFile = {
    service: service.name,
    options: { ...service.defaults.options, ...o.serviceOptions },
    members,
    secret: randomBytes(24).toString('base64'),
    clusterId: randomBytes(8).toString('hex'),
    faultInjection: o.faultInjection === true,
    // clients may present a certificate from the cluster CA (its name is then their user name); none is required
    ...(tls ? { tls: { ...files, clientCertAuth: 'request' as const }, peerTls: files } : {}),
  };
  writeFileSync(path, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });
  return { ...file, created: true };
}
