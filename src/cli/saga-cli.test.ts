// End-to-end tests of `synod demo saga` and `synod saga list|show|resume` (the real command from
// source): the demo's sagas end as the lessons say and pass the checker; the log is read back
// offline and through a running orchestrator; hostile input (huge ids, malformed log records,
// a log out of turn, bad flags) gets one line and exit 2 for bad input, 1 for a refusal.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OpLogStore } from '../storage/op-log.js';
import { serveSagaAdmin } from '../saga-host/admin-http.js';
import { SagaOrchestrator, StepRejected } from '../saga-host/runner.js';
import { startSynod } from './test/cli-cluster.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'synod-saga-cli-'));
  dirs.push(d);
  return d;
}

const synod = (args: readonly string[]) => startSynod(args).done;

/** One line on stderr with a code, nothing on stdout, the given exit status. */
function refused(run: { status: number | null; stdout: string; stderr: string }, status: number, code: string): void {
  expect({ status: run.status, stdout: run.stdout, lines: run.stderr.trim().split('\n').length }).toEqual({ status, stdout: '', lines: 1 });
  expect(run.stderr).toContain(`[${code}]`);
}

describe.concurrent('synod demo saga', () => {
  it('runs the order saga over real HTTP services: each saga ends as expected and the checker passes (--json)', async () => {
    const run = await synod(['demo', 'saga', '--json']);
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as { sagas: { sagaId: string; status: string; expected: string; error: string | null }[]; check: { ok: boolean; committed: number; compensated: number; unfinished: number } };
    expect(out.sagas.map((s) => `${s.sagaId} ${s.status}`)).toEqual(['order-1 committed', 'order-2 committed', 'order-3 compensated', 'order-4 compensated', 'order-5 compensated', 'order-6 committed']);
    expect(out.sagas.find((s) => s.sagaId === 'order-3')?.error).toMatch(/payment declined/);
    expect(out.check).toMatchObject({ ok: true, committed: 3, compensated: 3, unfinished: 0 });
  }, 180_000);

  it('keeps its logs with --dir, flaky services still pass the checker, and saga list/show read them back', async () => {
    const dir = join(await tempDir(), 'demo');
    const run = await synod(['demo', 'saga', '--dir', dir, '--flaky-percent', '20']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/saga checker: ok/);
    const log = join(dir, 'orchestrator');
    const list = await synod(['saga', 'list', '--dir', log, '--json']);
    expect(list.status).toBe(0);
    const sagas = (JSON.parse(list.stdout) as { sagas: { sagaId: string; status: string }[] }).sagas;
    expect(sagas.map((s) => s.sagaId)).toEqual(['order-1', 'order-2', 'order-3', 'order-4', 'order-5', 'order-6']);
    expect(sagas.every((s) => s.status === 'committed' || s.status === 'compensated')).toBe(true);
    const show = await synod(['saga', 'show', 'order-1', '--dir', log]);
    expect(show.status).toBe(0);
    expect(show.stdout).toMatch(/^saga order-1 \(order\): (committed|compensated)/);
    refused(await synod(['saga', 'show', 'order-99', '--dir', log]), 1, 'SAGA_NOT_FOUND');
    refused(await synod(['demo', 'saga', '--dir', dir]), 2, 'BAD_OPTION'); // not empty
  }, 180_000);

  it('refuses bad flags with exit 2', async () => {
    const [flaky, delay, help] = await Promise.all([synod(['demo', 'saga', '--flaky-percent', '90']), synod(['demo', 'saga', '--delay-ms', 'soon']), synod(['demo', 'saga', '--help'])]);
    refused(flaky, 2, 'BAD_OPTION');
    refused(delay, 2, 'BAD_OPTION');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--flaky-percent/);
  }, 180_000);
});

