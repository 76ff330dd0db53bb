// The supervisor of a local cluster of real node processes, as a library: the CLI's `synod
// cluster up`, the real-process tests and the benchmarks use it. Process control, the control
// API and status feed, the dashboard, readiness, the cluster file and its certificates.
export { startLocalCluster, type ClusterHandle, type LocalClusterOptions } from './local-cluster.js';
export { loadOrCreateClusterFile, readClusterFile, resolveClusterPath, NODE_PROCESS_FLAGS, type ClusterFile, type ClusterFileRequest } from './cluster-file.js';
export { NodeProcesses, StderrTail, type ExitInfo, type NodeProcessView, type ProcessState } from './processes.js';
export { startControlServer, type ControlServer, type ControlServerOptions } from './control-server.js';
export { StatusFeed, describeNode, type NodeInfo } from './status-feed.js';
export { serveDashboard, defaultWebDir, dashboardBuilt } from './dashboard.js';
export { waitForReady } from './readiness.js';
export { callApi, encodeSegment, type ApiAnswer, type CallOptions, type ClientTls } from './node-client.js';
export { SupervisorError } from './errors.js';
