// `synod node`: starts one node process from flags or a cluster config file, and stops it
// gracefully on SIGTERM or SIGINT.
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import type { Command } from 'commander';
import type { JsonValue } from '../core/index.js';
import { parseHostPort, type MemberAddress, type NodeConfig, type RunningNode } from '../server/node.js';
import { DEFAULT_SERVICE, nodeService, nodeServiceNames } from '../server/services.js';
import { NODE_PROCESS_FLAGS, resolveClusterPath, type ClusterFile } from '../supervisor/cluster-file.js';
import { CliError } from './errors.js';

interface NodeFlags {
  service?: string;
  clockOffsetMs?: string;
  autoCompactRetainRevisions?: string;
  id: string;
  dataDir: string;
  peers?: string;
  config?: string;
  secret?: string;
  join?: boolean;
  peerAddr?: string;
  clientAddr?: string;
  faultInjection?: boolean;
  initialClusterState: string;
  allowedHosts?: string;
  allowedOrigins?: string;
  exitWithParent?: boolean;
  certFile?: string;
  keyFile?: string;
  trustedCaFile?: string;
  clientCertAuth?: string;
  peerCertFile?: string;
  peerKeyFile?: string;
  peerTrustedCaFile?: string;
  logLevel: string;
}

/** Exit codes of `synod node` (docs/runtime.md): start failures and bad options as every command; 3 when storage fails while running. */
export const NODE_EXIT_STORAGE_FAILED = 3;

