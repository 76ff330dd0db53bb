// Entry point. Served by the local-cluster supervisor (`synod cluster up`, which answers
// /api/nodes), the page shows the live cluster and the simulation behind tabs; the live view
// uses the adapter of the service the supervisor runs (GET /api/cluster; "kv" when it does not
// say). Anywhere else (`vite`, a static server) it is the simulation alone, opening the run named
// in the fragment.
import { liveAdapterFor } from './adapters/index.js';
import { LiveSource } from './source/live.js';
import { App } from './ui/app.js';
import { Shell } from './ui/shell.js';

const root = document.getElementById('app');
if (root === null) throw new Error('missing #app');
if (await LiveSource.detect()) {
  const { service } = await LiveSource.cluster();
  new Shell(root, new LiveSource(liveAdapterFor(service)));
} else {
  new App(root).loadFromHash();
}
