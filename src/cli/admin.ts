// Operator commands: `synod snapshot compact|save|restore` (log compaction, backup and restore;
// docs/runtime.md, "Backup and restore") and `synod certs create` (a CA and node certificates).
import { readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { BackupError, parseBackup, restoreBackup } from '../server/backup.js';
import { writeFileDurably } from '../server/identity.js';
import { clusterIdOf } from '../server/node.js';
import { callApi } from '../supervisor/node-client.js';
import { expectOk } from './client.js';
import { CliError } from './errors.js';
import { connectionOf } from './kv.js';
import { readClusterFile } from '../supervisor/cluster-file.js';
import { parseIntOption } from './options.js';

/** Backups larger than this are refused at restore (a V8 string holds at most about 512 MiB). */
const MAX_BACKUP_BYTES = 400 * 1024 * 1024;

interface ConnectionFlags {
  endpoints?: string;
  cacert?: string;
  cert?: string;
  key?: string;
  json?: boolean;
}

function withConnection(cmd: Command): Command {
  return cmd
    .option('--endpoints <urls>', 'comma-separated node URLs (default as for synod kv)')
    .option('--cacert <file>', 'CA certificate to trust for https endpoints')
    .option('--cert <file>', 'client certificate')
    .option('--key <file>', 'key of the client certificate')
    .option('--json', 'print the result as JSON');
}

export function registerAdminCommands(program: Command): void {
  const snapshot = program.command('snapshot').description('compact logs, save a backup of the cluster\'s state, restore one');
  withConnection(snapshot.command('compact').description('compact each given node\'s log now (a snapshot at its applied index)')).action(async (f: ConnectionFlags) => {
    const { endpoints, options } = connectionOf(f);
    for (const endpoint of endpoints) {
      const r = expectOk(await callApi([endpoint], 'POST', '/v1/snapshot', undefined, 30_000, options)) as { node?: string; snapshotIndex?: number };
      process.stdout.write(f.json === true ? JSON.stringify(r) + '\n' : `node ${String(r.node)}: snapshot at index ${String(r.snapshotIndex)}\n`);
    }
  });
  withConnection(snapshot.command('save <file>').description('save the cluster\'s state (every write acknowledged before the command started) to FILE, from the leader'))
    .action(async (file: string, f: ConnectionFlags) => {
      const { endpoints, options } = connectionOf(f);
      // only the leader can confirm it holds every committed write: try each node until one does
      let answer: Awaited<ReturnType<typeof callApi>> | undefined;
      for (const endpoint of endpoints) {
        answer = await callApi([endpoint], 'GET', '/v1/snapshot', undefined, 60_000, options).catch(() => undefined);
        if (answer?.status === 200) break;
      }
      if (answer === undefined) throw new CliError('UNREACHABLE', 'no endpoint answered', 1);
      const body = expectOk(answer);
      const backup = parseBackup(body, `the answer of ${answer.endpoint}`);
      const text = JSON.stringify(backup) + '\n';
      writeFileDurably(file, text);
      const summary = { file, node: backup.node, index: backup.index, term: backup.term, bytes: Buffer.byteLength(text), sha256: backup.sha256 };
      process.stdout.write(f.json === true ? JSON.stringify(summary) + '\n' : `saved the state at index ${backup.index} (term ${backup.term}) from node ${backup.node} to ${file}: ${summary.bytes} bytes, sha256 ${backup.sha256}\n`);
    });
  snapshot
    .command('restore <file>')
    .description('make a fresh data directory for one member from a saved snapshot (restore every member from the same file, then start them all)')
    .requiredOption('--data-dir <dir>', 'the member\'s new, empty data directory')
    .requiredOption('--id <id>', 'the member\'s id')
    .requiredOption('--config <file>', 'the cluster file of the restored cluster (its members become the voters)')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, f: { dataDir: string; id: string; config: string; json?: boolean }) => {
      const size = statSizeOf(file);
      if (size > MAX_BACKUP_BYTES) throw new CliError('BACKUP_TOO_LARGE', `${file} has ${size} bytes; restore takes at most ${MAX_BACKUP_BYTES}`);
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(file, 'utf8'));
      } catch (err) {
        throw new CliError('BAD_BACKUP', `${file} is not a JSON snapshot file: ${(err as Error).message}`);
      }
      const cluster = readClusterFile(f.config);
      try {
        const backup = parseBackup(raw, file);
        const done = await restoreBackup(backup, { dataDir: f.dataDir, nodeId: f.id, clusterId: clusterIdOf(cluster), members: Object.keys(cluster.members) });
        const summary = { dataDir: f.dataDir, id: f.id, index: done.index, term: done.term };
        process.stdout.write(f.json === true ? JSON.stringify(summary) + '\n' : `restored node ${f.id} in ${f.dataDir} at index ${done.index} (term ${done.term}); start it with --initial-cluster-state existing once every member is restored\n`);
      } catch (err) {
        if (err instanceof BackupError) throw new CliError(err.code, err.message);
        throw err;
      }
    });

  program
    .command('certs')
    .description('TLS certificates for a cluster')
    .command('create')
    .description('make (or renew) a CA and a certificate per node in DIR: ca.crt, ca.key, node-ID.crt, node-ID.key')
    .requiredOption('--dir <dir>', 'where the files go (keys are written 0600)')
    .requiredOption('--nodes <ids>', 'comma-separated node ids')
    .option('--hosts <names>', 'host names and IP addresses every node certificate covers', '127.0.0.1,localhost,::1')
    .option('--days <n>', 'validity of node certificates in days', '365')
    .option('--client <name>', 'also make a client certificate with this common name (client-NAME.crt)')
    .action(async (f: { dir: string; nodes: string; hosts: string; days: string; client?: string }) => {
      const days = parseIntOption('--days', f.days, 1, 3650);
      const certs = await import('../supervisor/certs.js');
      const nodeIds = f.nodes.split(',').map((s) => s.trim()).filter(Boolean);
      if (nodeIds.length === 0) throw new CliError('BAD_OPTION', '--nodes is empty');
      const result = await certs.ensureClusterTls(f.dir, { nodeIds, hosts: f.hosts.split(',').map((s) => s.trim()).filter(Boolean), days });
      for (const path of result.created) process.stdout.write(`created ${path}\n`);
      for (const path of result.renewed) process.stdout.write(`renewed ${path}\n`);
      if (f.client !== undefined) {
        const path = await certs.writeClientCertificate(f.dir, f.client, days);
        process.stdout.write(`created ${path}\n`);
      }
      if (result.created.length + result.renewed.length === 0 && f.client === undefined) process.stdout.write('every certificate is present and valid; nothing to do\n');
    });
}

function statSizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch (err) {
    throw new CliError('BAD_BACKUP', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

