// Test helper: a watch stream (GET /v1/watch) read line by line, with waits for the lines a test
// expects; an error answer is read whole instead.
import { request as httpRequest, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface WatchLine {
  readonly type: string;
  readonly [field: string]: unknown;
}

export interface TestWatch {
  readonly status: number;
  /** The JSON error of an answer that is not 200. */
  readonly body: { error?: { code: string; [k: string]: unknown } } | undefined;
  readonly lines: WatchLine[];
  /** Resolves once the server ended the stream (or the connection broke). */
  readonly ended: Promise<void>;
  /** Waits until `done(lines)` holds; throws with the lines so far after `timeoutMs`. */
  until(done: (lines: readonly WatchLine[]) => boolean, timeoutMs?: number): Promise<WatchLine[]>;
  close(): void;
}

export function openWatch(base: string, query: string, options: { ca?: readonly Buffer[] } = {}): Promise<TestWatch> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${base}/v1/watch?${query}`);
    const https = url.protocol === 'https:';
    const req: ClientRequest = (https ? httpsRequest : httpRequest)(url, { agent: false, ...(https && options.ca !== undefined ? { ca: [...options.ca] } : {}) });
    req.on('error', reject);
    req.on('response', (res) => {
      const lines: WatchLine[] = [];
      const waiters = new Set<() => void>();
      let pending = '';
      let endedResolve: () => void = () => {};
      const ended = new Promise<void>((r) => (endedResolve = r));
      const wake = (): void => {
        for (const w of [...waiters]) w();
      };
      if (res.statusCode !== 200) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: text.startsWith('{') ? (JSON.parse(text) as TestWatch['body']) : undefined, lines, ended: Promise.resolve(), until: () => Promise.resolve(lines), close: () => req.destroy() });
        });
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        pending += chunk;
        let nl = pending.indexOf('\n');
        while (nl >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          if (line !== '') lines.push(JSON.parse(line) as WatchLine);
          nl = pending.indexOf('\n');
        }
        wake();
      });
      let endedNow = false;
      const finish = (): void => {
        endedNow = true;
        endedResolve();
        wake();
      };
      res.on('end', finish);
      res.on('error', finish);
      res.on('close', finish);
      resolve({
        status: 200,
        body: undefined,
        lines,
        ended,
        close: () => req.destroy(),
        until: (done, timeoutMs = 10_000) =>
          new Promise((ok, fail) => {
            const check = (): void => {
              if (done(lines)) {
                clearTimeout(timer);
                waiters.delete(check);
                ok(lines);
              } else if (endedNow) {
                clearTimeout(timer);
                waiters.delete(check);
                fail(new Error(`the stream ended; lines: ${JSON.stringify(lines).slice(0, 2000)}`));
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`timed out; lines: ${JSON.stringify(lines).slice(0, 2000)}`));
            }, timeoutMs);
            waiters.add(check);
            check();
          }),
      });
    });
    req.end();
  });
}

/** The events of the `events` lines, flattened, as [revision, type, key, value]. */
export function eventsOf(lines: readonly WatchLine[]): [number, string, string, unknown][] {
  const out: [number, string, string, unknown][] = [];
  for (const line of lines) {
    if (line.type !== 'events') continue;
    for (const e of line['events'] as { type: string; revision: number; kv: { key: string; value: unknown } }[]) out.push([e.revision, e.type, e.kv.key, e.kv.value]);
  }
  return out;
}
