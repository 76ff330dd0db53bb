// What `bench kv` asks of a system under test: a running cluster plus one client of it. put and
// get every target has; the optional members are capabilities that not every system offers yet
// (Synod gains txn, leases and watch with issue 16), and a workload skips a target that lacks one.

/** A watcher opened by `watchPrefix`; `close` cancels it. */
export interface KvWatch {
  close(): Promise<void>;
}

export interface KvTarget {
  /** The row's name: synod, etcd-json, etcd-grpc. */
  readonly name: string;
  /** Printed as "<name>: <lacking>" for a workload whose capability this target does not have. */
  readonly lacking: string;
  /** Writes `value` at `key`; rejects if the write failed. */
  put(key: string, value: string): Promise<void>;
  /** A linearizable read of `key`. */
  get(key: string): Promise<void>;
  /** One transaction: if `key` does not exist yet (its version is 0), put `value` there; rejects if the compare failed. */
  txnPut?(key: string, value: string): Promise<void>;
  /** Grants a lease, puts `key` attached to it, then revokes it (three requests, one after the other). */
  leaseCycle?(key: string, value: string): Promise<void>;
  /** Watches every key under `prefix`; `onPut(key)` runs once for each put. Resolves once the server has the watch. */
  watchPrefix?(prefix: string, onPut: (key: string) => void): Promise<KvWatch>;
  /** Process ids of the cluster's nodes, for their CPU time and memory. */
  pids(): Promise<number[]>;
  /** Closes the client and stops the cluster. */
  stop(): Promise<void>;
}
