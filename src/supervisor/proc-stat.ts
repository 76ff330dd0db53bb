// One reader of /proc/<pid>/stat (Linux) for what the supervisor and the tools around it ask of a
// process: its state, parent, start time (which with the pid names one process for good) and CPU.
import { readFileSync } from 'node:fs';

export interface ProcStat {
  /** R, S, D, T (stopped), Z (zombie), X (dead), ... */
  readonly state: string;
  readonly ppid: number;
  /** Clock ticks after boot: with the pid, it names one process for good. */
  readonly startTime: string;
  /** User and system CPU time so far, in clock ticks. */
  readonly cpuTicks: number;
}

/** Clock ticks per second of the times in /proc/<pid>/stat (USER_HZ, 100 on Linux). */
export const CLOCK_TICKS_PER_SECOND = 100;

/** /proc/<pid>/stat, or undefined when there is no such process (or no /proc). */
export function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // the command name (field 2) is in parentheses and may hold spaces and ")": fields follow the last ")"
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(fields[1]);
  const startTime = fields[19];
  const cpuTicks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  if (fields[0] === undefined || !Number.isSafeInteger(ppid) || startTime === undefined || !Number.isFinite(cpuTicks)) return undefined;
  return { state: fields[0], ppid, startTime, cpuTicks };
}

/** Whether `pid` names a process that can still run (it exists and is not a zombie). */
export function processAlive(pid: number): boolean {
  const state = procStat(pid)?.state;
  return state !== undefined && state !== 'Z' && state !== 'X';
}
