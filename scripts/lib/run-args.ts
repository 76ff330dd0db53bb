// Command-line pieces shared by the long randomized check scripts (etcd-lock-check.ts,
// synod-lock-check.ts): one-line errors with exit 2, durations, bounded integers, and an
// interrupt that stops the run cleanly (twice: leave at once).

/** Prints one line and exits 2 (bad input). */
export function fail(message: string): never {
  process.stderr.write(`synod: ${message} [BAD_OPTION]\n`);
  process.exit(2);
}

/** "60s", "2m", "5000ms" (or a bare number of seconds) as milliseconds, from 1 s to 24 h. */
export function parseDurationMs(text: string): number {
  const m = /^(\d+)(ms|s|m)?$/.exec(text);
  if (m === null) fail(`--duration ${JSON.stringify(text)} is not a duration like 60s, 2m or 5000ms`);
  const ms = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000);
  if (ms < 1000 || ms > 24 * 3_600_000) fail(`--duration must be between 1s and 24h, got ${text}`);
  return ms;
}

/** An integer flag's value in [min, max]. */
export function parseIntFlag(flag: string, text: string | undefined, min: number, max: number): number {
  const n = Number(text);
  if (text === undefined || !/^-?\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) fail(`${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(text ?? '')}`);
  return n;
}

/** A signal that aborts on the first SIGINT or SIGTERM (the run then cleans up); a second one exits 130 at once. */
export function interruptSignal(what: string): AbortSignal {
  const controller = new AbortController();
  let interrupts = 0;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (++interrupts > 1) process.exit(130);
      process.stderr.write(`${sig}: stopping ${what} (again to leave at once)\n`);
      controller.abort();
    });
  }
  return controller.signal;
}

/** Runs a check and sets the exit status: 0 no violation, 1 violations, 130 interrupted, 3 the run failed. */
export async function runCheck<R>(signal: AbortSignal, run: () => Promise<R>, ok: (result: R) => boolean, print: (result: R) => void): Promise<void> {
  try {
    const result = await run();
    print(result);
    process.exitCode = ok(result) ? 0 : 1;
  } catch (err) {
    if (signal.aborted) {
      process.stderr.write('synod: interrupted; the cluster was stopped and its directory removed [INTERRUPTED]\n');
      process.exitCode = 130;
    } else {
      process.stderr.write(`synod: ${(err as Error).message} [RUN_FAILED]\n`);
      process.exitCode = 3;
    }
  }
}

/**
 * A script's arguments: prints `usage` and exits 0 on --help, exits 2 on an unknown argument;
 * `valued` flags take the next argument, `switches` take none. Returns the value of a flag (or
 * undefined when absent) and whether a switch was given.
 */
export function scriptArgs(usage: string, valued: readonly string[], switches: readonly string[]): { value(flag: string): string | undefined; has(flag: string): boolean } {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(usage);
    process.exit(0);
  }
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (valued.includes(a)) i++;
    else if (!switches.includes(a)) fail(`unknown argument ${JSON.stringify(a)}\n${usage}`);
  }
  return { value: (flag) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined), has: (flag) => args.includes(flag) };
}

