// The live cluster against hostile web pages and with authentication on, in Chromium: a page on
// another origin cannot kill a node or write a key through the supervisor, a DNS-rebound name is
// refused, the dashboard asks for credentials once authentication is on (and works after signing
// in), and a node that stopped says why on the page.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synodCommand } from '../../src/server/test/synod-command.js';
import { startLocalCluster, type ClusterHandle } from '../../src/supervisor/index.js';
import { callApi } from '../../src/supervisor/index.js';
import { buildApp, freeBasePort, CHROMIUM, hasChromium, launch, type Browser } from './harness.js';

const SYNOD = synodCommand;
const ROOT_PASSWORD = 'e2e-root-password';

if (!hasChromium) console.warn(`e2e: skipping the security tests: ${CHROMIUM} is missing (apt-get install -y chromium)`);


describe.skipIf(!hasChromium)('the live cluster against other web pages, with authentication on', () => {
  let cluster: ClusterHandle | undefined;
  let browser: Browser | undefined;
  let attacker: Server | undefined;
  let dataDir = '';
  let webDir = '';
  let basePort = 0;

  beforeAll(async () => {
    webDir = mkdtempSync(join(tmpdir(), 'synod-web-'));
    dataDir = mkdtempSync(join(tmpdir(), 'synod-sec-'));
    [basePort] = await Promise.all([freeBasePort(), buildApp(webDir)]);
    // rebind.test resolves to this machine, as a DNS rebinding attack makes it
    [cluster, browser] = await Promise.all([startLocalCluster({ nodes: 3, dataDir, basePort, logLevel: 'warn', command: SYNOD, webDir, faultInjection: true }), launch(['--host-resolver-rules=MAP rebind.test 127.0.0.1'])]);
  }, 90_000);

  afterAll(async () => {
    attacker?.close();
    await browser?.close();
    await cluster?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(webDir, { recursive: true, force: true });
  }, 30_000);

  const api = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => callApi(Object.values((cluster as ClusterHandle).endpoints), method, path, body, 10_000, { tls: (cluster as ClusterHandle).clientTls, headers });
  const nodesList = async (): Promise<{ id: string; process: string }[]> => (await (await fetch(`${(cluster as ClusterHandle).controlUrl}/api/nodes`)).json()) as { id: string; process: string }[];

  it('a page on another origin cannot kill a node or write a key; a rebound host name gets nothing', async () => {
    const c = cluster as ClusterHandle;
    // the attacker's page, served from another port: it fires simple (no-preflight) cross-origin requests
    const html = `<!doctype html><script>
      const sup = ${JSON.stringify(c.controlUrl)};
      const shots = [
        fetch(sup + '/api/nodes/1/kill', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: 'x' }),
        fetch(sup + '/api/kv/pwned', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{"value":"owned"}' }),
      ];
      Promise.allSettled(shots).then(() => { document.title = 'done'; });
    </script>`;
    attacker = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
    await new Promise<void>((ok) => attacker?.listen(0, '127.0.0.1', ok));
    const page = await (browser as Browser).newPage();
    await page.goto(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`);
    await expect.poll(() => page.title(), { timeout: 10_000 }).toBe('done');
    await new Promise((r) => setTimeout(r, 500));
    expect((await nodesList()).map((n) => n.process)).toEqual(['running', 'running', 'running']);
    const read = await api('GET', '/v1/kv/pwned');
    expect((read.body as { result: { value: unknown } }).result.value).toBeNull();
    // DNS rebinding: the page thinks it talks to rebind.test; the supervisor refuses that name
    const rebound = await page.goto(`http://rebind.test:${basePort}/api/nodes`);
    expect(rebound?.status()).toBe(403);
    expect(await page.textContent('body')).toContain('HOST_NOT_ALLOWED');
    await page.close();
  }, 60_000);

  it('with authentication on, the dashboard asks for credentials; signed in as root it writes and controls nodes', async () => {
    const c = cluster as ClusterHandle;
    expect((await api('PUT', '/v1/auth/users/root', { password: ROOT_PASSWORD, roles: ['root'] })).status).toBe(200);
    expect((await api('POST', '/v1/auth/enable', {})).status).toBe(200);
    const page = await (browser as Browser).newPage();
    await page.goto(c.dashboardUrl);
    const live: Locator = page.getByTestId('live');
    await expect.poll(() => live.locator('[data-testid^=node-][data-process=running][data-reachable=true]').count(), { timeout: 15_000 }).toBe(3);
    // a write without credentials is refused, and the page offers to sign in
    await live.getByTestId('kv-key').fill('secured');
    await live.getByTestId('kv-value').fill('yes');
    await live.getByTestId('kv-put').click();
    await expect.poll(() => live.getByTestId('kv-result').getAttribute('data-ok')).toBe('false');
    expect(await live.getByTestId('kv-result').textContent()).toContain('UNAUTHENTICATED');
    await expect.poll(() => live.getByTestId('live-sign-in').isVisible()).toBe(true);
    await live.getByTestId('sign-in-user').fill('root');
    await live.getByTestId('sign-in-password').fill('not-the-password');
    await live.getByTestId('sign-in-go').click();
    await expect.poll(() => live.getByTestId('sign-in-result').textContent()).toContain('sign-in failed');
    await live.getByTestId('sign-in-password').fill(ROOT_PASSWORD);
    await live.getByTestId('sign-in-go').click();
    await expect.poll(() => live.getByTestId('live-sign-in').isVisible()).toBe(false);
    await live.getByTestId('kv-put').click();
    await expect.poll(() => live.getByTestId('kv-result').getAttribute('data-ok')).toBe('true');
    // process control needs root too: signed in, a kill goes through
    const victim = (await nodesList()).find((n) => n.process === 'running')?.id as string;
    await live.getByTestId(`live-kill-${victim}`).click();
    await expect.poll(() => live.getByTestId(`live-row-${victim}`).getAttribute('data-process'), { timeout: 10_000 }).toBe('stopped');
    await live.getByTestId(`live-restart-${victim}`).click();
    await expect.poll(() => live.getByTestId(`live-row-${victim}`).getAttribute('data-process'), { timeout: 10_000 }).toBe('running');
    // without a token, the supervisor refuses to kill
    const refused = await fetch(`${c.controlUrl}/api/nodes/${victim}/kill`, { method: 'POST' });
    expect(refused.status).toBe(401);
    await page.close();
  }, 60_000);

  it('a node that stopped because its storage failed says so on the page', async () => {
    const c = cluster as ClusterHandle;
    const page = await (browser as Browser).newPage();
    await page.goto(c.dashboardUrl);
    const live: Locator = page.getByTestId('live');
    await expect.poll(() => live.locator('[data-testid^=node-][data-process=running][data-reachable=true]').count(), { timeout: 20_000 }).toBe(3);
    const token = (await api('POST', '/v1/auth/token', { name: 'root', password: ROOT_PASSWORD })).body as { token: string };
    const auth = { authorization: `Bearer ${token.token}` };
    const victim = '2';
    await callApi([c.endpoints[victim] as string], 'POST', '/v1/faults', { action: 'fail-storage' }, 5000, { tls: c.clientTls, headers: auth });
    await callApi([c.endpoints[victim] as string], 'PUT', '/v1/kv/trigger', { value: 1 }, 8000, { tls: c.clientTls, headers: auth }).catch(() => undefined);
    await expect.poll(() => live.getByTestId(`live-row-${victim}`).getAttribute('data-process'), { timeout: 20_000 }).toBe('stopped');
    await expect.poll(() => live.getByTestId(`live-row-${victim}`).textContent()).toMatch(/exited with code 3: node 2 stopped: its log could not be written/);
    await page.close();
  }, 60_000);
});
