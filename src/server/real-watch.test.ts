// Watches across the failure of real node processes (TLS on, as `npm start` makes them): a watch
// through the client library and one through `synod watch --json`, both connected to the leader,
// survive its kill -9 during a stream of writes and resume on another node; what each received
// is exactly the committed history of the prefix (every revision once, in order), and counters
// written with retried sessions were incremented once per acknowledged call.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SynodClient, type KvEvent } from '../client/index.js';
import { leaderAmong, repoRoot, startTestCluster, synodCommand, trackChild, waitUntil } from './test/harness.js';

type TestCluster = Awaited<ReturnType<typeof startTestCluster>>;
let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.cleanup();
  cluster = undefined;
});

const described = (e: KvEvent): string => `${e.revision} ${e.type} ${e.kv.key} ${JSON.stringify(e.kv.value)}`;

describe('real processes: watch', () => {
  it('a watch survives kill -9 of the node it reads from and resumes on another without gap or duplicate', async () => {
    cluster = await startTestCluster(3);
    const c = cluster;
    const ca = c.clientTls.ca as Buffer;
    const victim = await leaderAmong(c.endpoints);
    const others = Object.keys(c.endpoints).filter((id) => id !== victim);
    const victimFirst = [victim, ...others].map((id) => c.endpoints[id] as string);
    const writer = new SynodClient({ endpoints: [...others, victim].map((id) => c.endpoints[id] as string), tls: { ca }, retryForMs: 20_000 });
    const watcher = new SynodClient({ endpoints: victimFirst, tls: { ca } });
    const start = (await writer.put('rw/start', 0)).revision;

    // the library's watch and the CLI's, both on the victim first
    const reconnects: string[] = [];
    const got: KvEvent[] = [];
    let last = 0;
    const watch = watcher.watch({ prefix: 'rw/' }, { startRevision: start, progressMs: 500, onReconnect: (i) => reconnects.push(`${i.from} -> ${i.to} from ${i.nextRevision}: ${i.reason}`) });
    const reading = (async () => {
      for await (const m of watch) {
        if (m.type === 'events') got.push(...m.events);
        if (last > 0 && m.revision >= last) break;
      }
    })();
    const cli = trackChild(spawn(process.execPath, [...synodCommand, 'watch', 'rw/', '--prefix', '--json', '--rev', String(start), '--endpoints', victimFirst.join(','), '--cacert', join(c.dataDir, 'tls', 'ca.crt')], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] }));
    let cliOut = '';
    let cliErr = '';
    cli.stdout?.on('data', (d: Buffer) => (cliOut += d.toString()));
    cli.stderr?.on('data', (d: Buffer) => (cliErr += d.toString()));
    try {
      await waitUntil('both watchers to see the start', async () => got.length > 0 && cliOut.includes('"rw/start"'), 30_000);

      // writes before, during and after the kill; incr counts calls acknowledged
      let acknowledged = 0;
      for (let i = 0; i < 90; i++) {
        if (i === 30) c.kill(victim);
        if (i % 4 === 0) await writer.txn({ success: [{ op: 'put', key: `rw/${i % 7}`, value: i }, { op: 'put', key: 'rw/txn', value: i }] });
        else if (i % 9 === 0) await writer.deleteRange({ prefix: `rw/${i % 7}` });
        else if (i % 5 === 0) {
          await writer.incr('rw/count');
          acknowledged++;
        } else await writer.put(`rw/${i % 7}`, `v${i}`);
      }
      last = (await writer.put('rw/last', 1)).revision;
      await reading;
      await waitUntil('the CLI to print the last revision', async () => cliOut.includes(`"revision":${last},`), 30_000);

      // the committed history of the prefix, read from a node that never died
      const reference: KvEvent[] = [];
      const check = new SynodClient({ endpoints: others.map((id) => c.endpoints[id] as string), tls: { ca } });
      for await (const m of check.watch({ prefix: 'rw/' }, { startRevision: start })) {
        if (m.type === 'events') reference.push(...m.events);
        if (m.revision >= last) break;
      }
      expect(reference.length).toBeGreaterThan(90);
      expect(reconnects.length, 'the library watch moved').toBeGreaterThanOrEqual(1);
      expect(got.map(described)).toEqual(reference.map(described));
      const cliEvents = cliOut.trim().split('\n').flatMap((line) => (JSON.parse(line) as { events: KvEvent[] }).events);
      expect(cliEvents.map(described)).toEqual(reference.map(described));
      expect(cliErr).toMatch(/synod: watch: .*; resuming from revision \d+ on https:\/\//);

      // the state the events lead to is the state the cluster holds
      const replayed = new Map<string, unknown>();
      for (const e of reference) {
        if (e.type === 'put') replayed.set(e.kv.key, e.kv.value);
        else replayed.delete(e.kv.key);
      }
      const now = await check.range({ prefix: 'rw/' });
      expect(now.items.map((i) => [i.key, i.value])).toEqual([...replayed].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
      expect((await check.get('rw/count')).value).toBe(acknowledged);
      check.close();
    } finally {
      cli.kill('SIGKILL');
      watch.close();
      watcher.close();
      writer.close();
    }
  });
});
