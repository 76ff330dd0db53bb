// `synod lock NAME [-- COMMAND...]`: runs a command while holding a distributed lock (Synod, etcd,
// Redis or Redlock), the grant in its environment, as `etcdctl lock` does; kills the command when
// the lease may have been lost. With --stonith, powers off the previous holder first (supervisor).
import { spawn, type ChildProcess } from 'node:child_process';
import type { Command } from 'commander';
import type { Lock, LockGrant } from '../lock/api.js';
import { isLockError } from '../lock/errors.js';
import { usingLockWithStonith } from '../lock/stonith.js';
import { usingLock } from '../lock/using.js';
import { CliError } from './errors.js';
import { connectionOf } from './kv.js';
import { checkBackendFlags, cliErrorOf, EXIT_LOCK_TIMEOUT, exitCodeOf, Interrupts, lockFlags, openLock, SupervisorStonith, supervisorUrlOf, ttlOf, waitOf, type LockFlags } from './lock-backends.js';

/** How long a command has to exit after SIGTERM, once the lease may be lost, before SIGKILL. */
const KILL_GRACE_MS = 5000;

interface LockCommandFlags extends LockFlags {
  stonith?: boolean;
  supervisor?: string;
}

type Outcome = { kind: 'exited'; code: number } | { kind: 'released' } | { kind: 'lost'; reason: string } | { kind: 'spawn-failed'; message: string };

const HELP = `
The command runs with the grant in its environment:
  SYNOD_LOCK_NAME     the lock's name
  SYNOD_LOCK_TOKEN    the fencing token (strictly increasing per name); empty on redlock, which has none
  SYNOD_LOCK_HOLDER   this grant's holder id (a lease id on synod and etcd)
  SYNOD_LOCK_BACKEND  synod, etcd, redis or redlock
  SYNOD_LOCK_TTL_MS   the lease TTL in ms
The lease is kept alive while the command runs. If it may have been lost, the command gets SIGTERM
(SIGKILL ${KILL_GRACE_MS / 1000} s later), synod prints "synod: lock NAME lost ... [LEASE_LOST]" and exits 1.
Otherwise it releases the lock and exits with the command's exit code (128+n if signal n killed it).
SIGINT and SIGTERM are passed on to the command. Without a command, prints the grant and holds
the lock until SIGINT or SIGTERM, then releases it.
Exit codes: the command's; 1 lock lost or backend failed; 2 bad input; ${EXIT_LOCK_TIMEOUT} --wait ran out
(LOCK_TIMEOUT); 127 the command could not be started; 128+n interrupted by signal n while waiting.

--stonith (synod and etcd backends; the local cluster of \`synod cluster up\`): registers this
process with the supervisor and records the registration next to the grant; the next holder
has the supervisor kill this process and its command before running its own. If that fails it
does not run its command (STONITH_FAILED, exit 1).

Examples:
  synod lock nightly-report -- ./make-report.sh
  synod lock deploy --ttl 30s --wait 2m -- sh -c 'echo "token $SYNOD_LOCK_TOKEN"; ./deploy'
  synod lock jobs --backend redis --redis 127.0.0.1:6379 -- ./job
  synod lock jobs --backend etcd --etcd-endpoints http://127.0.0.1:2379 -- ./job
  synod lock jobs --backend redlock --redlock h1:6379,h2:6379,h3:6379,h4:6379,h5:6379 -- ./job
  synod lock maintenance          # hold it until Ctrl-C
  synod lock singleton --stonith -- ./worker
`;

export function registerLockCommand(program: Command): void {
  lockFlags(program.command('lock <name> [command...]').description('run a command while holding a distributed lock (the fencing token in its environment); without a command, hold it until Ctrl-C'))
    .option('--stonith', 'register with the local cluster\'s supervisor; the next holder has it kill this process (and its command) first')
    .option('--supervisor <url>', 'the supervisor\'s control URL for --stonith (default: env SYNOD_SUPERVISOR, else the base port of ./synod-data/cluster.json, else http://127.0.0.1:7000)')
    .addHelpText('after', HELP)
    .action((name: string, command: string[], flags: LockCommandFlags) => runLock(name, command, flags));
}

