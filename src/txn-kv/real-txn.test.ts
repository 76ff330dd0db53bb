// Transfers across two real Synod clusters (two shards, three node processes each) by worker
// processes that are killed (kill -9), stopped (SIGSTOP) and crashed on cue after PREPARE and
// after the decision, while a shard's leader is killed and restarted; a recovery loop finishes
// what they leave. Checked: no money created or destroyed, every transaction applied on both
// shards or on neither, what a worker was told matches what the shards hold, nothing left locked.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JsonValue } from '../core/index.js';
import { leaderAmong, repoRoot, startTestCluster, tsxCommand, trackChild, waitUntil, type TestClusterHandle } from '../server/test/harness.js';
import { recoverInDoubt, ShardSet, TXN_PREFIX, type ShardSetConfig } from './index.js';

const ACCOUNTS_PER_SHARD = 4;
const OPENING_BALANCE = 100;
const WORKER = join(repoRoot, 'src/txn-kv/test/transfer-worker.ts');

interface WorkerLine {
  step?: string;
  txnId?: string;
  outcome?: 'commit' | 'abort';
  crash?: string;
  transfer?: string;
  error?: string;
}

const clusters: TestClusterHandle[] = [];
const workers: ChildProcess[] = [];
afterAll(async () => {
  for (const w of workers) w.kill('SIGKILL');
  for (const c of clusters) await c.cleanup();
});

