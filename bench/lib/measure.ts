// Small pieces the side-by-side benchmarks share: a process's CPU time from /proc, the median of a
// few rounds, and reading a flag's value from the command line.
import { CLOCK_TICKS_PER_SECOND, procStat } from '../../src/supervisor/proc-stat.js';

/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat. */
export function cpuMs(pid: number): number {
  const stat = procStat(pid);
  if (stat === undefined) throw new Error(`no process ${pid} in /proc`);
  return (stat.cpuTicks * 1000) / CLOCK_TICKS_PER_SECOND;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The value after `flag` in `args`, or undefined when the flag is absent; throws when the value is missing. */
export function optionValue(args: readonly string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  if (at < 0) return undefined;
  const value = args[at + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`${flag} needs a value`);
  return value;
}