export function registerNodeCommand(program: Command): void {
  program
    .command('node')
    .description('start one Synod node: a service over a durable log and TCP (default: the Raft KV)')
    .option('--service <name>', `the service to run: ${nodeServiceNames().join(', ')} (default: the config file's "service", else ${DEFAULT_SERVICE})`)
    .requiredOption('--id <id>', 'this node\'s id')
    .requiredOption('--data-dir <dir>', 'where the write-ahead log and snapshots live')
    .option('--peers <list>', 'bootstrap members: ID=PEER_HOST:PORT/CLIENT_HOST:PORT,... (this node included)')
    .option('--config <file>', 'a cluster config file (JSON: members, secret) instead of --peers/--secret')
    .option('--secret <secret>', 'shared cluster secret, at least 16 bytes (or env SYNOD_SECRET)')
    .option('--join', 'this node is not a bootstrap member: it waits to be added (synod member add)')
    .option('--peer-addr <host:port>', 'with --join: this node\'s peer address')
    .option('--client-addr <host:port>', 'with --join: this node\'s client address')
    .option('--initial-cluster-state <state>', '"new": an empty data directory starts a new member; "existing": this node is already a member, so an empty data directory means lost data and the node refuses to start', 'new')
    .option('--allowed-hosts <names>', 'host names the API answers to besides IP addresses and localhost (comma-separated; DNS rebinding protection)')
    .option('--allowed-origins <origins>', 'origins of web pages allowed to call the API, e.g. https://ops.example.com (comma-separated; none by default)')
    .option('--exit-with-parent', 'stop when standard input closes (the supervisor that started this node is gone)')
    .option('--cert-file <file>', 'HTTPS for the client API: this node\'s certificate (PEM); reloaded when it changes or on SIGHUP (which also rereads the quorum service\'s authFile)')
    .option('--key-file <file>', 'the key of --cert-file')
    .option('--trusted-ca-file <file>', 'the CA that signed the members\' (and clients\') certificates')
    .option('--client-cert-auth <mode>', 'client certificates: none, request (verified when sent; the name is the user) or require', 'none')
    .option('--peer-cert-file <file>', 'mutual TLS between peers: this node\'s certificate (valid as server and client)')
    .option('--peer-key-file <file>', 'the key of --peer-cert-file')
    .option('--peer-trusted-ca-file <file>', 'the CA that signed every member\'s peer certificate')
    .option('--fault-injection', 'enable the transport fault hook (tests only)')
    .option('--clock-offset-ms <ms>', 'skew this node\'s clock by MS milliseconds on purpose (clock-sync service; fault injection)')
    .option('--auto-compact-retain-revisions <n>', 'kv service: revisions of history kept (default 10000; 0 keeps all until a compaction); give every member the same value')
    .option('--log-level <level>', 'pino log level', 'info')
    .addHelpText('after', '\nExample:\n  synod node --id 1 --data-dir data/1 --secret s3cret-s3cret-s3cret \\\n    --peers 1=127.0.0.1:7101/127.0.0.1:7001,2=127.0.0.1:7102/127.0.0.1:7002,3=127.0.0.1:7103/127.0.0.1:7003')
    .action(async (flags: NodeFlags) => {
      const { config, service } = nodeConfigFrom(flags);
      limitHeapGrowth();
      let node: RunningNode | undefined;
      const onFatal = (err: Error): void => {
        // one line for whoever started us (the supervisor shows it), then exit once the log is written
        const code = (err as { code?: unknown }).code;
        process.stderr.write(`synod: node ${flags.id} stopped: its log could not be written (${err.message}); it will not serve again until restarted on working storage [${typeof code === 'string' ? code : 'STORAGE_FAILED'}]\n`);
        node?.logger.flush();
        setTimeout(() => process.exit(NODE_EXIT_STORAGE_FAILED), 200);
      };
      try {
        node = await service.start({ ...config, onFatal });
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        throw new CliError(typeof code === 'string' ? code : 'NODE_START', `node ${flags.id} could not start: ${(err as Error).message}`, 1);
      }
      const running = node;
      const missing = missingNodeFlags();
      if (missing.length > 0) running.logger.info({ missing }, `node was started without ${missing.join(' ')}: each node uses about 15 MiB more memory (docs/runtime.md)`);
      await new Promise<void>((resolve) => {
        // Ctrl-C reaches the whole process group and the supervisor signals too: stop once, ignore repeats
        let stopping = false;
        const stop = (): void => {
          if (stopping) return;
          stopping = true;
          // stop watching stdin, or its open pipe would keep the process alive after a clean close
          if (flags.exitWithParent === true) process.stdin.destroy();
          void running.close().then(resolve, (err: unknown) => {
            running.logger.error({ err }, 'shutdown failed');
            resolve();
          });
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
        process.on('SIGHUP', () => running.reload());
        if (flags.exitWithParent === true) {
          // the supervisor holds our stdin open; when it dies (even by SIGKILL) the pipe closes
          process.stdin.on('end', stop);
          process.stdin.on('error', stop);
          process.stdin.resume();
        }
      });
    });
}

function nodeConfigFrom(flags: NodeFlags): { config: NodeConfig; service: NonNullable<ReturnType<typeof nodeService>> } {
  let file: ClusterFile | undefined;
  if (flags.config !== undefined) {
    try {
      file = JSON.parse(readFileSync(flags.config, 'utf8')) as ClusterFile;
    } catch (err) {
      throw new CliError('BAD_CONFIG', `cannot read config ${flags.config}: ${(err as Error).message}`);
    }
  }
  const members = file?.members ?? (flags.peers === undefined ? undefined : parsePeers(flags.peers));
  if (members === undefined) throw new CliError('BAD_OPTION', 'give the members with --peers or --config');
  const secret = flags.secret ?? process.env['SYNOD_SECRET'] ?? file?.secret;
  if (secret === undefined || Buffer.byteLength(secret) < 16) throw new CliError('BAD_OPTION', 'a cluster secret of at least 16 bytes is needed (--secret, SYNOD_SECRET or the config file)');
  let self: MemberAddress | undefined;
  if (flags.join === true) {
    if (flags.peerAddr === undefined || flags.clientAddr === undefined) throw new CliError('BAD_OPTION', '--join needs --peer-addr and --client-addr');
    self = { peer: checkAddr(flags.peerAddr), client: `http://${checkAddr(flags.clientAddr)}` };
  } else if (members[flags.id] === undefined) {
    throw new CliError('BAD_OPTION', `node ${flags.id} is not among the members (${Object.keys(members).join(', ')}); use --join to add a new node`);
  }
  const tls = tlsOf(flags, file, 'client');
  const peerTls = tlsOf(flags, file, 'peer');
  // a joiner's client address is served over HTTPS when TLS is on
  if (self !== undefined && tls !== undefined) self = { ...self, client: self.client.replace(/^http:/, 'https:') };
  if (flags.initialClusterState !== 'new' && flags.initialClusterState !== 'existing') throw new CliError('BAD_OPTION', `--initial-cluster-state must be "new" or "existing", got "${flags.initialClusterState}"`);
  const serviceName = flags.service ?? file?.service ?? DEFAULT_SERVICE;
  const service = nodeService(serviceName);
  if (service === undefined) throw new CliError('UNKNOWN_SERVICE', `unknown service "${serviceName}" (known: ${nodeServiceNames().join(', ')})`);
  if (flags.service !== undefined && file?.service !== undefined && flags.service !== file.service) throw new CliError('BAD_OPTION', `--service ${flags.service} but ${flags.config as string} is a cluster of ${file.service}`);
  const options: Record<string, JsonValue> = { ...service.defaults.options, ...(file?.options ?? {}) };
  if (file?.raft !== undefined) options['raft'] = file.raft as unknown as JsonValue;
  if (flags.clockOffsetMs !== undefined) {
    const offset = Number(flags.clockOffsetMs);
    if (!/^-?\d+(\.\d+)?$/.test(flags.clockOffsetMs.trim()) || !Number.isFinite(offset) || Math.abs(offset) > 86_400_000) throw new CliError('BAD_OPTION', `--clock-offset-ms must be a number of milliseconds within a day, got "${flags.clockOffsetMs}"`);
    options['clockOffsetMs'] = offset;
  }
  if (flags.autoCompactRetainRevisions !== undefined) {
    const text = flags.autoCompactRetainRevisions.trim();
    if (!/^\d{1,15}$/.test(text)) throw new CliError('BAD_OPTION', `--auto-compact-retain-revisions must be a whole number >= 0, got "${flags.autoCompactRetainRevisions}"`);
    options['autoCompactRetainRevisions'] = Number(text);
  }
  const config: NodeConfig = {
    id: flags.id,
    dataDir: flags.dataDir,
    members,
    ...(self === undefined ? {} : { self }),
    join: flags.join === true,
    secret,
    ...(file?.clusterId === undefined ? {} : { clusterId: file.clusterId }),
    initialClusterState: flags.initialClusterState,
    ...(tls === undefined ? {} : { tls }),
    ...(peerTls === undefined ? {} : { peerTls }),
    ...(flags.allowedHosts === undefined ? {} : { allowedHosts: listOption(flags.allowedHosts) }),
    ...(flags.allowedOrigins === undefined ? {} : { allowedOrigins: listOption(flags.allowedOrigins) }),
    options,
    faultInjection: flags.faultInjection === true || file?.faultInjection === true,
    logLevel: flags.logLevel,
  };
  return { config, service };
}

/** TLS files from the flags (all three, or none), else from the cluster file. */
function tlsOf(flags: NodeFlags, file: ClusterFile | undefined, which: 'client' | 'peer'): NodeConfig['tls'] {
  const [cert, key, ca] = which === 'client' ? [flags.certFile, flags.keyFile, flags.trustedCaFile] : [flags.peerCertFile, flags.peerKeyFile, flags.peerTrustedCaFile];
  const prefix = which === 'client' ? '--' : '--peer-';
  const clientCertAuth = flags.clientCertAuth ?? file?.tls?.clientCertAuth ?? 'none';
  if (clientCertAuth !== 'none' && clientCertAuth !== 'request' && clientCertAuth !== 'require') throw new CliError('BAD_OPTION', `--client-cert-auth must be none, request or require, got "${clientCertAuth}"`);
  const given = [cert, key, ca].filter((x) => x !== undefined).length;
  if (given > 0 && given < 3) throw new CliError('BAD_OPTION', `${prefix}cert-file, ${prefix}key-file and ${prefix}trusted-ca-file go together`);
  if (cert !== undefined && key !== undefined && ca !== undefined) return { certFile: cert, keyFile: key, caFile: ca, ...(which === 'client' ? { clientCertAuth } : {}) };
  const fromFile = which === 'client' ? file?.tls : file?.peerTls;
  if (fromFile === undefined || flags.config === undefined) return undefined;
  const at = (p: string): string => resolveClusterPath(flags.config as string, p, flags.id);
  return { certFile: at(fromFile.certFile), keyFile: at(fromFile.keyFile), caFile: at(fromFile.caFile), ...(which === 'client' ? { clientCertAuth } : {}) };
}

function listOption(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}

function checkAddr(text: string): string {
  try {
    parseHostPort(text);
  } catch (err) {
    throw new CliError('BAD_OPTION', (err as Error).message);
  }
  return text;
}

/** Parses ID=PEER_HOST:PORT/CLIENT_HOST:PORT,... */
export function parsePeers(text: string): Record<string, MemberAddress> {
  const members: Record<string, MemberAddress> = {};
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9_.-]+)=([^/]+)\/(.+)$/.exec(item);
    if (m === null) throw new CliError('BAD_OPTION', `bad --peers entry "${item}" (expected ID=PEER_HOST:PORT/CLIENT_HOST:PORT)`);
    members[m[1] as string] = { peer: checkAddr(m[2] as string), client: `http://${checkAddr(m[3] as string)}` };
  }
  if (Object.keys(members).length === 0) throw new CliError('BAD_OPTION', '--peers is empty');
  return members;
}

