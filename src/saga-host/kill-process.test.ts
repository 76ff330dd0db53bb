// The order saga as real processes under kill -9: the four HTTP services in one process, the
// orchestrator in another. While sagas are mid-flight the orchestrator is killed with SIGKILL and
// restarted on the same log, three times; then every saga must end, and the saga checker judges
// the orchestrator's log and the services' ledgers (no double effect, nothing undone that never
// ran, every saga all-committed or all-compensated).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { checkSagaHistory } from '../saga/check.js';
import type { SagaView } from '../saga/types.js';
import { readOrderHistory, type OrderServiceUrls } from './order-demo.js';

const ENTRY = join(import.meta.dirname, 'demo-process.ts');
const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** Spawns a demo process and resolves with its ready line. */
async function spawnReady<T>(args: string[]): Promise<{ child: ChildProcess; ready: T }> {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const ready = await new Promise<T>((resolve, reject) => {
    lines.once('line', (l) => resolve(JSON.parse(l) as T));
    child.once('exit', (code) => reject(new Error(`demo-process ${args[0]} exited ${code}: ${stderr}`)));
  });
  return { child, ready };
}

async function api<T>(url: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${url}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
  const json = (await res.json()) as T;
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, tries = 2_000): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}

const exited = (child: ChildProcess): Promise<void> => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

describe('order saga as real processes under kill -9', () => {
  it('kills the orchestrator mid-saga three times; every saga ends and the checker passes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'synod-saga-kill-'));
    dirs.push(dir);
    // each service call takes 40 ms, so the sagas are mid-step when the kills come
    const services = await spawnReady<{ urls: OrderServiceUrls }>(['services', dir, '--delay-ms', '40', '--flaky', '0.1']);
    const urls = JSON.stringify(services.ready.urls);
    let orchestrator = await spawnReady<{ admin: string }>(['orchestrator', dir, urls]);
    const orders = [
      { saga: 'order', input: { item: 'book', amount: 20, address: 'a' } },
      { saga: 'order', input: { item: 'car', amount: 50_000, address: 'b' } },
      { saga: 'order', input: { item: 'unobtainium', amount: 5, address: 'c' } },
      { saga: 'order-no-pivot', input: { item: 'chair', amount: 9, address: 'nowhere' } },
      { saga: 'order-no-pivot', input: { item: 'desk', amount: 99, address: 'd' } },
    ];
    for (let i = 0; i < 10; i++) {
      const o = orders[i % orders.length] as (typeof orders)[number];
      await api(orchestrator.ready.admin, 'POST', '/sagas', { ...o, sagaId: `k${i}` });
    }
    const runningAtKill: number[] = [];
    for (let kill = 0; kill < 3; kill++) {
      // kill once some saga has moved on from its first step and some saga is still unfinished
      const admin = orchestrator.ready.admin;
      const running = await until('sagas mid-flight', async () => {
        const { sagas } = await api<{ sagas: SagaView[] }>(admin, 'GET', '/sagas');
        const open = sagas.filter((s) => s.status === 'running' || s.status === 'compensating');
        return open.length > 0 && sagas.some((s) => s.step >= 1 || s.status === 'compensating') ? open.length : undefined;
      });
      runningAtKill.push(running);
      orchestrator.child.kill('SIGKILL');
      await exited(orchestrator.child);
      orchestrator = await spawnReady<{ admin: string }>(['orchestrator', dir, urls]);
    }
    const admin = orchestrator.ready.admin;
    const finished = await until('every saga to end', async () => {
      const { sagas } = await api<{ sagas: SagaView[] }>(admin, 'GET', '/sagas');
      return sagas.every((s) => s.status === 'committed' || s.status === 'compensated') ? sagas : undefined;
    }, 6_000);
    expect(finished.length).toBe(10);
    orchestrator.child.kill('SIGTERM');
    services.child.kill('SIGTERM');
    await Promise.all([exited(orchestrator.child), exited(services.child)]);
    const result = checkSagaHistory(await readOrderHistory(dir));
    expect({ ok: result.ok, violations: result.violations, unfinished: result.unfinished }).toEqual({ ok: true, violations: [], unfinished: 0 });
    expect(result.committed + result.compensated).toBe(10);
    expect(result.compensated).toBeGreaterThanOrEqual(4); // declined, out of stock, refused address
    expect(runningAtKill.every((n) => n > 0)).toBe(true);
  });
});