async function runLock(name: string, command: readonly string[], flags: LockCommandFlags): Promise<void> {
  const backend = checkBackendFlags(flags);
  if (name.length === 0) throw new CliError('BAD_ARGUMENT', 'the lock name is empty');
  const ttlMs = ttlOf(flags);
  const waitMs = waitOf(flags);
  if (flags.stonith === true && backend !== 'synod' && backend !== 'etcd') throw new CliError('BAD_OPTION', '--stonith needs the synod or etcd backend (it orders holders by fencing token and keeps their records in the store)');
  if (flags.stonith !== true && flags.supervisor !== undefined) throw new CliError('BAD_OPTION', '--supervisor goes with --stonith');
  const supervisor = flags.stonith === true ? new SupervisorStonith(supervisorUrlOf(flags.supervisor), connectionOf(flags).options.headers ?? {}) : undefined;

  const interrupts = new Interrupts();
  const { lock, stonithRecords } = await openLock(flags).catch((err: unknown) => {
    interrupts.close();
    throw cliErrorOf(err);
  });
  const anyLock = lock as Lock<number | null>;
  let target: string | undefined;
  let outcome: Outcome;
  try {
    const options = { ttlMs, ...(waitMs === undefined ? {} : { waitMs }), signal: interrupts.waiting.signal };
    const body = (grant: LockGrant<number | null>, signal: AbortSignal): Promise<Outcome> => hold(grant, signal, command, anyLock.backend, ttlMs, flags, interrupts);
    if (supervisor !== undefined && stonithRecords !== undefined) {
      target = await supervisor.register(process.pid);
      outcome = await usingLockWithStonith(lock as Lock<number>, name, options, { records: stonithRecords, target, powerOff: (id) => supervisor.powerOff(id) }, body);
    } else {
      outcome = await usingLock(anyLock, name, options, body);
    }
  } catch (err) {
    if (isLockError(err, 'LOCK_ABORTED') && interrupts.waiting.signal.aborted) throw interrupts.waiting.signal.reason;
    throw cliErrorOf(err);
  } finally {
    interrupts.close();
    if (target !== undefined) await supervisor?.unregister(target).catch(() => undefined);
    await lock.close().catch(() => undefined);
  }
  switch (outcome.kind) {
    case 'lost':
      throw new CliError('LEASE_LOST', `lock ${name} lost: ${outcome.reason}${command.length > 0 ? '; the command was stopped' : ''}`, 1);
    case 'spawn-failed':
      throw new CliError('COMMAND_FAILED', outcome.message, 127);
    case 'released':
      if (flags.json === true) process.stdout.write(JSON.stringify({ released: name }) + '\n');
      else process.stdout.write(`lock ${name} released\n`);
      process.exitCode = 0;
      return;
    case 'exited':
      process.exitCode = outcome.code;
  }
}

/** While the lock is held: run the command (or wait for an interrupt) until it ends or the lease may be lost. */
function hold(grant: LockGrant<number | null>, signal: AbortSignal, command: readonly string[], backend: string, ttlMs: number, flags: LockFlags, interrupts: Interrupts): Promise<Outcome> {
  const reasonOf = (): string => (signal.reason instanceof Error ? signal.reason.message : 'its lease may have expired');
  if (command.length === 0) {
    const token = grant.token === null ? '' : String(grant.token);
    if (flags.json === true) process.stdout.write(JSON.stringify({ name: grant.name, token: grant.token, holder: grant.holder, backend, ttlMs }) + '\n');
    else process.stdout.write(`lock ${grant.name} held: token ${token === '' ? '(none on redlock)' : token}, holder ${grant.holder} (Ctrl-C releases it)\n`);
    return new Promise((resolve) => {
      if (signal.aborted) return resolve({ kind: 'lost', reason: reasonOf() });
      signal.addEventListener('abort', () => resolve({ kind: 'lost', reason: reasonOf() }), { once: true });
      interrupts.route(() => resolve({ kind: 'released' }));
    });
  }
  if (signal.aborted) return Promise.resolve({ kind: 'lost', reason: reasonOf() });
  const env = {
    ...process.env,
    SYNOD_LOCK_NAME: grant.name,
    SYNOD_LOCK_TOKEN: grant.token === null ? '' : String(grant.token),
    SYNOD_LOCK_HOLDER: grant.holder,
    SYNOD_LOCK_BACKEND: backend,
    SYNOD_LOCK_TTL_MS: String(ttlMs),
  };
  return new Promise((resolve) => {
    const child: ChildProcess = spawn(command[0] as string, command.slice(1), { stdio: 'inherit', env });
    let lostReason: string | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    child.once('error', (err) => {
      signal.removeEventListener('abort', onLost);
      resolve({ kind: 'spawn-failed', message: `cannot run ${JSON.stringify(command[0])}: ${(err as NodeJS.ErrnoException).code ?? err.message}` });
    });
    child.once('exit', (code, sig) => {
      clearTimeout(killTimer);
      signal.removeEventListener('abort', onLost);
      if (lostReason !== undefined) return resolve({ kind: 'lost', reason: lostReason });
      resolve({ kind: 'exited', code: code ?? (sig === null ? 128 : exitCodeOf(sig)) });
    });
    const onLost = (): void => {
      lostReason = reasonOf();
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    };
    signal.addEventListener('abort', onLost, { once: true });
    interrupts.route((sig) => child.kill(sig));
  });
}
