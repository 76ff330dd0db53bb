// The data-directory lock: an exclusive LOCK file holding the owner's pid, so a second process
// (or a second open in this one) cannot write the same log. A lock whose pid no longer runs is
// stale (its owner crashed) and is taken over with a warning.
import { open, readFile, unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import { failStorage, io, type WarningSink } from './errors.js';
import { errnoCode, removeIfPresent } from './fsutil.js';
import { LOCK_FILE } from './format.js';

/**
 * Lock files this process holds. A lock file naming our own pid that is not in here was left by
 * an earlier incarnation that crashed and happened to get the same pid (common in containers).
 */
const heldHere = new Set<string>();

export class DirLock {
  private released = false;

  private constructor(readonly path: string) {
    heldHere.add(path);
  }

  /** Takes the lock or throws STORAGE_LOCKED naming the pid that holds it. */
  static async acquire(dir: string, warn: WarningSink): Promise<DirLock> {
    const path = resolve(dir, LOCK_FILE);
    if (heldHere.has(path)) failStorage('STORAGE_LOCKED', `${dir} is locked by process ${process.pid} (${path}): already open in this process`);
    if (await tryCreate(path)) return new DirLock(path);
    const holder = await readHolder(path);
    if (holder !== null && holder !== process.pid && isRunning(holder)) {
      failStorage('STORAGE_LOCKED', `${dir} is locked by process ${holder} (${path}); another node is using this data directory`);
    }
    warn({ code: 'STALE_LOCK_REMOVED', message: `lock ${path} named ${holder ?? 'no valid pid'}, which is not running; taking it over`, file: path });
    await io(`remove stale lock ${path}`, () => removeIfPresent(path, unlink));
    if (await tryCreate(path)) return new DirLock(path);
    return failStorage('STORAGE_LOCKED', `${dir} was locked by another process while taking over a stale lock (${path})`);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    heldHere.delete(this.path);
    await io(`remove lock ${this.path}`, () => removeIfPresent(this.path, unlink));
  }
}

/** Creates the lock file exclusively; false if it already exists. */
async function tryCreate(path: string): Promise<boolean> {
  return io(`create lock ${path}`, async () => {
    try {
      const handle = await open(path, 'wx');
      try {
        await handle.writeFile(`${process.pid}\n`);
      } finally {
        await handle.close();
      }
      return true;
    } catch (cause) {
      if (errnoCode(cause) === 'EEXIST') return false;
      throw cause;
    }
  });
}

/** The pid in a lock file, or null if the file is gone, empty or garbled (a crash mid-write). */
async function readHolder(path: string): Promise<number | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if (errnoCode(cause) === 'ENOENT') return null;
    return failStorage('STORAGE_IO', `read lock ${path}: ${String(cause)}`, cause);
  }
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

/** Signal 0 checks existence without signalling; EPERM means it exists but is not ours. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (cause) {
    return errnoCode(cause) === 'EPERM';
  }
}
