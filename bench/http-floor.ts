// `npm run bench -- http-floor`: the CPU a bare HTTP server spends per request under the same
// lean client and the same 256-byte JSON puts as `bench kv`, with 64 in flight: Node's http
// server, and the lean server Synod's nodes use (src/server/http-server.ts). It is the floor
// under a Node server's client API on this machine, Synod's leader included.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { HttpServer } from '../src/server/http-server.js';
import { LeanHttpClient } from './lib/http-client.js';
import { formatLoad, runLoad } from './lib/load.js';

const PORT = 27900;

/** The same answer from both servers: parse the JSON body, stringify a small JSON reply. */
function answerText(body: Buffer): string {
  const parsed = JSON.parse(body.toString('utf8')) as { value: string };
  return JSON.stringify({ result: { revision: 1, version: 1 }, index: 5, node: '1', length: parsed.value.length }) + '\n';
}

function serveForever(kind: string): void {
  if (kind === 'lean') {
    void HttpServer.listen({
      host: '127.0.0.1',
      port: PORT,
      // answered on a later turn, as a node answers after its log and peers
      handle: (req) => new Promise((resolve) => setImmediate(() => resolve({ status: 200, headers: { 'content-type': 'application/json' }, body: answerText(req.body ?? Buffer.alloc(0)) }))),
    }).then(() => process.send?.('ready'));
    return;
  }
  createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = answerText(Buffer.concat(chunks));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  }).listen(PORT, '127.0.0.1', () => process.send?.('ready'));
}

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export async function run(): Promise<void> {
  for (const [kind, name] of [
    ['node', "Node's http server"],
    ['lean', "Synod's lean server"],
  ] as const) {
    await measure(kind, name);
  }
}

async function measure(kind: string, name: string): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', kind], { execArgv: ['--import', 'tsx'] });
  try {
    await new Promise((resolve) => child.once('message', resolve));
    const client = new LeanHttpClient(`http://127.0.0.1:${PORT}`);
    const value = 'v'.repeat(256);
    await runLoad({ concurrency: 64, totalOps: 5000, maxWallMs: 10_000 }, (i) => client.send('PUT', `/v1/kv/w${i}`, { value }).then(() => {}));
    const before = cpuMs(child.pid as number);
    const clientBefore = process.cpuUsage();
    const r = await runLoad({ concurrency: 64, totalOps: 40_000, maxWallMs: 30_000 }, (i) => client.send('PUT', `/v1/kv/k${i}`, { value }).then(() => {}));
    const used = process.cpuUsage(clientBefore);
    client.close();
    process.stdout.write(`${name}, 64 in flight: ${formatLoad(r)}\n`);
    process.stdout.write(`  CPU per request: server ${(((cpuMs(child.pid as number) - before) * 1000) / r.ops).toFixed(0)} us, client ${((used.user + used.system) / r.ops).toFixed(0)} us\n`);
  } finally {
    child.kill();
  }
}

const serveAt = process.argv.indexOf('--serve');
if (serveAt >= 0) serveForever(process.argv[serveAt + 1] ?? 'node');
