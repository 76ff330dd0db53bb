// Builds and runs Porcupine (the Go linearizability checker) beside Synod's checker, for the check
// benchmark: the source comes from a local checkout or git directory, is built offline in a temp
// folder with our own small driver (bench/porcupine/main.go), and times each history in-process.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DRIVER = fileURLToPath(new URL('../porcupine/main.go', import.meta.url));

export interface PorcupineTime {
  readonly verdict: string;
  readonly firstMs: number;
  readonly bestMs: number;
}

export interface PorcupineRunner {
  /** Checks every file `repeat` times; times by file path. */
  check(files: readonly string[], repeat: number): Map<string, PorcupineTime>;
  readonly version: string;
  dispose(): void;
}

/** Why Porcupine cannot be run here, or a runner. `source` is a checkout or a bare/mirror git dir. */
export function buildPorcupine(source: string): PorcupineRunner | string {
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.status !== 0) return 'Go is not installed (apt-get install golang-go)';
  if (!existsSync(source)) return `no Porcupine source at ${source}`;
  const dir = mkdtempSync(join(tmpdir(), 'synod-porcupine-'));
  const src = join(dir, 'porcupine');
  const isGitDir = existsSync(join(source, 'HEAD')) && existsSync(join(source, 'objects'));
  let commit = 'working tree';
  if (isGitDir) {
    mkdirSync(src);
    const archive = spawnSync('sh', ['-c', 'git --git-dir="$0" archive HEAD | tar -x -C "$1"', source, src], { encoding: 'utf8' });
    if (archive.status !== 0) return `cannot export ${source}: ${archive.stderr}`;
    commit = spawnSync('git', ['--git-dir', source, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
  } else {
    cpSync(source, src, { recursive: true });
  }
  copyFileSync(DRIVER, join(dir, 'main.go'));
  writeFileSync(
    join(dir, 'go.mod'),
    'module synodbench\n\ngo 1.16\n\nrequire github.com/anishathalye/porcupine v0.0.0\n\nreplace github.com/anishathalye/porcupine => ./porcupine\n',
  );
  const env = { ...process.env, GOFLAGS: '-mod=mod', GOPROXY: 'off', GOTOOLCHAIN: 'local' };
  const build = spawnSync('go', ['build', '-o', 'driver', '.'], { cwd: dir, env, encoding: 'utf8' });
  if (build.status !== 0) return `go build failed: ${build.stderr.trim()}`;
  return {
    version: `${go.stdout.trim()}, porcupine ${commit}`,
    check(files, repeat) {
      const run = spawnSync(join(dir, 'driver'), ['-repeat', String(repeat), ...files], { encoding: 'utf8', maxBuffer: 64 << 20 });
      if (run.status !== 0) throw new Error(`porcupine driver failed: ${run.stderr}`);
      const times = new Map<string, PorcupineTime>();
      for (const line of run.stdout.trim().split('\n')) {
        const [file, verdict, first, best] = line.split(' ');
        times.set(file!, { verdict: verdict!, firstMs: Number(first), bestMs: Number(best) });
      }
      return times;
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
