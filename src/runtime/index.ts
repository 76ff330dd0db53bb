// Public surface of src/runtime: the host that runs protocol cores in a real Node process.
export { NodeHost, type AnnotationListener, type DurableStore, type NodeHostOptions, type PeerTransport } from './node-host.js';
