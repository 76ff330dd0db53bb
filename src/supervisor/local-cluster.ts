// A local cluster of real node processes: makes (or reuses) the cluster file and its certificates,
// starts every node, serves the control API and dashboard, and waits until a majority of the
// nodes' services say they are ready. `synod cluster up`, `npm start`, the real-process tests and
// the benchmarks all start clusters through here.
import type { JsonValue } from '../core/index.js';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_SERVICE } from '../server/services.js';
import { loadOrCreateClusterFile, resolveClusterPath, type ClusterFile } from './cluster-file.js';
import { startControlServer, type ControlServer } from './control-server.js';
import { dashboardBuilt, defaultWebDir } from './dashboard.js';
import type { ClientTls } from './node-client.js';
import { NodeProcesses } from './processes.js';
import { waitForReady } from './readiness.js';

/** Where the CLI looks for a cluster file by default (relative to the working directory). */
const DEFAULT_CLUSTER_FILE = join('synod-data', 'cluster.json');
/** How long a start waits for a majority to be ready before it says so and goes on. */
const READY_TIMEOUT_MS = 20_000;

export interface ClusterHandle {
  readonly controlUrl: string;
  /** The dashboard page (the visualizer in live mode), served by the control server. */
  readonly dashboardUrl: string;
  readonly endpoints: Record<string, string>;
  readonly dataDir: string;
  /** What a client needs to reach the nodes (the CA, when they serve HTTPS). */
  readonly clientTls: ClientTls;
  kill(id: string, signal?: NodeJS.Signals): void;
  restart(id: string): void;
  stop(): Promise<void>;
}

export interface LocalClusterOptions {
  /** The service every node runs (default kv); an existing cluster keeps the one its file names. */
  readonly service?: string;
  /** Service options written to a new cluster file over the service's defaults. */
  readonly serviceOptions?: Readonly<Record<string, JsonValue>>;
  readonly nodes: number;
  readonly dataDir: string;
  /** Control API on P, clients on P+i, peers on P+100+i. */
  readonly basePort: number;
  readonly faultInjection?: boolean;
  /**
   * A new cluster serves HTTPS and speaks TLS between peers, with a CA and certificates made in
   * DIR/tls (renewed there when they near expiry). Default true. An existing cluster keeps what
   * its cluster file says.
   */
  readonly tls?: boolean;
  /** Print endpoints and progress to stdout. */
  readonly announce?: boolean;
  /** Each node's log rotates at this size (rotating-file-stream syntax, e.g. "10M"). Default 10M. */
  readonly logRotateSize?: string;
  readonly logLevel?: string;
  /** How to run `synod` for each node; default: this process's own entry point and loader flags. */
  readonly command?: readonly string[];
  /** More `synod node` flags for every node (e.g. --auto-compact-retain-revisions 0); every member gets the same. */
  readonly nodeArgs?: readonly string[];
  /** The built dashboard to serve at the control server's root; default: web/dist of this package. */
  readonly webDir?: string;
}

