// `synod elect NAME [VALUE]`: campaigns for leadership of NAME on a lock backend, prints every
// change of leader, holds leadership until SIGINT/SIGTERM and then resigns; `--listen` only
// observes. One line per change (or one JSON object per line with --json).
import { hostname } from 'node:os';
import type { Command } from 'commander';
import type { Election, Leader, Leadership } from '../lock/api.js';
import { isLockError } from '../lock/errors.js';
import { CliError } from './errors.js';
import { checkBackendFlags, cliErrorOf, exitCodeOf, Interrupts, lockFlags, openElection, ttlOf, waitOf, type LockFlags } from './lock-backends.js';

interface ElectFlags extends LockFlags {
  listen?: boolean;
}

const HELP = `
Output, one line per change of leader (--json: one object per line):
  leader NAME: VALUE (token T)     a leader, or a new value of the same one (T: the term's fencing token; none on redlock)
  no leader of NAME
  elected NAME: VALUE (token T)    this process became the leader
  resigned NAME                    after SIGINT/SIGTERM, this process stepped down
A leader whose lease may have been lost prints "synod: leadership of NAME lost ... [LEASE_LOST]" and exits 1.
Exit codes: 0 after an interrupt; 1 leadership lost or backend failed; 2 bad input; 75 --wait ran out; 128+n interrupted by signal n while campaigning.

Examples:
  synod elect scheduler node-a --ttl 5s       # campaign as node-a; Ctrl-C resigns
  synod elect scheduler --listen              # print every leader change
  synod elect scheduler node-b --backend redis --redis 127.0.0.1:6379 --json
`;

export function registerElectCommand(program: Command): void {
  lockFlags(program.command('elect <name> [value...]').description('campaign for leadership of NAME (VALUE: what this leader announces) and print leader changes; --listen only observes'))
    .option('--listen', 'observe: print every change of leader until interrupted')
    .addHelpText('after', HELP)
    .action((name: string, values: string[], flags: ElectFlags) => runElect(name, values, flags));
}

function shown(name: string, leader: Leader | null, json: boolean, event = 'leader'): string {
  if (json) return JSON.stringify(leader === null ? { event, name, leader: null } : { event, name, value: leader.value, token: leader.token });
  if (leader === null) return `no leader of ${name}`;
  return `${event} ${name}: ${leader.value} (token ${leader.token === null ? 'none' : String(leader.token)})`;
}

async function runElect(name: string, values: readonly string[], flags: ElectFlags): Promise<void> {
  checkBackendFlags(flags);
  if (name.length === 0) throw new CliError('BAD_ARGUMENT', 'the election name is empty');
  if (flags.listen === true && values.length > 0) throw new CliError('BAD_ARGUMENT', `--listen only observes: it takes no value or command (got "${values.join(' ')}")`);
  if (values.length > 1) throw new CliError('BAD_ARGUMENT', `one VALUE at most (got ${values.length}: quote a value with spaces)`);
  const ttlMs = ttlOf(flags);
  const waitMs = waitOf(flags);
  const json = flags.json === true;
  const say = (line: string): void => void process.stdout.write(line + '\n');

  // every signal ends the command: a campaign is aborted, a term is resigned
  const interrupts = new Interrupts();
  const stop = interrupts.waiting;
  let election: Election<number> | Election<null> | undefined;
  try {
    election = await openElection(flags);
    const anyElection = election as Election<number | null>;
    // a campaigner prints its own term once, as "elected", not again as the leader it observes
    let own: { readonly value: string; readonly token: number | null } | undefined = undefined;
    const isOwn = (leader: Leader<number | null> | null): boolean => own !== undefined && leader !== null && leader.value === own.value && leader.token === own.token;
    const observing = observe(anyElection, name, stop.signal, (leader) => {
      if (!isOwn(leader)) say(shown(name, leader, json));
    });
    if (flags.listen === true) return await observing;
    // a campaigner's view of the others is a bonus: its own term is what it answers for
    observing.catch(() => undefined);
    const value = values[0] ?? `${hostname()}:${process.pid}`;
    let leadership: Leadership<number | null>;
    try {
      leadership = await anyElection.campaign(name, value, { ttlMs, ...(waitMs === undefined ? {} : { waitMs }), signal: stop.signal });
    } catch (err) {
      const received = interrupts.received;
      if (isLockError(err, 'LOCK_ABORTED') && received !== undefined) throw new CliError('LOCK_ABORTED', `interrupted by ${received} while campaigning`, exitCodeOf(received));
      throw err;
    }
    own = { value: leadership.value, token: leadership.token };
    say(shown(name, leadership, json, 'elected'));
    const lost = await new Promise<boolean>((resolve) => {
      if (leadership.signal.aborted) return resolve(true);
      leadership.signal.addEventListener('abort', () => resolve(true), { once: true });
      stop.signal.addEventListener('abort', () => resolve(false), { once: true });
    });
    if (lost) {
      const reason = leadership.signal.reason instanceof Error ? leadership.signal.reason.message : 'its lease may have expired';
      throw new CliError('LEASE_LOST', `leadership of ${name} lost: ${reason}`, 1);
    }
    await anyElection.resign(leadership).catch(() => undefined);
    say(json ? JSON.stringify({ event: 'resigned', name }) : `resigned ${name}`);
  } catch (err) {
    throw cliErrorOf(err);
  } finally {
    stop.abort();
    interrupts.close();
    await election?.close().catch(() => undefined);
  }
}

/** Prints every leader change until `signal` aborts; a failing observe is one error line. */
async function observe(election: Election<number | null>, name: string, signal: AbortSignal, print: (leader: Leader<number | null> | null) => void): Promise<void> {
  try {
    for await (const leader of election.observe(name, { signal })) print(leader);
  } catch (err) {
    if (signal.aborted) return;
    throw err;
  }
}
