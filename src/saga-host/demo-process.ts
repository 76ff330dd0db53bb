// A process of the order-saga demo, for tests that run the demo as separate processes and kill
// them: `services DIR [--delay-ms N] [--flaky R]` runs the four HTTP services, `orchestrator DIR
// URLS_JSON` runs the orchestrator with its HTTP API. Each prints one JSON line once ready
// ({"ready":true,...}) and runs until SIGTERM or SIGINT.
import { serveSagaAdmin } from './admin-http.js';
import { openOrderOrchestrator, startOrderServices, type OrderServiceUrls } from './order-demo.js';

function fail(message: string): never {
  process.stderr.write(`demo-process: ${message}\n`);
  process.exit(2);
}

function numberFlag(args: string[], flag: string, min: number, max: number): number | undefined {
  const i = args.indexOf(flag);
  if (i < 0) return undefined;
  const n = Number(args[i + 1]);
  if (!Number.isFinite(n) || n < min || n > max) fail(`${flag} must be a number from ${min} to ${max}`);
  return n;
}

async function main(): Promise<void> {
  const [role, dir, ...rest] = process.argv.slice(2);
  if (dir === undefined || (role !== 'services' && role !== 'orchestrator')) fail('usage: demo-process.ts services DIR [--delay-ms N] [--flaky R] | orchestrator DIR URLS_JSON');
  let close: () => Promise<void>;
  if (role === 'services') {
    const delayMs = numberFlag(rest, '--delay-ms', 0, 60_000);
    const flaky = numberFlag(rest, '--flaky', 0, 0.9);
    const services = await startOrderServices({ dir, ...(delayMs === undefined ? {} : { delayMs }), ...(flaky === undefined ? {} : { flaky }) });
    process.stdout.write(`${JSON.stringify({ ready: true, urls: services.urls })}\n`);
    close = () => services.close();
  } else {
    let urls: OrderServiceUrls;
    try {
      urls = JSON.parse(rest[0] ?? '') as OrderServiceUrls;
    } catch {
      fail('URLS_JSON must be the services\' {"order": URL, ...}');
    }
    const orchestrator = await openOrderOrchestrator({ dir, urls });
    const admin = await serveSagaAdmin(orchestrator);
    process.stdout.write(`${JSON.stringify({ ready: true, admin: admin.url, pid: process.pid })}\n`);
    close = async () => {
      await admin.close();
      await orchestrator.close();
    };
  }
  const stop = (): void => {
    void close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

await main();