/** Starts (or resumes, when DIR/cluster.json exists) a local cluster and its control API. */
export async function startLocalCluster(o: LocalClusterOptions): Promise<ClusterHandle> {
  const dataDir = resolve(o.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const file = loadOrCreateClusterFile(dataDir, o);
  const ids = Object.keys(file.members);
  const say = (line: string): void => void (o.announce === true && process.stdout.write(line + '\n'));
  const clientTls = await prepareTls(dataDir, file, ids, say);
  const processes = new NodeProcesses(ids, { dataDir, newCluster: file.created, say, ...pick(o) });
  processes.startAll();

  const endpoints = Object.fromEntries(ids.map((id) => [id, (file.members[id] as { client: string }).client]));
  const webDir = resolve(o.webDir ?? defaultWebDir());
  const service = file.service ?? DEFAULT_SERVICE;
  let control: ControlServer;
  try {
    control = await startControlServer({ port: o.basePort, processes, endpoints, webDir, tls: clientTls, service });
  } catch (err) {
    // e.g. the base port is taken: do not leave the node processes behind
    await processes.stopAll();
    throw err;
  }
  // the event stream is told at once when a process starts or ends
  processes.onChange = () => control.changed();
  announce(say, { o, file, ids, dataDir, endpoints, webDir, clientTls, service });

  const handle: ClusterHandle = {
    controlUrl: `http://127.0.0.1:${o.basePort}`,
    dashboardUrl: `http://127.0.0.1:${o.basePort}/`,
    endpoints,
    dataDir,
    clientTls,
    kill: (id, signal = 'SIGKILL') => {
      processes.signal(id, signal);
      control.changed();
    },
    restart: (id) => {
      processes.restart(id);
      control.changed();
    },
    stop: async () => {
      control.close();
      await processes.stopAll();
    },
  };
  await waitForReady(Object.values(endpoints), READY_TIMEOUT_MS, clientTls).then(
    (statuses) => {
      const leader = statuses.find((s) => s.role === 'leader');
      say(`cluster ready: ${leader === undefined ? `${statuses.length} nodes ready (${statuses.map((s) => `${s.id} ${s.role}`).join(', ')})` : `node ${leader.id} leads`}`);
    },
    (err: Error) => say(`not ready yet: ${err.message}; the nodes keep trying (see their logs)`),
  );
  return handle;
}

function pick(o: LocalClusterOptions): { logRotateSize?: string; logLevel?: string; command?: readonly string[]; nodeArgs?: readonly string[] } {
  return { ...(o.logRotateSize === undefined ? {} : { logRotateSize: o.logRotateSize }), ...(o.logLevel === undefined ? {} : { logLevel: o.logLevel }), ...(o.command === undefined ? {} : { command: o.command }), ...(o.nodeArgs === undefined ? {} : { nodeArgs: o.nodeArgs }) };
}

interface Announcement {
  readonly o: LocalClusterOptions;
  readonly file: ClusterFile;
  readonly ids: readonly string[];
  readonly dataDir: string;
  readonly endpoints: Readonly<Record<string, string>>;
  readonly webDir: string;
  readonly clientTls: ClientTls;
  readonly service: string;
}

/** Prints the endpoints, logs, control API, dashboard, TLS and a first command to try. */
function announce(say: (line: string) => void, a: Announcement): void {
  const { ids, dataDir, endpoints, clientTls } = a;
  say(`Synod local cluster: ${ids.length} nodes, data in ${dataDir}`);
  for (const id of ids) say(`  node ${id}: client ${endpoints[id]}  peer ${(a.file.members[id] as { peer: string }).peer}  log ${join(dataDir, id, 'node.log')}`);
  say(`  control API: http://127.0.0.1:${a.o.basePort}/api/nodes`);
  say(`  dashboard: http://127.0.0.1:${a.o.basePort}/${dashboardBuilt(a.webDir) ? '' : `  (not built yet: run \`npm run web:build\`, then reload)`}`);
  if (clientTls.ca !== undefined) say(`  TLS: on (HTTPS for clients, mutual TLS between peers); CA certificate ${join(dataDir, 'tls', 'ca.crt')}`);
  else say('  TLS: off (this cluster was made with --no-tls, or before TLS existed)');
  // the CLI finds the endpoints and the CA in ./synod-data/cluster.json by itself
  const flagsHint = resolve(DEFAULT_CLUSTER_FILE) === join(dataDir, 'cluster.json') ? '' : ` --endpoints ${Object.values(endpoints).join(',')}${clientTls.ca === undefined ? '' : ` --cacert ${join(dataDir, 'tls', 'ca.crt')}`}`;
  if (a.service === 'kv' || a.service === 'paxos-kv') say(`Try: synod kv put greeting hello${flagsHint}`);
  else say(`Try: curl ${clientTls.ca === undefined ? '' : `--cacert ${join(dataDir, 'tls', 'ca.crt')} `}${endpoints[ids[1] ?? ids[0] ?? '1'] ?? ''}/v1/status`);
}

/** Makes or renews the cluster's certificates when its file asks for TLS; returns what a client of the nodes needs. */
async function prepareTls(dataDir: string, file: ClusterFile, ids: readonly string[], say: (line: string) => void): Promise<ClientTls> {
  if (file.tls === undefined && file.peerTls === undefined) return {};
  const dir = join(dataDir, 'tls');
  const { ensureClusterTls } = await import('./certs.js');
  const hosts = [...new Set(['127.0.0.1', 'localhost', '::1', ...Object.values(file.members).flatMap((m) => [new URL(m.client).hostname.replace(/^\[|\]$/g, ''), m.peer.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')])])];
  const result = await ensureClusterTls(dir, { nodeIds: ids, hosts });
  if (result.created.length > 0) say(`made a throwaway CA and node certificates for this cluster in ${dir} (TLS on by default; --no-tls on a new data directory turns it off)`);
  for (const path of result.renewed) say(`renewed ${path} (it was near expiry or did not cover the nodes' addresses)`);
  const caFile = file.tls === undefined ? undefined : resolveClusterPath(join(dataDir, 'cluster.json'), file.tls.caFile, '');
  return caFile === undefined ? {} : { ca: readFileSync(caFile) };
}
