// `synod cluster up`: runs a local cluster of real node processes (src/supervisor), prints their
// endpoints, supervises them until Ctrl-C and then stops them all cleanly.
import type { Command } from 'commander';
import type { JsonValue } from '../core/index.js';
import { DEFAULT_SERVICE, nodeService, nodeServiceNames } from '../server/services.js';
import { startLocalCluster } from '../supervisor/index.js';
import { CliError } from './errors.js';
import { parseIntOption } from './options.js';

export function registerClusterCommand(program: Command): void {
  const cluster = program.command('cluster').description('run a local cluster of real node processes');
  cluster
    .command('up')
    .description('start N nodes on this machine, print their endpoints, supervise them until Ctrl-C')
    .option('--service <name>', `the service every node runs: ${nodeServiceNames().join(', ')}`, DEFAULT_SERVICE)
    .option('--nodes <n>', 'number of nodes (default: the service\'s, 3)')
    .option('--data-dir <dir>', 'where each node keeps its log (DIR/<id>)', 'synod-data')
    .option('--base-port <p>', 'control API on P, clients on P+i, peers on P+100+i', '7000')
    .option('--no-tls', 'a new cluster without TLS (plain HTTP and TCP); by default a throwaway CA and certificates are made in DIR/tls')
    .option('--fault-injection', 'enable the transport fault hook on every node (tests only)')
    .option('--service-options <json>', 'options of the service for a new cluster, as a JSON object over its defaults (e.g. \'{"sloppyQuorum":true}\', or \'{"authFile":"/etc/synod/auth.json"}\' for users and roles, for --service quorum; docs/quorum.md)')
    .action(async (flags: { service: string; nodes?: string; dataDir: string; basePort: string; tls: boolean; faultInjection?: boolean; serviceOptions?: string }) => {
      const service = nodeService(flags.service);
      if (service === undefined) throw new CliError('UNKNOWN_SERVICE', `unknown service "${flags.service}" (known: ${nodeServiceNames().join(', ')})`);
      const nodes = parseIntOption('--nodes', flags.nodes ?? String(service.defaults.nodes), 1, 9);
      const basePort = parseIntOption('--base-port', flags.basePort, 1024, 65_000);
      const serviceOptions = serviceOptionsOf(flags.serviceOptions);
      const handle = await startLocalCluster({ service: service.name, nodes, dataDir: flags.dataDir, basePort, tls: flags.tls, faultInjection: flags.faultInjection === true, announce: true, ...(serviceOptions === undefined ? {} : { serviceOptions }) });
      await new Promise<void>((done) => {
        let stopping = false;
        const stop = (): void => {
          if (stopping) return;
          stopping = true;
          process.stdout.write('\nstopping the cluster...\n');
          void handle.stop().then(done);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      process.stdout.write('all nodes stopped\n');
    });
}

/** --service-options: a JSON object (its fields are checked by the service when the nodes start). */
function serviceOptionsOf(text: string | undefined): Record<string, JsonValue> | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CliError('BAD_OPTION', '--service-options is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CliError('BAD_OPTION', '--service-options is a JSON object, e.g. \'{"sloppyQuorum":true}\'');
  return value as Record<string, JsonValue>;
}
