// Where the Jepsen-recorded histories live: `shared/histories/` beside the checkout. A git
// worktree sits one or more folders deeper than the main checkout, so this looks upwards.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));

/** The first `shared/histories` found in the checkout's parent or an ancestor (at most 4 up). */
function findSharedHistories(): string {
  const fallback = join(repoRoot, '..', 'shared', 'histories');
  let dir = dirname(repoRoot.replace(/\/$/, ''));
  for (let up = 0; up < 4; up++) {
    const candidate = join(dir, 'shared', 'histories');
    if (existsSync(join(candidate, 'etcd-jepsen', 'expected.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return fallback; // tests that need it then fail saying where they looked
}

export const sharedHistoriesDir = findSharedHistories();

/** The folder of the 102 etcd histories and their expected.json. */
export const etcdHistoriesDir = join(sharedHistoriesDir, 'etcd-jepsen');
