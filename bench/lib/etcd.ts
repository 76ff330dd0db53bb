// Finds (or installs, from Debian's etcd-server package) etcd and runs a local cluster of it on
// loopback, for benchmarks that set Synod side by side with etcd in one run. The launcher lives
// with the lock backends' tests (src/lock/test/etcd-server.ts), which start etcd too.
export { ensureEtcd, findEtcdLeader, httpJson, startEtcdCluster, waitFor, type EtcdCluster } from '../../src/lock/test/etcd-server.js';
