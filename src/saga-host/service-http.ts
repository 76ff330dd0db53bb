// A saga participant as a real HTTP service: the sans-I/O service core of src/saga/service.ts
// (at most one effect per idempotency key, tombstones) run by NodeHost, its ledger in an
// OpLogStore (the project's WAL), each POST /invoke handed to the core as a message and answered
// with the core's result once the ledger record behind it is durable.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NodeHost, type PeerTransport } from '../runtime/node-host.js';
import { decodeServiceRecord, sagaServiceSpec, type SagaServiceCore, type ServiceLogic, type ServiceRecord } from '../saga/service.js';
import { isSagaId, type InvokeMessage, type ResultMessage, type SagaMessage } from '../saga/types.js';
import { isJsonObject, type CoreEnv } from '../core/index.js';
import { OpLogStore } from '../storage/op-log.js';

/** Largest request body accepted (an invocation carries the saga's input and earlier outputs). */
const MAX_BODY_BYTES = 256 * 1024;
/** Invocations waiting for the core's answer at once; past it new ones get 503. */
const MAX_PENDING = 10_000;

export interface SagaHttpServiceOptions {
  readonly name: string;
  /** The ledger's directory. */
  readonly dir: string;
  readonly logic: (env: CoreEnv) => ServiceLogic;
  readonly host?: string;
  /** 0 (default): an ephemeral port. */
  readonly port?: number;
  /** Each invocation waits this long before the core sees it (slow work, so kills land mid-step). */
  readonly delayMs?: number;
}

/** Hands HTTP invocations to the core and routes its result back to the waiting response. */
class HttpInvocations implements PeerTransport<SagaMessage> {
  private handler: ((from: string, msg: SagaMessage) => void) | undefined;
  private readonly waiting = new Map<string, (msg: ResultMessage) => void>();
  private next = 0;

  onMessage(handler: (from: string, msg: SagaMessage) => void): void {
    this.handler = handler;
  }

  send(to: string, msg: SagaMessage): void {
    if (msg.type !== 'result') return;
    const reply = this.waiting.get(to);
    this.waiting.delete(to);
    reply?.(msg);
  }

  get pending(): number {
    return this.waiting.size;
  }

  invoke(msg: InvokeMessage, reply: (msg: ResultMessage) => void): void {
    const from = `http-${this.next++}`;
    this.waiting.set(from, reply);
    this.handler?.(from, msg);
  }

  forget(): void {
    this.waiting.clear();
  }
}

/** Checks an invocation from the wire. */
export function decodeInvoke(v: unknown): InvokeMessage | string {
  if (!isJsonObject(v)) return 'an invocation must be a JSON object';
  if (v.type !== 'invoke') return 'type must be "invoke"';
  if (!isSagaId(v.sagaId)) return 'sagaId must be 1 to 200 characters without "/"';
  if (typeof v.saga !== 'string' || v.saga.length > 200) return 'saga must be a name';
  if (typeof v.step !== 'number' || !Number.isInteger(v.step) || v.step < 0 || v.step > 1_000) return 'step must be a whole number';
  if (typeof v.stepName !== 'string' || v.stepName.length > 200) return 'stepName must be a name';
  if (v.phase !== 'action' && v.phase !== 'compensation') return 'phase must be action or compensation';
  if (typeof v.key !== 'string' || v.key.length > 1_000 || typeof v.actionKey !== 'string' || v.actionKey.length > 1_000) return 'key and actionKey must be strings';
  if (typeof v.attempt !== 'number' || !Number.isInteger(v.attempt) || v.attempt < 1) return 'attempt must be a whole number >= 1';
  if (!('input' in v) || !isJsonObject(v.outputs)) return 'input and outputs are required';
  return v as unknown as InvokeMessage;
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** One service: `url` takes POST /invoke; `ledger()` reads what it decided; `close()` stops it. */
export class SagaHttpService {
  private constructor(
    readonly name: string,
    readonly url: string,
    private readonly server: Server,
    private readonly host: NodeHost<SagaMessage, never, never, ServiceRecord, SagaServiceCore>,
    private readonly store: OpLogStore<ServiceRecord>,
    private readonly invocations: HttpInvocations,
  ) {}

  static async start(options: SagaHttpServiceOptions): Promise<SagaHttpService> {
    const store = await OpLogStore.open<ServiceRecord>(options.dir, { decodeOp: decodeServiceRecord });
    const invocations = new HttpInvocations();
    const spec = sagaServiceSpec({ logic: options.logic });
    // fractional milliseconds: effects of services in one process stay ordered within a millisecond
    const now = (): number => performance.timeOrigin + performance.now();
    const host = new NodeHost(spec, { id: options.name, members: [options.name], store, transport: invocations, now });
    host.start();
    const delayMs = options.delayMs ?? 0;
    const server = createServer((req, res) => {
      void (async () => {
        if (req.method !== 'POST' || req.url !== '/invoke') return send(res, 404, { error: 'POST /invoke only' });
        const text = await readBody(req);
        if (text === undefined) return send(res, 413, { error: `body over ${MAX_BODY_BYTES} bytes` });
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          return send(res, 400, { error: 'body is not JSON' });
        }
        const msg = decodeInvoke(parsed);
        if (typeof msg === 'string') return send(res, 400, { error: msg });
        if (invocations.pending >= MAX_PENDING) return send(res, 503, { error: 'too many invocations in flight' });
        if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
        invocations.invoke(msg, (result) => send(res, 200, result));
      })().catch((err: unknown) => send(res, 500, { error: err instanceof Error ? err.message : String(err) }));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    return new SagaHttpService(options.name, `http://${options.host ?? '127.0.0.1'}:${port}`, server, host, store, invocations);
  }

  async close(): Promise<void> {
    this.host.stop();
    this.invocations.forget();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.store.close();
  }
}

/** Reads a service's ledger offline (the service must be stopped: the WAL directory is locked while it runs). */
export async function readServiceLedger(dir: string): Promise<readonly ServiceRecord[]> {
  const store = await OpLogStore.open<ServiceRecord>(dir, { decodeOp: decodeServiceRecord });
  try {
    return [...store.recovered];
  } finally {
    await store.close();
  }
}
