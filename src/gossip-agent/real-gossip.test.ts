// Twenty real gossip agents (child processes, UDP and TCP on loopback, sealed with one key ring):
// one is killed with SIGKILL and must be declared dead by every other within the configuration's
// bound; one is stopped past its suspicion timeout, then continued, and must refute and be alive
// again everywhere; a new one joins; CRDT changes made at different agents converge, judged by
// the document checker; an agent with another key cannot join.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { checkDocConvergence, type DocChangeRecord } from '../check/crdt-doc.js';
import type { DocChange, DocEntryView } from '../crdt/doc.js';
import { GOSSIP_PRESETS, resolveGossipConfig } from '../gossip/config.js';
import { suspicionBoundsMs } from '../gossip/lifeguard.js';
import type { MemberView } from '../gossip/messages.js';
import { request } from 'node:http';
import { synodCommand, trackChild, waitUntil } from '../server/test/harness.js';

const AGENTS = 20;
const CONFIG = { probeIntervalMs: 300, probeTimeoutMs: 150, gossipIntervalMs: 60, pushPullIntervalMs: 3_000, reconnectIntervalMs: 2_000, tickIntervalMs: 20 };
const RESOLVED = resolveGossipConfig(CONFIG, GOSSIP_PRESETS.local);
const CRDT_SYNC_MS = 1_000;
/**
 * A crashed member is probed within two round-robin passes (at the worst health) and then dead
 * after the longest suspicion; the agents run on a loaded two-core machine beside others, so the
 * bound is doubled for scheduling (what this measures is printed).
 */
const DEAD_BOUND_MS = 2 * (2 * (AGENTS + 1) * RESOLVED.probeIntervalMs + suspicionBoundsMs(RESOLVED, AGENTS).maxMs);

interface Agent {
  readonly child: ChildProcess;
  readonly id: string;
  readonly url: string;
}

const dir = mkdtempSync(join(tmpdir(), 'synod-gossip-'));
const keyring = join(dir, 'keyring.json');
writeFileSync(keyring, JSON.stringify({ keys: [randomBytes(32).toString('base64')], primary: 0 }));
const started: Agent[] = [];

afterAll(() => {
  for (const a of started) a.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function startAgent(name: string, join: readonly string[], ring = keyring): Promise<Agent> {
  const args = [...synodCommand, 'gossip', 'agent', '--bind', '127.0.0.1:0', '--http', '127.0.0.1:0', '--preset', 'local', '--gossip-config', JSON.stringify(CONFIG), '--crdt-sync-ms', String(CRDT_SYNC_MS), '--keyring', ring, '--data-dir', join_(dir, name)];
  if (join.length > 0) args.push('--join', join.join(','));
  const child = trackChild(spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } }));
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => void (stderr = (stderr + c.toString()).slice(-2000)));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`agent ${name} did not start: ${stderr}`)), 120_000);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /^gossip agent (\S+): control API (\S+?),/m.exec(out);
      if (m === null) return;
      clearTimeout(timer);
      const agent = { child, id: m[1] as string, url: m[2] as string };
      started.push(agent);
      resolve(agent);
    });
    child.once('exit', (code) => reject(new Error(`agent ${name} exited with ${code}: ${stderr}`)));
  });
}

