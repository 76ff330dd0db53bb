// Small durable-I/O helpers shared by the log, recovery and the lock: full writes at a position,
// directory fsync, and the sync hooks that tests replace to count or fail fsyncs.
// Why directory fsync: a created, renamed or deleted file is durable only once its directory is.
import { writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { io } from './errors.js';
import { assertInvariant } from '../core/index.js';

/** The two sync points of the storage layer. Tests inject these to count, delay or fail syncs. */
export interface SyncHooks {
  /** Makes the written data (and the size) of an open file durable. Default: fdatasync. */
  syncFile(handle: FileHandle, path: string): Promise<void>;
  /** Makes the entries of a directory (creates, renames, unlinks) durable. Default: fsync on it. */
  syncDir(dirPath: string): Promise<void>;
}

export const nodeSyncHooks: SyncHooks = {
  syncFile: (handle) => handle.datasync(),
  syncDir: async (dirPath) => {
    const dir = await open(dirPath, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  },
};

/** Writes all of `bytes` at `position`; a single write call may write fewer bytes than asked. */
export async function writeFully(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    assertInvariant(bytesWritten > 0, () => `write made no progress at byte ${position + done}`);
    done += bytesWritten;
  }
}

/** writeFully on the calling thread: blocks it until the bytes are written (and, under O_DSYNC, durable). */
export function writeFullySync(handle: FileHandle, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) {
    const bytesWritten = writeSync(handle.fd, bytes, done, bytes.length - done, position + done);
    assertInvariant(bytesWritten > 0, () => `write made no progress at byte ${position + done}`);
    done += bytesWritten;
  }
}

/** Unlinks a file, treating "already gone" as success (cleanup may be repeated after a crash). */
export async function removeIfPresent(path: string, unlinkFile: (p: string) => Promise<void>): Promise<void> {
  try {
    await unlinkFile(path);
  } catch (cause) {
    if (errnoCode(cause) !== 'ENOENT') throw cause;
  }
}

export function errnoCode(cause: unknown): string | undefined {
  if (typeof cause !== 'object' || cause === null || !('code' in cause)) return undefined;
  return typeof cause.code === 'string' ? cause.code : undefined;
}

/** Closes a handle, wrapping failures as STORAGE_IO. */
export function closeHandle(handle: FileHandle, path: string): Promise<void> {
  return io(`close ${path}`, () => handle.close());
}
