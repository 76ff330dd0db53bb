// etcd's native gRPC API for `bench kv`, through the `etcd3` client (it ships etcd's .proto files
// and runs them on @grpc/grpc-js), pinned to one member and with its retries and circuit breaker
// turned off, so that every request is one call on one HTTP/2 connection and a failure counts.
import { noop } from 'cockatiel';
import { Etcd3 } from 'etcd3';
import type { KvTarget, KvWatch } from './kv-target.js';

/** The leases' TTL: long enough that none expires during a cycle, which revokes it anyway. */
const LEASE_TTL_SECONDS = 60;

export type EtcdGrpcClient = Required<Pick<KvTarget, 'put' | 'get' | 'txnPut' | 'leaseCycle' | 'watchPrefix'>> & { close(): void };

/** A client of the member at `url` (http://host:port), which should be the leader. */
export function connectEtcdGrpc(url: string): EtcdGrpcClient {
  // one host, so no balancing; no retries, so a failed call is an error as on the other rows
  const client = new Etcd3({ hosts: url, faultHandling: { host: () => noop, global: noop } });
  return {
    put: async (key, value) => void (await client.put(key).value(value).exec()),
    // etcd's default range is linearizable (serializable: false)
    get: async (key) => void (await client.get(key).exec()),
    txnPut: async (key, value) => {
      const reply = await client.if(key, 'Version', '==', 0).then(client.put(key).value(value)).commit();
      if (!reply.succeeded) throw new Error(`txn compare failed: ${key} exists`);
    },
    leaseCycle: async (key, value) => {
      // the grant is sent when the lease is made; no keep-alive stream, the cycle revokes it
      const lease = client.lease(LEASE_TTL_SECONDS, { autoKeepAlive: false });
      await lease.grant();
      await lease.put(key).value(value).exec();
      await lease.revoke();
    },
    watchPrefix: async (prefix, onPut): Promise<KvWatch> => {
      // etcd3 carries all the watchers of a client on one Watch stream, as etcd's Go client does
      const watcher = await client.watch().prefix(prefix).create();
      watcher.on('put', (kv) => onPut(kv.key.toString('utf8')));
      return { close: () => watcher.cancel() };
    },
    close: () => client.close(),
  };
}
