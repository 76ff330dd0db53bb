// The supervisor's STONITH targets: processes on this machine that registered to be powered off
// by a lock's next holder (`synod lock --stonith`). Only registered processes can be killed, by an
// unguessable registration id, and only while /proc shows the same process (its start time) as at
// registration, so a pid reused by another process is never hit. Linux only (/proc).
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { SupervisorError } from './errors.js';
import { procStat, type ProcStat } from './proc-stat.js';

/** The most registrations kept at once (dead ones are dropped first when full). */
export const MAX_STONITH_TARGETS = 1000;
/** How long a power-off waits for the processes it killed to be gone. */
const DEATH_WAIT_MS = 3000;
const DEATH_POLL_MS = 20;
/** The most processes one power-off stops (the target and its descendants). */
const MAX_TREE_PROCESSES = 1000;
/** How many passes look for descendants forked while the tree was being stopped. */
const TREE_PASSES = 4;
const ID_PATTERN = /^[0-9a-f]{32}$/;
const MAX_PID = 4_194_304;

/** A process is gone for STONITH once it no longer exists, is a zombie, or is another process now. */
function gone(pid: number, startTime: string): boolean {
  const stat = procStat(pid);
  return stat === undefined || stat.startTime !== startTime || stat.state === 'Z' || stat.state === 'X';
}

export interface StonithTargetView {
  readonly id: string;
  readonly pid: number;
}

interface Target extends StonithTargetView {
  readonly startTime: string;
}

export class StonithTargets {
  private readonly targets = new Map<string, Target>();

  /** `protectedPids`: processes never to register (the node processes); this process and its ancestors are always refused. */
  constructor(private readonly protectedPids: () => readonly number[]) {}

  /** Registers a running process of this user; the same process registered twice gets its first id. */
  register(pidValue: unknown): StonithTargetView {
    if (typeof pidValue !== 'number' || !Number.isSafeInteger(pidValue) || pidValue < 2 || pidValue > MAX_PID) throw new SupervisorError('BAD_PID', `"pid" must be a process id (a whole number from 2 to ${MAX_PID})`);
    const pid = pidValue;
    const stat = procStat(pid);
    if (stat === undefined || stat.state === 'Z') throw new SupervisorError('NO_SUCH_PROCESS', `no running process ${pid}`);
    if (this.refused(pid)) throw new SupervisorError('PROTECTED_PROCESS', `process ${pid} is the supervisor, one of its ancestors or one of its nodes: it cannot be a STONITH target`);
    if (!sameUser(pid)) throw new SupervisorError('PROTECTED_PROCESS', `process ${pid} belongs to another user`);
    for (const t of this.targets.values()) if (t.pid === pid && t.startTime === stat.startTime) return { id: t.id, pid };
    if (this.targets.size >= MAX_STONITH_TARGETS) for (const [id, t] of this.targets) if (gone(t.pid, t.startTime)) this.targets.delete(id);
    if (this.targets.size >= MAX_STONITH_TARGETS) throw new SupervisorError('TOO_MANY_TARGETS', `already ${MAX_STONITH_TARGETS} STONITH targets registered`);
    const id = randomBytes(16).toString('hex');
    this.targets.set(id, { id, pid, startTime: stat.startTime });
    return { id, pid };
  }

  /** Forgets a registration (its holder finished cleanly); unknown ids are fine (it may have been powered off). */
  unregister(id: string): void {
    checkId(id);
    this.targets.delete(id);
  }

  /**
   * Powers off a registered process and everything it started: stops the whole tree first (so it
   * forks nothing more and no child is orphaned out of reach), then kills it, and waits until every
   * one is gone. A target already gone counts as done. STONITH_FAILED if one outlives the wait.
   */
  async powerOff(id: string): Promise<{ readonly pid: number; readonly killed: readonly number[]; readonly alreadyOff: boolean }> {
    checkId(id);
    const target = this.targets.get(id);
    if (target === undefined) throw new SupervisorError('NO_SUCH_TARGET', `no STONITH target ${id} (never registered, or unregistered)`);
    if (gone(target.pid, target.startTime)) {
      this.targets.delete(id);
      return { pid: target.pid, killed: [], alreadyOff: true };
    }
    const tree = this.stopTree(target);
    for (const p of tree) signal(p.pid, 'SIGKILL');
    const deadline = Date.now() + DEATH_WAIT_MS;
    // bounded by DEATH_WAIT_MS
    while (tree.some((p) => !gone(p.pid, p.startTime))) {
      if (Date.now() > deadline) throw new SupervisorError('STONITH_FAILED', `process ${target.pid}: still running ${DEATH_WAIT_MS} ms after SIGKILL`, 1);
      await new Promise((r) => setTimeout(r, DEATH_POLL_MS));
    }
    this.targets.delete(id);
    return { pid: target.pid, killed: tree.map((p) => p.pid), alreadyOff: false };
  }

  /** SIGSTOPs the target and, pass after pass, every descendant found; answers them all with their start times. */
  private stopTree(root: Target): { pid: number; startTime: string }[] {
    const stopped = new Map<number, string>([[root.pid, root.startTime]]);
    signal(root.pid, 'SIGSTOP');
    for (let pass = 0; pass < TREE_PASSES; pass++) {
      let added = 0;
      for (const [pid, stat] of allProcesses()) {
        if (stopped.has(pid) || !stopped.has(stat.ppid) || stopped.size >= MAX_TREE_PROCESSES || this.refused(pid)) continue;
        signal(pid, 'SIGSTOP');
        stopped.set(pid, stat.startTime);
        added++;
      }
      if (added === 0) break;
    }
    return [...stopped].map(([pid, startTime]) => ({ pid, startTime }));
  }

  private refused(pid: number): boolean {
    if (this.protectedPids().includes(pid)) return true;
    // this process and its ancestors, up to init
    for (let p = process.pid, steps = 0; p > 0 && steps < 1000; steps++) {
      if (p === pid) return true;
      const stat = procStat(p);
      if (stat === undefined) break;
      p = stat.ppid;
    }
    return false;
  }
}

function checkId(id: string): void {
  if (!ID_PATTERN.test(id)) throw new SupervisorError('BAD_TARGET_ID', 'a STONITH target id is 32 lowercase hex digits');
}

function sameUser(pid: number): boolean {
  try {
    return process.getuid === undefined || statSync(`/proc/${pid}`).uid === process.getuid();
  } catch {
    return false;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // gone meanwhile: `gone` checks
  }
}

/** Every process in /proc with its stat (bounded by the number of processes on the machine). */
function allProcesses(): [number, ProcStat][] {
  const out: [number, ProcStat][] = [];
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const stat = procStat(Number(name));
    if (stat !== undefined) out.push([Number(name), stat]);
  }
  return out;
}
