// The orchestrator's HTTP API, for `synod saga list|show|resume --url` and for tests that drive
// an orchestrator in another process: GET /sagas, GET /sagas/ID, POST /sagas (start), POST
// /sagas/ID/resume. JSON in and out; errors carry the saga error's stable code.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isJsonObject } from '../core/index.js';
import { isSagaError, isSagaId, type SagaErrorCode } from '../saga/types.js';
import type { SagaOrchestrator } from './runner.js';

const MAX_BODY_BYTES = 256 * 1024;

const STATUS: Partial<Record<SagaErrorCode, number>> = { SAGA_NOT_FOUND: 404, SAGA_UNKNOWN_DEFINITION: 400, SAGA_BAD_ID: 400, SAGA_TOO_MANY: 503, SAGA_TIMEOUT: 504, SAGA_CLOSED: 503 };

export interface SagaAdminServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function serveSagaAdmin(orchestrator: SagaOrchestrator, options: { readonly host?: string; readonly port?: number } = {}): Promise<SagaAdminServer> {
  const server: Server = createServer((req, res) => {
    const reply = (status: number, body: unknown): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    void (async () => {
      const path = (req.url ?? '/').split('?')[0] as string;
      const parts = path.split('/').filter((p) => p !== '').map((p) => decodeURIComponent(p));
      if (parts[0] !== 'sagas' || parts.length > 3) return reply(404, { code: 'NOT_FOUND', error: 'try GET /sagas, GET /sagas/ID, POST /sagas, POST /sagas/ID/resume' });
      const id = parts[1];
      if (id !== undefined && !isSagaId(id)) return reply(400, { code: 'SAGA_BAD_ID', error: 'a saga id is 1 to 200 characters without "/"' });
      if (req.method === 'GET' && id === undefined) return reply(200, { sagas: await orchestrator.list() });
      if (req.method === 'GET' && id !== undefined && parts.length === 2) return reply(200, { saga: await orchestrator.show(id) });
      if (req.method === 'POST' && id !== undefined && parts[2] === 'resume') return reply(200, { saga: await orchestrator.resume(id) });
      if (req.method === 'POST' && id === undefined) {
        const chunks: Buffer[] = [];
        let bytes = 0;
        for await (const c of req as AsyncIterable<Buffer>) {
          bytes += c.length;
          if (bytes > MAX_BODY_BYTES) return reply(413, { code: 'TOO_LARGE', error: `body over ${MAX_BODY_BYTES} bytes` });
          chunks.push(c);
        }
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          return reply(400, { code: 'BAD_JSON', error: 'body is not JSON' });
        }
        if (!isJsonObject(body) || typeof body.saga !== 'string' || !('input' in body) || !(body.sagaId === undefined || typeof body.sagaId === 'string')) return reply(400, { code: 'BAD_REQUEST', error: 'need {"saga": NAME, "input": ..., "sagaId"?: ID}' });
        const sagaId = await orchestrator.start(body.saga, body.input ?? null, body.sagaId === undefined ? {} : { sagaId: body.sagaId });
        return reply(200, { sagaId });
      }
      return reply(405, { code: 'METHOD', error: `${req.method ?? '?'} ${path} is not supported` });
    })().catch((err: unknown) => {
      if (isSagaError(err)) return reply(STATUS[err.code] ?? 500, { code: err.code, error: err.message });
      if (err instanceof URIError) return reply(400, { code: 'BAD_PATH', error: 'the path is not valid percent-encoding' });
      reply(500, { code: 'INTERNAL', error: err instanceof Error ? err.message : String(err) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
