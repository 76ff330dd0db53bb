// What the dashboards see of a cluster: each node's process state joined with its service's
// GET /v1/status, listed on request and streamed as server-sent events while anyone watches.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { callApi, type ClientTls } from './node-client.js';
import type { ExitInfo, NodeProcessView, ProcessState } from './processes.js';

/** What GET /api/nodes lists for each node (and /api/events streams). */
export interface NodeInfo {
  readonly id: string;
  readonly process: ProcessState;
  readonly pid: number | null;
  readonly restarts: number;
  readonly endpoint: string;
  /** The node's GET /v1/status; null when it did not answer; absent when it is not running. */
  readonly status?: { readonly role?: string; readonly term?: number } | null;
  /** How it ended last time (code, signal, and its own one-line reason), if it ever did. */
  readonly lastExit?: ExitInfo;
}

/** How often the event stream polls the nodes, and the longest it stays silent. */
const FEED_POLL_MS = 200;
const FEED_KEEPALIVE_MS = 1000;

/** One node as GET /api/nodes lists it: its process, and its status when it runs. */
export async function describeNode(child: NodeProcessView, endpoint: string, tls: ClientTls): Promise<NodeInfo> {
  const base = { id: child.id, process: child.state, pid: child.pid, restarts: child.restarts, endpoint, ...(child.lastExit === undefined ? {} : { lastExit: child.lastExit }) };
  if (child.state !== 'running') return base;
  try {
    const answer = await callApi([endpoint], 'GET', '/v1/status', undefined, 500, { tls });
    return { ...base, status: answer.body as NodeInfo['status'] };
  } catch {
    return { ...base, status: null };
  }
}

/**
 * Server-sent events for the dashboards: while at least one is connected, polls every node's
 * status every FEED_POLL_MS and sends the list (as GET /api/nodes gives it) when it changed, and at
 * least every FEED_KEEPALIVE_MS (so a page can tell a live stream from a stuck one).
 */
export class StatusFeed {
  private readonly clients = new Set<ServerResponse>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private polling = false;
  private pollAgain = false;
  private lastJson = '';
  private lastSentAt = 0;
  private latest: NodeInfo[] = [];
  private closed = false;

  constructor(private readonly snapshot: () => Promise<NodeInfo[]>) {}

  add(req: IncomingMessage, res: ServerResponse): void {
    if (this.closed) {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    // reconnect quickly after a network hiccup
    res.write('retry: 1000\n\n');
    this.clients.add(res);
    req.socket.setNoDelay(true);
    req.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stopTimer();
    });
    // a newcomer gets the latest state at once, then the regular updates
    if (this.lastJson !== '') res.write(this.message());
    this.poke();
    this.timer ??= setInterval(() => this.poke(), FEED_POLL_MS);
  }

  /** The node that leads as of the latest poll, if any (the kv proxy asks it first). */
  leader(): string | undefined {
    let best: { id: string; term: number } | undefined;
    for (const n of this.latest) {
      if (n.process !== 'running' || n.status?.role !== 'leader') continue;
      const term = n.status.term ?? 0;
      if (best === undefined || term > best.term) best = { id: n.id, term };
    }
    return best?.id;
  }

  /** Polls now (or right after the poll under way). */
  poke(): void {
    if (this.closed || this.clients.size === 0) return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.polling = true;
    void this.snapshot()
      .then((nodes) => {
        this.latest = nodes;
        const json = JSON.stringify(nodes);
        if (json === this.lastJson && Date.now() - this.lastSentAt < FEED_KEEPALIVE_MS) return;
        this.lastJson = json;
        const text = this.message();
        for (const res of this.clients) res.write(text);
      })
      .catch(() => undefined)
      .finally(() => {
        this.polling = false;
        if (this.pollAgain) {
          this.pollAgain = false;
          this.poke();
        }
      });
  }

  private message(): string {
    this.lastSentAt = Date.now();
    return `data: {"time":${this.lastSentAt},"nodes":${this.lastJson}}\n\n`;
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.closed = true;
    this.stopTimer();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}