describe('multi-shard transactions on real processes', () => {
  it('transfers stay atomic and conserve money under kill -9, SIGSTOP and coordinator crashes after PREPARE and after the decision', async () => {
    const [a, b] = await Promise.all([startTestCluster(3), startTestCluster(3)]);
    clusters.push(a, b);
    const config: ShardSetConfig = { shards: { a: Object.values(a.endpoints), b: Object.values(b.endpoints) }, decisions: 'a' };
    const cacerts = [a, b].map((c) => join(c.dataDir, 'tls', 'ca.crt'));
    const set = new ShardSet(config, { tls: { ca: cacerts.map((f) => readFileSync(f)) } });
    const accounts = ['a', 'b'].flatMap((shard) => Array.from({ length: ACCOUNTS_PER_SHARD }, (_, i) => ({ shard, key: `acct/${shard}${i}` })));
    for (const acct of accounts) await set.client(acct.shard).put(acct.key, OPENING_BALANCE);
    const total = accounts.length * OPENING_BALANCE;

    const lines: WorkerLine[] = [];
    const startWorker = (seed: number, crashAt?: string): ChildProcess => {
      const args = ['--shards', JSON.stringify(config), '--cacerts', cacerts.join(','), '--accounts', accounts.map((x) => `${x.shard}:${x.key}`).join(','), '--seed', String(seed), ...(crashAt === undefined ? [] : ['--crash-at', crashAt])];
      const child = trackChild(spawn(process.execPath, [...tsxCommand, WORKER, ...args], { stdio: ['ignore', 'pipe', 'inherit'] }));
      let pending = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        pending += chunk.toString();
        const parts = pending.split('\n');
        pending = parts.pop() ?? '';
        for (const part of parts) if (part.trim() !== '') lines.push(JSON.parse(part) as WorkerLine);
      });
      workers.push(child);
      return child;
    };

    // a recovery loop, as an operator's `synod txn2pc recover` would run: intents older than 1.5 s are in doubt
    let recovering = true;
    const recovered = { decidedNow: 0, decidedBefore: 0 };
    const recovery = (async () => {
      while (recovering) {
        const report = await recoverInDoubt(set, { inDoubtAfterMs: 1_500, recordOutcome: true });
        for (const s of report.settled) recovered[s.how === 'decided-now' ? 'decidedNow' : 'decidedBefore']++;
        await new Promise((r) => setTimeout(r, 300));
      }
    })();

    // coordinators that die on cue: after PREPARE (in doubt: recovery must abort) and after the decision (recovery must apply it)
    // (each alone, so that nothing conflicts with its transactions and both shards vote yes)
    const crashedAfterPrepare = startWorker(101, 'prepared:3');
    await waitUntil('the crash after PREPARE', async () => crashedAfterPrepare.exitCode !== null, 60_000);
    // its locks stay until recovery aborts it (1.5 s on): the next one waits for that, or it would only meet locks
    await waitUntil('recovery to abort the transaction left in doubt', async () => (await Promise.all(['a', 'b'].map((x) => set.client(x).range({ prefix: `${TXN_PREFIX}intent/` })))).every((r) => r.items.length === 0), 60_000);
    const crashedAfterDecision = startWorker(102, 'decided:3');
    await waitUntil('the crash after the decision', async () => crashedAfterDecision.exitCode !== null, 60_000);
    let seed = 1;
    const running = [startWorker(seed++), startWorker(seed++)];

    // the nemesis: kill -9 a worker now and then, SIGSTOP one past the in-doubt time, kill -9 a shard's leader
    for (let round = 0; round < 4; round++) {
      await new Promise((r) => setTimeout(r, 1_500));
      const victim = running.shift() as ChildProcess;
      victim.kill('SIGKILL');
      running.push(startWorker(seed++));
    }
    const stopped = running[0] as ChildProcess;
    stopped.kill('SIGSTOP');
    const leaderB = await leaderAmong(b.endpoints);
    b.kill(leaderB, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 3_000));
    b.restart(leaderB);
    stopped.kill('SIGCONT');
    await new Promise((r) => setTimeout(r, 3_000));
    // on a loaded machine the workers may have done little in those seconds: the check below needs
    // more than a handful of outcomes to mean anything, so let the last ones work until they have
    const toldCount = (): number => lines.filter((l) => l.outcome !== undefined && l.txnId !== undefined).length;
    await waitUntil('workers to report more than 10 outcomes', async () => toldCount() > 10, 90_000);
    for (const w of workers) w.kill('SIGKILL');
    recovering = false;
    await recovery;

    // finish everything left in doubt
    await waitUntil('no intent and no decision left', async () => {
      const report = await recoverInDoubt(set, { inDoubtAfterMs: 0, recordOutcome: true });
      if (report.waiting > 0 || report.errors.length > 0) return false;
      const left = await Promise.all(['a', 'b'].map((s) => set.client(s).range({ prefix: `${TXN_PREFIX}intent/` })));
      const decisions = await set.client('a').range({ prefix: `${TXN_PREFIX}decision/` });
      return left.every((r) => r.items.length === 0) && decisions.items.length === 0;
    }, 60_000);

    // no money created or destroyed, no balance below zero, nothing locked
    const balances = await Promise.all(accounts.map(async (x) => (await set.client(x.shard).get(x.key)).value as number));
    expect(balances.reduce((s, v) => s + v, 0)).toBe(total);
    expect(balances.every((v) => v >= 0)).toBe(true);
    for (const shard of ['a', 'b']) expect((await set.client(shard).range({ prefix: `${TXN_PREFIX}lock/` })).items).toEqual([]);

    // atomicity: every transaction that left an outcome on one shard left the same on the other
    const outcomes = await Promise.all(['a', 'b'].map(async (s) => new Map((await set.client(s).range({ prefix: `${TXN_PREFIX}outcome/`, limit: 100_000 })).items.map((i) => [i.key.slice(`${TXN_PREFIX}outcome/`.length), i.value as JsonValue]))));
    const [onA, onB] = outcomes as [Map<string, JsonValue>, Map<string, JsonValue>];
    const mismatched = [...new Set([...onA.keys(), ...onB.keys()])].filter((id) => onA.get(id) !== onB.get(id) && onA.get(id) !== undefined && onB.get(id) !== undefined);
    expect(mismatched).toEqual([]);
    // a committed transfer is applied on both shards (an aborted one may have prepared on one only)
    const halfCommitted = [...new Set([...onA.keys(), ...onB.keys()])].filter((id) => (onA.get(id) === 'commit') !== (onB.get(id) === 'commit'));
    expect(halfCommitted).toEqual([]);

    // what each worker was told is what the shards hold
    const told = lines.filter((l) => l.outcome !== undefined && l.txnId !== undefined);
    expect(told.length).toBeGreaterThan(10);
    for (const l of told) {
      if (l.outcome === 'commit') expect([onA.get(l.txnId as string), onB.get(l.txnId as string)], l.txnId).toEqual(['commit', 'commit']);
      else expect(onA.get(l.txnId as string) ?? 'abort', l.txnId).toBe('abort');
    }
    // the coordinator that died after PREPARE: recovery aborted its transaction on both shards
    const afterPrepare = lines.find((l) => l.crash === 'prepared')?.txnId as string;
    expect(afterPrepare).toBeDefined();
    expect([onA.get(afterPrepare), onB.get(afterPrepare)]).toEqual(['abort', 'abort']);
    // the coordinator that died after deciding commit: recovery applied the commit on both
    const afterDecision = lines.find((l) => l.crash === 'decided')?.txnId as string;
    expect(afterDecision).toBeDefined();
    expect([onA.get(afterDecision), onB.get(afterDecision)]).toEqual(['commit', 'commit']);
    expect(recovered.decidedNow).toBeGreaterThanOrEqual(1);
    const commits = told.filter((l) => l.outcome === 'commit').length;
    console.log(`multi-shard transfers: ${commits} committed, ${told.length - commits} aborted attempts; recovery decided ${recovered.decidedNow} in-doubt transactions and finished ${recovered.decidedBefore} decided ones`);
    set.close();
  }, 330_000);
});
