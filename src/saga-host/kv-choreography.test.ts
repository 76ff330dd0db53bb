// The order saga choreographed across four service processes over a real Synod cluster: each
// service watches the event log (a key prefix) and reacts; services are killed (kill -9) and
// restarted while sagas run. Every saga must end committed or compensated as its input says, the
// saga checker must pass on the services' ledgers, and each saga's trace by correlation id must
// show its whole flow.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SynodClient } from '../client/index.js';
import { checkSagaHistory, type SagaEffect } from '../saga/check.js';
import { repoRoot, startTestCluster, tsxCommand, trackChild, waitUntil, type TestClusterHandle } from '../server/test/harness.js';
import { decodeChoreoEvent, kvSagaOutcome, readKvEvents, startKvSaga } from './kv-choreography.js';
import { ORDER_CHOREOGRAPHY } from './test/order-choreography.js';

const SERVICE = join(repoRoot, 'src/saga-host/test/kv-choreo-service.ts');
let cluster: TestClusterHandle | undefined;
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await cluster?.cleanup();
});

describe('choreographed sagas over Synod KV, services as processes', () => {
  it('every saga ends as its input says and the checker passes, while services are killed and restarted', async () => {
    cluster = await startTestCluster(3);
    const endpoints = Object.values(cluster.endpoints);
    const cacert = join(cluster.dataDir, 'tls', 'ca.crt');
    const client = new SynodClient({ endpoints, tls: { ca: readFileSync(cacert) } });

    const start = (service: string, crashAfterEffects = 0): Promise<ChildProcess> => {
      const child = trackChild(spawn(process.execPath, [...tsxCommand, SERVICE, '--service', service, '--endpoints', endpoints.join(','), '--cacert', cacert, '--delay-ms', '40', '--crash-after-effects', String(crashAfterEffects)], { stdio: ['ignore', 'pipe', 'inherit'] }));
      children.push(child);
      return new Promise((resolve, reject) => {
        child.stdout?.on('data', (c: Buffer) => c.toString().includes('ready') && resolve(child));
        child.once('exit', (code) => reject(new Error(`service ${service} exited with ${code} before it was ready`)));
      });
    };
    const services = new Map<string, ChildProcess>();
    // payment and order die on cue right after an effect, before its event: their next lives must not apply it again
    const cued: Record<string, number> = { payment: 2, order: 5 };
    await Promise.all(ORDER_CHOREOGRAPHY.steps.map(async (s) => services.set(s, await start(s, cued[s] ?? 0))));

    // 12 orders: every third declined by payment, every fourth out of stock (12: both, payment first)
    const expected = new Map<string, 'committed' | 'compensated'>();
    for (let i = 1; i <= 12; i++) {
      const declined = i % 3 === 0;
      const outOfStock = i % 4 === 0;
      expected.set(`o${i}`, declined || outOfStock ? 'compensated' : 'committed');
      expect(await startKvSaga(client, ORDER_CHOREOGRAPHY, `o${i}`, { item: outOfStock ? 'unobtainium' : 'book', amount: declined ? 5000 : 20 + i })).toBe(true);
    }
    expect(await startKvSaga(client, ORDER_CHOREOGRAPHY, 'o1', { item: 'book', amount: 1 })).toBe(false); // a second start is a no-op

    for (const name of Object.keys(cued)) {
      const child = services.get(name) as ChildProcess;
      await waitUntil(`${name} to die on cue`, async () => child.exitCode !== null, 60_000);
      services.set(name, await start(name));
    }
    // kill -9 a service now and then, and start it again on the same log
    for (let round = 0; round < 6; round++) {
      await new Promise((r) => setTimeout(r, 400));
      const name = ORDER_CHOREOGRAPHY.steps[round % ORDER_CHOREOGRAPHY.steps.length] as string;
      services.get(name)?.kill('SIGKILL');
      services.set(name, await start(name));
    }

    await waitUntil('every saga to end', async () => {
      for (const id of expected.keys()) if ((await kvSagaOutcome(client, ORDER_CHOREOGRAPHY, id)) === 'running') return false;
      return true;
    }, 120_000);
    for (const [id, outcome] of expected) expect(await kvSagaOutcome(client, ORDER_CHOREOGRAPHY, id), id).toBe(outcome);

    // the checker on what the services did, in the KV's order (revisions)
    const ledger = await client.range({ prefix: 'ledger/', limit: 10_000 });
    const effects: SagaEffect[] = ledger.items.map((item) => {
      const v = item.value as { sagaId: string; step: number; phase: 'action' | 'compensation'; key: string };
      return { atMs: item.createRevision, sagaId: v.sagaId, step: v.step, phase: v.phase, key: v.key };
    });
    const sagas = [...expected.keys()].map((id) => ({ sagaId: id, steps: ORDER_CHOREOGRAPHY.steps, pivot: ORDER_CHOREOGRAPHY.steps.length, outcome: expected.get(id) as 'committed' | 'compensated' }));
    const verdict = checkSagaHistory({ sagas, effects });
    expect(verdict.violations).toEqual([]);
    expect(verdict.ok).toBe(true);

    // the whole flow of one saga, by correlation id: a declined payment compensates the order backwards
    const trace = (await readKvEvents(client, ORDER_CHOREOGRAPHY, 'o3')).events.map((e) => e.type);
    expect(trace).toEqual(['started', 'order:done', 'payment:failed', 'order:compensated']);
    const ok = (await readKvEvents(client, ORDER_CHOREOGRAPHY, 'o1')).events.map((e) => e.type);
    expect(ok).toEqual(['started', 'order:done', 'payment:done', 'inventory:done', 'shipping:done']);
    const stock = (await readKvEvents(client, ORDER_CHOREOGRAPHY, 'o4')).events;
    expect(stock.map((e) => e.type)).toEqual(['started', 'order:done', 'payment:done', 'inventory:failed', 'payment:compensated', 'order:compensated']);
    expect(stock.map((e) => e.hop)).toEqual([0, 1, 2, 3, 4, 5]);
    client.close();
  }, 240_000);

  it('reads back only well-formed events', () => {
    expect(decodeChoreoEvent({ id: 'a/started', correlationId: 'a', type: 'started', hop: 0, source: 'client', causedBy: null, payload: 1 })).toBeDefined();
    for (const bad of [null, [], 'x', { id: 'a' }, { id: 'a', correlationId: 'a', type: 't', hop: -1, source: 's', causedBy: null, payload: 1 }, { id: 'x'.repeat(1001), correlationId: 'a', type: 't', hop: 0, source: 's', causedBy: null, payload: 1 }, { id: 'a', correlationId: 'a', type: 't', hop: 0, source: 's', causedBy: 7, payload: 1 }, { id: 'a', correlationId: 'a', type: 't', hop: 0, source: 's', causedBy: null }]) {
      expect(decodeChoreoEvent(bad)).toBeUndefined();
    }
  });
});
