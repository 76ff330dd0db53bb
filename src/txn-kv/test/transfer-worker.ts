// A process that runs transfers between accounts on two shards until it is killed, printing one
// JSON line per step and per attempt's outcome, for the real-process test. `--crash-at STEP:N`
// makes it exit abruptly at that step of its Nth transaction (a coordinator crash on cue).
import { readFileSync } from 'node:fs';
import { ShardSet, transfer, type AccountRef, type CommitStep } from '../index.js';

interface WorkerArgs {
  shards: string;
  cacerts: string[];
  accounts: AccountRef[];
  crashAt?: { step: CommitStep; txn: number };
  seed: number;
}

function parseArgs(argv: readonly string[]): WorkerArgs {
  const args: WorkerArgs = { shards: '', cacerts: [], accounts: [], seed: 1 };
  for (let i = 0; i < argv.length; i += 2) {
    const value = argv[i + 1] ?? '';
    if (argv[i] === '--shards') args.shards = value;
    else if (argv[i] === '--cacerts') args.cacerts = value.split(',').filter(Boolean);
    else if (argv[i] === '--accounts') args.accounts = value.split(',').map((a) => ({ shard: a.slice(0, a.indexOf(':')), key: a.slice(a.indexOf(':') + 1) }));
    else if (argv[i] === '--seed') args.seed = Number(value);
    else if (argv[i] === '--crash-at') args.crashAt = { step: value.split(':')[0] as CommitStep, txn: Number(value.split(':')[1]) };
  }
  return args;
}

const args = parseArgs(process.argv.slice(2));
const set = new ShardSet(JSON.parse(args.shards), args.cacerts.length === 0 ? {} : { tls: { ca: args.cacerts.map((f) => readFileSync(f)) } });
const say = (line: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(line)}\n`);
let begun = 0;
let state = args.seed;
const next = (n: number): number => {
  state = (state * 1103515245 + 12345) % 2 ** 31;
  return state % n;
};

const onStep = (step: CommitStep, txnId: string): void => {
  if (step === 'begin') begun++;
  say({ step, txnId });
  if (args.crashAt !== undefined && args.crashAt.step === step && args.crashAt.txn === begun) {
    say({ crash: step, txnId });
    process.exit(9);
  }
};

const byShard = (shard: string): AccountRef[] => args.accounts.filter((a) => a.shard === shard);
const shards = [...new Set(args.accounts.map((a) => a.shard))];
for (let i = 0; i < 1_000_000; i++) {
  // always across two shards
  const fromShard = shards[next(shards.length)] as string;
  const toShard = shards.find((s) => s !== fromShard) as string;
  const from = byShard(fromShard)[next(byShard(fromShard).length)] as AccountRef;
  const to = byShard(toShard)[next(byShard(toShard).length)] as AccountRef;
  try {
    const result = await transfer(set, from, to, 1 + next(20), { recordOutcome: true, onStep, attempts: 5, backoffMs: 30, onAttempt: (r) => say({ txnId: r.txnId, outcome: r.outcome, unapplied: r.unapplied }) });
    say({ transfer: result.kind });
  } catch (err) {
    say({ error: (err as Error).message, code: (err as { code?: string }).code ?? null, txnId: (err as { txnId?: string }).txnId ?? null });
  }
}
