// Shared setup of the browser tests: build the visualizer once, serve web/dist from a tiny static
// server on an ephemeral port, and drive Debian's Chromium through playwright-core.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { serveDashboard, startLocalCluster, type ClusterHandle } from '../../src/supervisor/index.js';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, inject } from 'vitest';
import { reservePortBlock } from '../../src/server/test/port-block.js';
import { synodCommand } from '../../src/server/test/synod-command.js';
import { buildInto } from './vite-build.js';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const WEB = join(ROOT, 'web');
export const DIST = join(WEB, 'dist');
export const SCREENSHOTS = join(ROOT, 'artifacts', 'screenshots');

/**
 * The app in web/dist, or in `outDir` (test files run in parallel: each serves from where no other
 * one does): a copy of the build the global setup made once for this run (build-once.ts), or a
 * build of its own with Vite's JavaScript API when there is none.
 */
export async function buildApp(outDir?: string): Promise<void> {
  const prebuilt = inject('webBuildDir');
  if (prebuilt !== undefined && prebuilt !== '' && existsSync(prebuilt)) {
    const target = outDir ?? DIST;
    await rm(target, { recursive: true, force: true });
    await cp(prebuilt, target, { recursive: true });
    return;
  }
  await buildInto(outDir);
}

export async function serve(dir: string): Promise<{ url: string; close: () => Promise<void> }> {
  // the same static server the supervisor uses for the dashboard
  const server: Server = createServer((req, res) => void serveDashboard(dir, new URL(req.url ?? '/', 'http://x').pathname, req, res));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

/**
 * For one describe block: builds the visualizer into a directory of its own (test files run in
 * parallel), serves it and starts Chromium before the tests, and stops and removes both after.
 */
export function useServedApp(prefix: string): { readonly url: () => string; readonly browser: () => Browser } {
  let server: { url: string; close: () => Promise<void> } | undefined;
  let browser: Browser | undefined;
  let webDir = '';
  beforeAll(async () => {
    webDir = await mkdtemp(join(tmpdir(), prefix));
    [, browser] = await Promise.all([buildApp(webDir), launch()]);
    server = await serve(webDir);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (webDir !== '') await rm(webDir, { recursive: true, force: true });
  });
  const started = <T>(x: T | undefined): T => {
    if (x === undefined) throw new Error('the app is not served: useServedApp starts it in beforeAll');
    return x;
  };
  return { url: () => started(server).url, browser: () => started(browser) };
}

export interface Browser {
  readonly context: BrowserContext;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** Starts Chromium headless with a fresh profile in a temporary directory. */
export async function launch(extraArgs: readonly string[] = []): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'synod-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extraArgs],
    viewport: { width: 1440, height: 1000 },
  });
  return {
    context,
    async newPage() {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      (page as Page & { errors?: string[] }).errors = errors;
      return page;
    },
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** The fingerprints the page shows on its status line. */
export async function status(page: Page): Promise<{ time: number; traceHash: string; stateHash: string; leader: string; events: number }> {
  const el = page.getByTestId('status');
  const [time, traceHash, stateHash, leader, events] = await Promise.all([
    el.getAttribute('data-time'),
    el.getAttribute('data-trace-hash'),
    el.getAttribute('data-state-hash'),
    el.getAttribute('data-leader'),
    el.getAttribute('data-events'),
  ]);
  return { time: Number(time), traceHash: traceHash ?? '', stateHash: stateHash ?? '', leader: leader ?? '', events: Number(events) };
}

/** Jumps to virtual time `ms` with the "Go to" box and waits until the page shows it. */
export async function goTo(page: Page, ms: number): Promise<void> {
  await page.getByTestId('goto-input').fill(String(ms));
  await page.getByTestId('goto').click();
  await page.waitForFunction((t) => document.querySelector('[data-testid=status]')?.getAttribute('data-time') === String(t), ms);
}

/**
 * A base port whose control, client (P+1..) and peer (P+101..) ports are free and claimed by no
 * other test process; held until this test process exits.
 */
export async function freeBasePort(): Promise<number> {
  return (await reservePortBlock()).base;
}

/** `synod` as the live tests start their clusters (the test run's bundle, or the source through tsx). */
const SYNOD_FROM_SOURCE = synodCommand;

export interface LiveCluster {
  readonly cluster: ClusterHandle;
  readonly browser: Browser;
  readonly dataDir: string;
  readonly webDir: string;
}

/**
 * What each live-mode test starts: a build of the app of its own (other browser tests build at
 * the same time), a local cluster of real processes serving it, and Chromium.
 */
export async function startLiveCluster(prefix: string, service?: string): Promise<LiveCluster> {
  const webDir = mkdtempSync(join(tmpdir(), `synod-web-${prefix}-`));
  const dataDir = mkdtempSync(join(tmpdir(), `synod-${prefix}-`));
  const [basePort] = await Promise.all([freeBasePort(), buildApp(webDir)]);
  const [cluster, browser] = await Promise.all([startLocalCluster({ ...(service === undefined ? {} : { service }), nodes: 3, dataDir, basePort, logLevel: 'warn', command: SYNOD_FROM_SOURCE, webDir }), launch()]);
  return { cluster, browser, dataDir, webDir };
}

export async function stopLiveCluster(live: Partial<LiveCluster>): Promise<void> {
  await live.browser?.close();
  await live.cluster?.stop();
  if (live.dataDir !== undefined && live.dataDir !== '') rmSync(live.dataDir, { recursive: true, force: true });
  if (live.webDir !== undefined && live.webDir !== '') rmSync(live.webDir, { recursive: true, force: true });
}
