// Lint rules for Synod. Besides typescript-eslint's recommended set, protocol cores
// (everything under src/ except the hosts that own real time and I/O) may not touch
// wall-clock time, ambient randomness, timers, sockets, files or the process.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Folders that are hosts of real I/O; every other folder under src/ is a deterministic core. */
export const HOST_FOLDERS = ['cli', 'server', 'net', 'storage', 'runtime', 'supervisor', 'client', 'lock', 'election', 'gossip-net', 'gossip-agent', 'txn-kv', 'saga-host'];

const forbiddenModules = ['fs', 'net', 'dgram', 'child_process', 'worker_threads', 'http', 'https', 'os', 'process', 'timers', 'cluster']
  .flatMap((name) => [name, `node:${name}`, `${name}/promises`, `node:${name}/promises`]);

export const coreRestrictions = {
  'no-restricted-globals': ['error',
    { name: 'Date', message: 'Cores take time from the host (env.now / ticks).' },
    { name: 'setTimeout', message: 'Cores use ticks from the host, not timers.' },
    { name: 'setInterval', message: 'Cores use ticks from the host, not timers.' },
    { name: 'setImmediate', message: 'Cores use ticks from the host, not timers.' },
    { name: 'queueMicrotask', message: 'Cores are synchronous.' },
    { name: 'process', message: 'Cores do not touch the process.' },
    { name: 'performance', message: 'Cores take time from the host.' },
    { name: 'fetch', message: 'Cores do no I/O.' },
    { name: 'crypto', message: 'Cores take randomness from the host.' },
  ],
  'no-restricted-properties': ['error',
    { object: 'Math', property: 'random', message: 'Cores take randomness from the host (env.random).' },
  ],
  'no-restricted-imports': ['error', {
    paths: forbiddenModules.map((name) => ({ name, message: 'Cores do no I/O; hosts pass it in.' })),
    // dependencies point one way: a core never imports a host folder
    patterns: [{ regex: `(^|/)(${HOST_FOLDERS.join('|')})/`, message: 'Cores know nothing of hosts: import only src/core and other cores.' }],
  }],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'web/dist/**', 'coverage/**', 'artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: [...HOST_FOLDERS.map((f) => `src/${f}/**`), 'src/**/*.test.ts'],
    rules: coreRestrictions,
  },
  {
    // the visualizer runs in the browser: it may import the deterministic cores, never a host
    // folder of src/ or a Node module
    files: ['web/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { regex: '(^|/)src/(cli|server|net|storage|runtime|supervisor|service|client|lock|election|gossip-net|gossip-agent|txn-kv|saga-host)(/|$)', message: 'The visualizer runs in the browser: import only src/core, sim, raft, kv, clock, check (no host code).' },
          { regex: '^node:', message: 'The visualizer runs in the browser: no Node modules.' },
        ],
      }],
    },
  },
  {
    files: ['bin/**/*.js', 'scripts/**/*.{js,mjs}'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
