// Finds (or installs, from Debian's etcd-server package) etcd and runs a local cluster of it on
// loopback, for benchmarks that set Synod side by side with etcd in one run. The launcher lives
// with the lock backends' tests (src/lock/test/etcd-server.ts), which start etcd too.
import type { Agent } from 'node:http';
import { httpJson } from '../../src/lock/test/etcd-server.js';

export { ensureEtcd, httpJson, startEtcdCluster, waitFor, type EtcdCluster } from '../../src/lock/test/etcd-server.js';

/** The client URL of the member that is the leader (etcd clients may talk to any member; the bench uses the leader). */
export async function findEtcdLeader(clientUrls: readonly string[], agent: Agent): Promise<string> {
  for (const url of clientUrls) {
    const s = (await httpJson('POST', `${url}/v3/maintenance/status`, {}, agent)) as { leader: string; header: { member_id: string } };
    if (s.leader === s.header.member_id) return url;
  }
  throw new Error('no etcd member says it is the leader');
}