/** One request on a fresh connection (a kept-alive one may be closed by the agent as it is reused). */
function http(method: string, url: string, body?: unknown, timeoutMs = 3_000): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(url, { method, agent: false, timeout: timeoutMs, headers: data === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> });
        } catch (err) {
          reject(err as Error);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

function join_(a: string, b: string): string {
  return join(a, b);
}

async function members(a: Agent): Promise<MemberView[]> {
  try {
    const r = await http('GET', `${a.url}/v1/members`, undefined, 2_000);
    return r.status === 200 ? (r.body['members'] as MemberView[]) : [];
  } catch {
    return [];
  }
}

async function everyone(agents: readonly Agent[], holds: (view: MemberView[]) => boolean): Promise<boolean> {
  const views = await Promise.all(agents.map(members));
  return views.every(holds);
}

const stateOf = (view: MemberView[], id: string): MemberView | undefined => view.find((m) => m.id === id);

async function change(a: Agent, c: DocChange, changes: DocChangeRecord[]): Promise<void> {
  const r = await http('POST', `${a.url}/v1/crdt`, c, 5_000);
  expect(r.status).toBe(200);
  changes.push({ node: a.id, change: c, outcome: 'ok', ...(typeof r.body['wasPresent'] === 'boolean' ? { wasPresent: r.body['wasPresent'] } : {}) });
}

async function documents(agents: readonly Agent[]): Promise<{ node: string; entries: DocEntryView[]; canonical: string }[]> {
  return Promise.all(
    agents.map(async (a) => {
      const entries = (await http('GET', `${a.url}/v1/crdt`, undefined, 2_000)).body['entries'] as DocEntryView[];
      return { node: a.id, entries, canonical: JSON.stringify(entries) };
    }),
  );
}

describe('20 gossip agents as real processes', () => {
  it('detect a kill -9, see a stopped agent refute, admit a joiner, converge CRDT changes, and keep out a stranger', async () => {
    const seed = await startAgent('a1', []);
    const rest = await Promise.all(Array.from({ length: AGENTS - 1 }, (_, i) => startAgent(`a${i + 2}`, [seed.id])));
    const agents = [seed, ...rest];
    await waitUntil('all 20 agents see 20 alive members', () => everyone(agents, (v) => v.filter((m) => m.state === 'alive').length === AGENTS), 60_000);

    // CRDT changes at different agents converge
    const changes: DocChangeRecord[] = [];
    for (const [i, a] of agents.entries()) {
      await change(a, { kind: 'counter', name: 'hits', action: 'incr', amount: i + 1 }, changes);
      await change(a, { kind: 'set', name: 'tags', action: 'add', element: `t${i + 1}` }, changes);
    }
    await change(agents[3] as Agent, { kind: 'register', name: 'mode', action: 'set', value: 'blue' }, changes);
    const agreed = async (list: readonly Agent[]): Promise<boolean> => new Set((await documents(list)).map((d) => d.canonical)).size === 1;
    await waitUntil('the documents converge', () => agreed(agents), 30_000);
    const docs = await documents(agents);
    expect(checkDocConvergence(docs, changes)).toEqual([]);
    expect(docs[0]?.entries.find((e) => e.name === 'hits')?.value).toBe((AGENTS * (AGENTS + 1)) / 2);

    // kill -9: declared dead by every other agent within the bound
    const victim = agents[AGENTS - 1] as Agent;
    const survivors = agents.slice(0, AGENTS - 1);
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    await waitUntil('every survivor holds the killed agent dead', () => everyone(survivors, (v) => stateOf(v, victim.id)?.state === 'dead'), DEAD_BOUND_MS);
    console.log(`gossip agents: a killed agent was dead at all ${survivors.length} others after ${Date.now() - killedAt} ms (bound ${DEAD_BOUND_MS} ms)`);

    // SIGSTOP past the suspicion timeout, then SIGCONT: it refutes with a higher incarnation
    const sleeper = agents[AGENTS - 2] as Agent;
    const awake = survivors.filter((a) => a !== sleeper);
    const before = stateOf(await members(awake[0] as Agent), sleeper.id)?.incarnation ?? 0;
    sleeper.child.kill('SIGSTOP');
    await waitUntil('the others suspect or declare the stopped agent dead', () => everyone(awake, (v) => stateOf(v, sleeper.id)?.state !== 'alive'), DEAD_BOUND_MS);
    sleeper.child.kill('SIGCONT');
    await waitUntil('the stopped agent refuted and is alive everywhere again', () => everyone(survivors, (v) => stateOf(v, sleeper.id)?.state === 'alive' && (stateOf(v, sleeper.id)?.incarnation ?? 0) > before), 30_000);

    // a new agent joins through another member
    const joiner = await startAgent('a21', [(agents[4] as Agent).id]);
    const live = [...survivors, joiner];
    await waitUntil('every live agent sees the joiner alive, and the joiner sees them', () => everyone(live, (v) => v.filter((m) => m.state === 'alive').length === live.length), 30_000);
    await change(joiner, { kind: 'counter', name: 'hits', action: 'incr', amount: 100 }, changes);
    await change(agents[7] as Agent, { kind: 'set', name: 'tags', action: 'remove', element: 't1' }, changes);
    await waitUntil('the documents converge again, the joiner included', () => agreed(live), 30_000);
    const final = await documents(live);
    expect(checkDocConvergence(final, changes)).toEqual([]);
    expect(final[0]?.entries.find((e) => e.name === 'hits')?.value).toBe((AGENTS * (AGENTS + 1)) / 2 + 100);

    // a stranger with another key cannot join: nobody lists it, and its own join fails
    const otherRing = join(dir, 'other.json');
    writeFileSync(otherRing, JSON.stringify({ keys: [randomBytes(32).toString('base64')], primary: 0 }));
    const stranger = await startAgent('x', [seed.id], otherRing);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await everyone(live, (v) => stateOf(v, stranger.id) === undefined)).toBe(true);
    expect((await members(stranger)).filter((m) => m.state === 'alive')).toHaveLength(1);
    const status = await http('GET', `${seed.url}/v1/status`);
    expect((status.body['wire'] as Record<string, number>)['drops.unauthenticated']).toBeGreaterThan(0);
  }, 360_000);
});
