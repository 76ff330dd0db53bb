// Port blocks for the tests' local clusters (control P, clients P+1.., peers P+101..), claimed
// across every test process at once: a claim is an exclusive file in the temp directory, so two
// test files (in any worker, in any order) never share a block, and each port is checked free.
import { mkdirSync, openSync, closeSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Below 32768: Linux hands out ephemeral ports (port 0, outgoing connections) from 32768 up, and a
// test binding port 0 at the same time could take one of ours.
const FIRST_BASE = 20_000;
const BLOCK_PORTS = 200;
const BLOCKS = 63; // 20,000 .. 32,599
/** Members a block leaves room for (clients P+1..P+N, peers P+101..P+100+N). */
const MEMBERS_CHECKED = 9;

const CLAIMS_DIR = join(tmpdir(), 'synod-test-port-blocks');
const held = new Map<number, string>();
process.once('exit', () => {
  for (const file of held.values()) unclaim(file);
});

export interface PortBlock {
  /** The block's base port: the control API listens here, client i on base+i, peer i on base+100+i. */
  readonly base: number;
  /** Gives the block back (its processes must have stopped). Idempotent. */
  release(): void;
}

/** Claims a free block of ports for one local cluster; released by `release()` or when this process exits. */
export async function reservePortBlock(): Promise<PortBlock> {
  mkdirSync(CLAIMS_DIR, { recursive: true });
  const start = (process.pid * 7) % BLOCKS;
  for (let k = 0; k < BLOCKS; k++) {
    const base = FIRST_BASE + ((start + k) % BLOCKS) * BLOCK_PORTS;
    if (held.has(base)) continue;
    const file = claim(base);
    if (file === undefined) continue;
    if (await allFree(portsOf(base))) {
      held.set(base, file);
      return { base, release: () => release(base) };
    }
    unclaim(file); // someone outside the tests listens there: leave it alone
  }
  throw new Error(`no free block of test ports between ${FIRST_BASE} and ${FIRST_BASE + BLOCKS * BLOCK_PORTS}`);
}

function release(base: number): void {
  const file = held.get(base);
  if (file === undefined) return;
  held.delete(base);
  unclaim(file);
}

function portsOf(base: number): number[] {
  const ports = [base];
  for (let i = 1; i <= MEMBERS_CHECKED; i++) ports.push(base + i, base + 100 + i);
  return ports;
}

/** The claim file for `base` if this process got it; a claim whose process is gone is taken over. */
function claim(base: number): string | undefined {
  const file = join(CLAIMS_DIR, `${base}.pid`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return file;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (ownerAlive(file)) return undefined;
      unclaim(file);
    }
  }
  return undefined;
}

function ownerAlive(file: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(file, 'utf8'));
  } catch {
    return false;
  }
  // an empty file is a claim being written right now
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function unclaim(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

async function allFree(ports: readonly number[]): Promise<boolean> {
  return (await Promise.all(ports.map(portFree))).every(Boolean);
}

function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}
