// `npm run bench -- <name> [args]`: runs one benchmark (bench/<name>.ts exports `run(args)`).
const names = ['sim', 'check', 'kv', 'http-floor', 'raft-election', 'raft-throughput', 'wal-open', 'txn-check', 'txn', 'lock', 'ring', 'quorum', 'quorum-storage', 'crdt', 'gossip', 'consensus'] as const;
const [name, ...args] = process.argv.slice(2);
if (name === undefined || !(names as readonly string[]).includes(name)) {
  process.stderr.write(`usage: npm run bench -- <${names.join('|')}> [args]\n`);
  process.exit(2);
}
const mod = (await import(`./${name}.ts`)) as { run(args: string[]): Promise<void> };
await mod.run(args);