/**
 * V8 lets a heap grow up to four times its live size between full collections when the program
 * allocates fast, as a busy leader does (a request, a log entry and a reply per write). A node
 * holds the whole store in memory, so it asks for collections once the heap is 1.5 times its live
 * size instead: measured with 120,000 keys, the leader's peak resident memory fell from about 260
 * to about 185 MiB at the same throughput. The flag is read at every collection, so setting it
 * after start works; NODE_OPTIONS or node's own flags can still override it.
 */
function limitHeapGrowth(): void {
  if (hasNodeFlag('--heap-growing-percent')) return;
  setFlagsFromString('--heap-growing-percent=50');
}

/** Whether node was started with the flag `name` (any value), on its command line or in NODE_OPTIONS. */
function hasNodeFlag(name: string, execArgv: readonly string[] = process.execArgv, nodeOptions = process.env['NODE_OPTIONS'] ?? ''): boolean {
  return execArgv.some((a) => a.startsWith(name)) || nodeOptions.includes(name);
}

/** NODE_PROCESS_FLAGS a process was started without (a node run by hand rather than by `cluster up`); any value counts as given. */
export function missingNodeFlags(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env['NODE_OPTIONS'] ?? ''): string[] {
  return NODE_PROCESS_FLAGS.filter((flag) => !hasNodeFlag(flag.split('=')[0] as string, execArgv, nodeOptions));
}
