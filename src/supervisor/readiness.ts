// Waits for a cluster to be ready by asking each node's service (GET /readyz), not by looking for
// a Raft leader: every service says for itself what ready means.
import { callApi, type ClientTls } from './node-client.js';

/**
 * Polls the nodes until a majority report ready (GET /readyz 200: the service's own checks pass,
 * e.g. a leader known and caught up for the KV, a recent sample for clock sync); returns the
 * statuses of those ready. A majority, not all: one node that cannot start must not hide the rest.
 */
export async function waitForReady(endpoints: readonly string[], timeoutMs: number, tls: ClientTls = {}): Promise<{ id: string; role: string }[]> {
  const deadline = Date.now() + timeoutMs;
  let waiting = 'no node answered';
  while (Date.now() < deadline) {
    const statuses: { id: string; role: string }[] = [];
    for (const e of endpoints) {
      try {
        const ready = await callApi([e], 'GET', '/readyz', undefined, 500, { tls });
        if (ready.status !== 200) {
          waiting = `${e}: ${JSON.stringify((ready.body as { checks?: unknown }).checks ?? ready.body)}`;
          continue;
        }
        const s = (await callApi([e], 'GET', '/v1/status', undefined, 500, { tls })).body as { id?: string; role?: string };
        statuses.push({ id: s.id ?? e, role: s.role ?? 'unknown' });
      } catch (err) {
        waiting = `${e}: ${(err as Error).message}`;
      }
    }
    if (statuses.length > endpoints.length / 2) return statuses;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no majority of the nodes became ready in ${timeoutMs} ms (${waiting})`);
}
