// Entry point. Served by the local-cluster supervisor (`synod cluster up`, which answers
// /api/nodes), the page shows the live cluster and the simulation behind tabs; anywhere else
// (`vite`, a static server) it is the simulation alone, opening the run named in the fragment.
import { raftAdapter } from './adapters/raft.js';
import { LiveSource } from './source/live.js';
import { App } from './ui/app.js';
import { Shell } from './ui/shell.js';

const root = document.getElementById('app');
if (root === null) throw new Error('missing #app');
if (await LiveSource.detect()) {
  new Shell(root, new LiveSource(raftAdapter));
} else {
  new App(root).loadFromHash();
}