describe.concurrent('synod saga', () => {
  it('hostile input: huge and malformed ids, missing or conflicting sources, bad urls', async () => {
    const dir = await tempDir();
    // spawned together: each is a separate process, and they do not interfere
    const runs = await Promise.all([
      synod(['saga', 'show', 'x'.repeat(100_000), '--dir', dir]),
      synod(['saga', 'show', 'a/b', '--dir', dir]),
      synod(['saga', 'list']),
      synod(['saga', 'list', '--dir', dir, '--url', 'http://127.0.0.1:1']),
      synod(['saga', 'list', '--dir', join(dir, 'nothing-here')]),
      synod(['saga', 'list', '--url', 'ftp://x']),
      synod(['saga', 'resume', 'a']),
      synod(['saga', 'list', '--url', 'http://127.0.0.1:1']),
    ]);
    const expected: [number, string][] = [[2, 'SAGA_BAD_ID'], [2, 'SAGA_BAD_ID'], [2, 'BAD_OPTION'], [2, 'BAD_OPTION'], [2, 'BAD_OPTION'], [2, 'BAD_OPTION'], [2, 'BAD_OPTION'], [1, 'SAGA_UNREACHABLE']];
    runs.forEach((run, i) => refused(run, ...(expected[i] as [number, string])));
    expect((await synod(['saga', 'bogus'])).status).toBe(2);
    const help = await synod(['saga', 'list', '--help']);
    expect({ status: help.status, dir: help.stdout.includes('--dir'), url: help.stdout.includes('--url') }).toEqual({ status: 0, dir: true, url: true });
  }, 180_000);

  it('a log with a malformed record is refused in one line; a log out of turn is shown with its problems', async () => {
    const bad = await tempDir();
    const store = await OpLogStore.open<unknown>(bad, { decodeOp: (v) => ({ op: v }) });
    await store.persist([{ kind: 'started', sagaId: 's1', saga: 'order', input: null }, { kind: 'exploded', sagaId: 's1' }, { kind: 'started', sagaId: 'y'.repeat(5_000), saga: 'x', input: 1 }]);
    await store.close();
    refused(await synod(['saga', 'list', '--dir', bad]), 1, 'SAGA_BAD_LOG');
    const odd = await tempDir();
    const store2 = await OpLogStore.open<unknown>(odd, { decodeOp: (v) => ({ op: v }) });
    await store2.persist([{ kind: 'succeeded', sagaId: 'ghost', step: 2, phase: 'action', output: 1 }, { kind: 'started', sagaId: 's2', saga: 'order', input: null }, { kind: 'finished', sagaId: 's2', outcome: 'committed' }, { kind: 'invoked', sagaId: 's2', step: 0, phase: 'action', attempt: 1 }]);
    await store2.close();
    const show = await synod(['saga', 'show', 's2', '--dir', odd, '--json']);
    expect(show.status).toBe(0);
    expect((JSON.parse(show.stdout) as { saga: { status: string; problems: string[] } }).saga).toMatchObject({ status: 'committed', problems: ['invoked record after the saga finished'] });
    const ghost = await synod(['saga', 'show', 'ghost', '--dir', odd]);
    expect(ghost.stdout).toMatch(/problem in the log: succeeded record before any started record/);
  }, 180_000);

  it('list, show and resume through a running orchestrator (--url); its locked log is refused with --dir', async () => {
    const dir = await tempDir();
    let calls = 0;
    const orchestrator = await SagaOrchestrator.open({
      dir,
      tickIntervalMs: 5,
      definitions: [
        {
          name: 'slow',
          steps: [
            // fails retriably with a long backoff: resume skips the wait
            { name: 'a', retry: { maxAttempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 }, action: () => { if (calls++ === 0) throw new Error('not yet'); return 'done'; }, compensation: () => null },
            { name: 'b', action: () => { throw new StepRejected('never'); }, compensation: () => null },
          ],
        },
      ],
    });
    const admin = await serveSagaAdmin(orchestrator);
    try {
      await orchestrator.start('slow', { n: 1 }, { sagaId: 'z1' });
      for (let i = 0; i < 200 && (await orchestrator.show('z1')).error === null; i++) await new Promise((r) => setTimeout(r, 5));
      const list = await synod(['saga', 'list', '--url', admin.url, '--json']);
      expect(list.status).toBe(0);
      expect((JSON.parse(list.stdout) as { sagas: { sagaId: string; status: string; error: string }[] }).sagas).toEqual([expect.objectContaining({ sagaId: 'z1', status: 'running', error: 'not yet' })]);
      refused(await synod(['saga', 'list', '--dir', dir]), 1, 'SAGA_LOG_LOCKED');
      const resumed = await synod(['saga', 'resume', 'z1', '--url', admin.url]);
      expect(resumed.status).toBe(0);
      expect(resumed.stdout).toMatch(/^resumed: z1 {2}slow/);
      expect(await orchestrator.wait('z1', 10_000)).toMatchObject({ status: 'compensated', error: 'never' });
      const show = await synod(['saga', 'show', 'z1', '--url', admin.url]);
      expect(show.stdout).toMatch(/^saga z1 \(slow\): compensated/);
      refused(await synod(['saga', 'show', 'nope', '--url', admin.url]), 1, 'SAGA_NOT_FOUND');
    } finally {
      await admin.close();
      await orchestrator.close();
    }
  }, 180_000);
});
