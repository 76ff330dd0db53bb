// Backups: the file `synod snapshot save` writes (a node's state machine at a committed index,
// with a checksum) and `synod snapshot restore`, which turns it into a fresh data directory for
// one member of a rebuilt cluster: every member is restored from the same file, then started.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import type { JsonValue } from '../sim/index.js';
import { makeMembership, membershipToJson } from '../raft/membership.js';
import { RaftStorage } from '../storage/index.js';
import { openIdentity } from './identity.js';

export const BACKUP_FORMAT = 'synod-snapshot/1' as const;

/** The saved file. `sha256` covers the rest, so a damaged or edited file is refused at restore. */
export interface BackupFile {
  readonly format: typeof BACKUP_FORMAT;
  readonly clusterId: string | null;
  /** The node it was read from, and when. */
  readonly node: string;
  readonly savedAt: string;
  readonly index: number;
  readonly term: number;
  readonly config: JsonValue;
  readonly data: JsonValue;
  readonly sha256: string;
}

export class BackupError extends Error {
  constructor(
    readonly code: 'BAD_BACKUP' | 'BACKUP_CHECKSUM' | 'DATA_DIR_NOT_EMPTY',
    message: string,
  ) {
    super(message);
    this.name = 'BackupError';
  }
}

export function backupChecksum(b: Omit<BackupFile, 'sha256'>): string {
  return createHash('sha256').update(JSON.stringify([b.format, b.clusterId, b.node, b.savedAt, b.index, b.term, b.config, b.data])).digest('hex');
}

/** Checks a parsed backup file's shape and checksum. */
export function parseBackup(raw: unknown, source: string): BackupFile {
  const b = raw as Partial<BackupFile>;
  if (typeof b !== 'object' || b === null || b.format !== BACKUP_FORMAT) throw new BackupError('BAD_BACKUP', `${source} is not a Synod snapshot file (format ${BACKUP_FORMAT})`);
  if (typeof b.index !== 'number' || !Number.isSafeInteger(b.index) || b.index < 0 || typeof b.term !== 'number' || typeof b.node !== 'string' || typeof b.savedAt !== 'string' || typeof b.sha256 !== 'string' || b.data === undefined || b.config === undefined) {
    throw new BackupError('BAD_BACKUP', `${source} lacks index, term, node, savedAt, config, data or sha256`);
  }
  const file = b as BackupFile;
  if (backupChecksum(file) !== file.sha256) throw new BackupError('BACKUP_CHECKSUM', `${source} does not match its checksum: it was damaged or edited`);
  return file;
}

/**
 * Writes a fresh data directory for `nodeId` holding the backup's state as a snapshot, with
 * `members` as the voters. Refuses a directory that already holds a log.
 */
export async function restoreBackup(backup: BackupFile, o: { dataDir: string; nodeId: string; clusterId: string; members: readonly string[] }): Promise<{ index: number; term: number }> {
  if (existsSync(o.dataDir) && readdirSync(o.dataDir).some((f) => f.endsWith('.wal') || f.endsWith('.snap') || f === 'identity.json')) {
    throw new BackupError('DATA_DIR_NOT_EMPTY', `${o.dataDir} already holds a node's data; restore into an empty directory (move the old one away first)`);
  }
  if (!o.members.includes(o.nodeId)) throw new BackupError('BAD_BACKUP', `node ${o.nodeId} is not among the members ${o.members.join(', ')}`);
  const storage = await RaftStorage.open(o.dataDir);
  try {
    const hardState = { term: backup.term, vote: null, commit: backup.index };
    const meta = { index: backup.index, term: backup.term, config: membershipToJson(makeMembership(o.members)) };
    await storage.persist([{ kind: 'snapshot', meta, data: backup.data, hardState, entriesAfter: [] }]);
  } finally {
    await storage.close();
  }
  openIdentity(o.dataDir, { clusterId: o.clusterId, nodeId: o.nodeId, initialClusterState: 'new', hasState: true, now: () => new Date() });
  return { index: backup.index, term: backup.term };
}
