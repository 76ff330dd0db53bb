// The second service as real processes: `cluster up --service clock-sync` starts a reference node
// and clients whose clocks are skewed on purpose; each client's measured offset must cancel its
// injected skew within its own error bound (plus the drift of a real machine's clock), and must
// come back after the client is killed with SIGKILL and restarted, and after the reference node is
// paused (SIGSTOP) and resumed. The supervisor names the service at /api/cluster.
import { afterEach, describe, expect, it } from 'vitest';
import { http, startTestCluster, waitUntil } from './test/harness.js';

type TestCluster = Awaited<ReturnType<typeof startTestCluster>>;
let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.cleanup();
  cluster = undefined;
});

interface ClockStatus {
  id: string;
  service: string;
  role: 'server' | 'client';
  offsetEstimateMs: number | null;
  errorBoundMs: number | null;
  injectedOffsetMs: number;
}

async function clockOf(c: TestCluster, id: string): Promise<ClockStatus | undefined> {
  const answer = await http('GET', `${c.endpoints[id] as string}/v1/status`).catch(() => undefined);
  return answer?.status === 200 ? (answer.body as unknown as ClockStatus) : undefined;
}

/** The client's estimate cancels its injected skew: |estimate + injected| within the bound and a slack for scheduling. */
async function waitForEstimate(c: TestCluster, id: string): Promise<ClockStatus> {
  let last: ClockStatus | undefined;
  await waitUntil(`node ${id} to measure its skew`, async () => {
    last = await clockOf(c, id);
    if (last?.offsetEstimateMs == null || last.errorBoundMs == null) return false;
    return Math.abs(last.offsetEstimateMs + last.injectedOffsetMs) <= last.errorBoundMs + 5;
  }, 30_000);
  return last as ClockStatus;
}

describe('real processes: clock sync', () => {
  it('clients measure their injected skew, again after kill -9 and restart, and after the reference is paused', async () => {
    cluster = await startTestCluster(3, 'clock-sync');
    expect((await http('GET', `${cluster.controlUrl}/api/cluster`)).body).toEqual({ service: 'clock-sync', nodes: 3 });
    expect((await clockOf(cluster, '1'))?.role).toBe('server');
    const two = await waitForEstimate(cluster, '2');
    const three = await waitForEstimate(cluster, '3');
    expect(two.service).toBe('clock-sync');
    // the defaults skew the clients apart: the estimates must differ by about as much
    expect(two.injectedOffsetMs).not.toBe(three.injectedOffsetMs);
    expect((await http('GET', `${cluster.endpoints['2'] as string}/readyz`)).status).toBe(200);

    cluster.kill('2');
    await waitUntil('node 2 to stop', async () => {
      const nodes = (await http('GET', `${(cluster as TestCluster).controlUrl}/api/nodes`)).body as unknown as { id: string; process: string }[];
      return nodes.find((n) => n.id === '2')?.process === 'stopped';
    });
    cluster.restart('2');
    await waitForEstimate(cluster, '2');

    // a paused reference answers nothing; once resumed the clients sample it again
    expect((await http('POST', `${cluster.controlUrl}/api/nodes/1/pause`)).status).toBe(200);
    expect((await http('POST', `${cluster.controlUrl}/api/nodes/1/resume`)).status).toBe(200);
    await waitForEstimate(cluster, '3');
    const time = await http('GET', `${cluster.endpoints['3'] as string}/v1/time`);
    expect(time.status).toBe(200);
    expect(typeof time.body['correctedNowMs']).toBe('number');
  });
});
