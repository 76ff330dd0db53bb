// `synod gossip`: run a gossip agent (SWIM membership with a CRDT document, over UDP and TCP) and
// talk to one through its local control API — members, status, the document (get, incr, add, set,
// enable, ...), join, leave, metadata, a live event feed — and make keys for encryption. Each
// client command takes --agent and --json; bad input exits 2, a refusal or an unreachable agent 1.
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { isLoopbackHost, splitHostPort, startGossipAgent, type GossipPresetName } from '../gossip-agent/agent.js';
import { GOSSIP_PRESETS, resolveGossipConfig, type GossipConfig } from '../gossip/config.js';
import { isGossipError } from '../gossip/errors.js';
import { openAgentWire } from '../gossip-agent/wire.js';
import { callApi } from '../supervisor/node-client.js';
import { expectOk } from './client.js';
import { CliError } from './errors.js';
import { parseIntOption } from './options.js';

const DEFAULT_BIND = '127.0.0.1:7946';
const DEFAULT_AGENT = 'http://127.0.0.1:7947';

interface ClientFlags {
  agent: string;
  json?: boolean;
}

interface AgentFlags {
  bind: string;
  advertise?: string;
  http?: string;
  join?: string;
  dataDir?: string;
  keyring?: string;
  cluster: string;
  preset: string;
  crdtSyncMs?: string;
  gossipConfig?: string;
}

function client(cmd: Command): Command {
  return cmd.option('--agent <url>', `the agent's control API (default env SYNOD_GOSSIP_AGENT, else ${DEFAULT_AGENT})`).option('--json', 'print the raw JSON answer');
}

function agentUrl(f: ClientFlags): string {
  const url = f.agent ?? process.env['SYNOD_GOSSIP_AGENT'] ?? DEFAULT_AGENT;
  if (!/^http:\/\/[^/\s]+$/.test(url)) throw new CliError('BAD_OPTION', `--agent is http://host:port; got ${JSON.stringify(url.slice(0, 100))}`);
  return url;
}

async function call(f: ClientFlags, method: string, path: string, body?: unknown, timeoutMs = 20_000): Promise<Record<string, unknown>> {
  return expectOk(await callApi([agentUrl(f)], method, path, body, timeoutMs)) as Record<string, unknown>;
}

function print(f: ClientFlags, result: unknown, human: () => string): void {
  process.stdout.write((f.json === true ? JSON.stringify(result) : human()) + '\n');
}

function hostPort(text: string, flag: string): string {
  try {
    splitHostPort(text, flag);
  } catch (err) {
    throw new CliError('BAD_OPTION', (err as Error).message);
  }
  return text;
}

function seedsOf(text: string | undefined): string[] {
  if (text === undefined || text.trim() === '') return [];
  const seeds = text.split(',').map((s) => s.trim());
  if (seeds.length > 64) throw new CliError('BAD_OPTION', '--join takes at most 64 seeds');
  return seeds.map((s) => hostPort(s, '--join'));
}

interface EntryView {
  kind: string;
  name: string;
  value: unknown;
}

function entryLine(e: EntryView): string {
  const v = e.value;
  const text = Array.isArray(v) ? (e.kind === 'register' ? v.map((x) => JSON.stringify(x)).join(' | ') || '(empty)' : `{${v.map((x) => JSON.stringify(x)).join(', ')}}`) : String(v);
  return `${e.name} (${e.kind}) = ${text}`;
}

/** --gossip-config: a JSON object of GossipConfig fields, checked against the preset (a bad field exits 2 naming it). */
function gossipConfigOf(text: string | undefined, preset: GossipPresetName): Partial<GossipConfig> {
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CliError('BAD_OPTION', '--gossip-config is a JSON object');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CliError('BAD_OPTION', '--gossip-config is a JSON object');
  const known = Object.keys(GOSSIP_PRESETS.lan);
  for (const field of Object.keys(value)) if (!known.includes(field)) throw new CliError('BAD_OPTION', `--gossip-config: unknown field ${JSON.stringify(field.slice(0, 60))} (known: ${known.join(', ')})`);
  try {
    resolveGossipConfig(value as Partial<GossipConfig>, GOSSIP_PRESETS[preset]);
  } catch (err) {
    if (isGossipError(err)) throw new CliError('BAD_OPTION', `--gossip-config: ${err.message}`);
    throw err;
  }
  return value as Partial<GossipConfig>;
}

async function runAgent(f: AgentFlags): Promise<void> {
  const bind = hostPort(f.bind, '--bind');
  const advertise = f.advertise === undefined ? undefined : hostPort(f.advertise, '--advertise');
  const preset = f.preset as GossipPresetName;
  if (!['lan', 'wan', 'local'].includes(preset)) throw new CliError('BAD_OPTION', `--preset is lan, wan or local; got ${JSON.stringify(f.preset)}`);
  const join = seedsOf(f.join);
  if (f.http !== undefined && !isLoopbackHost(splitHostPort(hostPort(f.http, '--http'), '--http').host)) throw new CliError('BAD_OPTION', `--http must be a loopback address (the control API has no authentication); got ${JSON.stringify(f.http)}`);
  const config = gossipConfigOf(f.gossipConfig, preset);
  const crdtSyncIntervalMs = f.crdtSyncMs === undefined ? undefined : parseIntOption('--crdt-sync-ms', f.crdtSyncMs, 0, 3_600_000);
  let wire;
  try {
    wire = await openAgentWire({ bind, ...(advertise === undefined ? {} : { advertise }), cluster: f.cluster, ...(f.keyring === undefined ? {} : { keyringFile: f.keyring }) });
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'GOSSIP_BIND_FAILED';
    // a key ring file or option the user gave that is wrong is bad input (2); a port taken is not (1)
    throw new CliError(code, (err as Error).message, /KEYRING|BAD_KEY|TOO_MANY_KEYS|INVALID_OPTION/.test(code) ? 2 : 1);
  }
  const { port } = splitHostPort(wire.address, 'address');
  const httpBind = f.http === undefined ? `127.0.0.1:${port === 0 ? 0 : port + 1}` : hostPort(f.http, '--http');
  let agent;
  try {
    agent = await startGossipAgent({ wire: wire.wire, join, httpBind, preset, config, ...(wire.keyRing === undefined ? {} : { keys: { ring: wire.keyRing, save: wire.saveKeyRing } }), ...(f.dataDir === undefined ? {} : { dataDir: f.dataDir }), ...(crdtSyncIntervalMs === undefined ? {} : { crdtSyncIntervalMs }) });
  } catch (err) {
    await wire.wire.close();
    throw new CliError((err as { code?: string }).code ?? 'GOSSIP_START_FAILED', (err as Error).message, 1);
  }
  if (f.keyring === undefined) process.stderr.write('synod: warning: no --keyring: gossip travels in the clear and anyone who can reach the port can join\n');
  process.stdout.write(`gossip agent ${agent.id}: control API ${agent.httpUrl}${join.length > 0 ? `, joining through ${join.join(', ')}` : ', a group of its own'}\n`);
  const started = agent;
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      process.stdout.write(`${signal}: leaving the group\n`);
      // a graceful leave: announced at once and with the next gossip rounds, then the agent closes
      void started.host
        .request({ op: 'leave' }, 1_000)
        .then(() => new Promise((r) => setTimeout(r, Math.min(2_000, started.config.gossipIntervalMs * 3))))
        .finally(() => void started.close().then(resolve));
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

export function registerGossipCommands(program: Command): void {
  const gossip = program.command('gossip').description('SWIM gossip membership with a CRDT document: run an agent, see its members, read and change the document');
  gossip
    .command('agent')
    .description('run a gossip agent in the foreground (UDP for probes and gossip, TCP on the same port for large messages); Ctrl-C leaves the group gracefully')
    .option('--bind <host:port>', 'where to listen for peers (UDP and TCP)', DEFAULT_BIND)
    .option('--advertise <host:port>', 'the address peers use to reach this agent (default: --bind, with the bound port); it is the member\'s name')
    .option('--http <host:port>', 'the control API (loopback only; default 127.0.0.1 and the peer port + 1)')
    .option('--join <seeds>', 'comma-separated host:port of members to join through')
    .option('--data-dir <dir>', 'keep the incarnation and local CRDT changes here (without it a restart is a new life)')
    .option('--keyring <file>', 'encrypt and authenticate with this key ring (JSON {"keys": [base64...], "primary": 0}); see `synod gossip keygen`')
    .option('--cluster <name>', 'the group\'s name, bound into every sealed packet (packets of another group are refused)', 'synod')
    .option('--preset <name>', 'timings: lan (memberlist\'s defaults), wan or local', 'lan')
    .option('--gossip-config <json>', 'settings over the preset, as JSON with memberlist\'s meanings (e.g. {"probeIntervalMs": 200, "suspicionMult": 3}); see docs/gossip.md')
    .option('--crdt-sync-ms <ms>', 'between two full document exchanges with a random member (default: the preset\'s push-pull interval)')
    .action((f: AgentFlags) => runAgent(f));

  client(gossip.command('members').description('the members as this agent sees them: state, incarnation, metadata')).action(async (f: ClientFlags) => {
    const r = await call(f, 'GET', '/v1/members');
    const members = r['members'] as { id: string; state: string; incarnation: number; meta: string }[];
    print(f, r, () => members.map((m) => `${m.id}\t${m.state}\tincarnation ${m.incarnation}${m.meta === '' ? '' : `\t${m.meta}`}`).join('\n'));
  });
  client(gossip.command('status').description('this agent: its state, incarnation, health, member counts, document version and counters')).action(async (f: ClientFlags) => {
    const r = await call(f, 'GET', '/v1/status');
    const m = r['members'] as Record<string, number>;
    print(f, r, () => `${String(r['id'])}: ${String(r['state'])}, incarnation ${String(r['incarnation'])}, health ${String(r['health'])}; members alive ${m['alive']}, suspect ${m['suspect']}, dead ${m['dead']}, left ${m['left']}; document version ${String(r['docVersion'])}${r['encrypted'] === true ? '; encrypted' : ''}`);
  });
  client(gossip.command('join <seeds...>').description('join the group through these members (host:port)')).action(async (seeds: string[], f: ClientFlags) => {
    const r = await call(f, 'POST', '/v1/join', { seeds: seeds.map((s) => hostPort(s, 'a seed')) });
    print(f, r, () => `joined through ${String(r['via'])}`);
  });
  client(gossip.command('leave').description('leave the group gracefully (the agent keeps running; join again to come back)')).action(async (f: ClientFlags) => {
    const r = await call(f, 'POST', '/v1/leave');
    print(f, r, () => 'left');
  });
  client(gossip.command('meta <text>').description('set this member\'s metadata (spread with a new incarnation)')).action(async (text: string, f: ClientFlags) => {
    const r = await call(f, 'PUT', '/v1/meta', { meta: text });
    print(f, r, () => `metadata set at incarnation ${String(r['incarnation'])}`);
  });
  client(gossip.command('watch').description('print membership events and document changes as they come (Ctrl-C to stop)').option('--after <seq>', 'start after this event number', '0').option('--count <n>', 'stop after this many events')).action(async (f: ClientFlags & { after: string; count?: string }) => {
    let after = parseIntOption('--after', f.after, 0, Number.MAX_SAFE_INTEGER);
    const limit = f.count === undefined ? Infinity : parseIntOption('--count', f.count, 1, 1_000_000);
    for (let printed = 0; printed < limit; ) {
      const r = await call(f, 'GET', `/v1/events?after=${after}&waitMs=30000`, undefined, 40_000);
      for (const e of r['events'] as { seq: number; kind: string; detail: string }[]) {
        after = e.seq;
        print(f, e, () => `${e.seq}\t${e.kind}\t${e.detail}`);
        if (++printed >= limit) break;
      }
    }
  });
  client(gossip.command('keys [action] [key]').description('the key ring: list fingerprints; install KEY, use KEY (make it the one that seals) or remove KEY. Rotate by installing on every agent, then using, then removing the old one')).action(async (action: string | undefined, key: string | undefined, f: ClientFlags) => {
    if (action !== undefined && !['list', 'install', 'use', 'remove'].includes(action)) throw new CliError('BAD_OPTION', `action is list, install, use or remove; got ${JSON.stringify(action)}`);
    if (action !== undefined && action !== 'list' && key === undefined) throw new CliError('BAD_OPTION', `${action} needs a key (base64)`);
    const r = action === undefined || action === 'list' ? await call(f, 'GET', '/v1/keys') : await call(f, 'POST', '/v1/keys', { action, key });
    const keys = r['keys'] as { fingerprint: string; primary: boolean }[];
    print(f, r, () => (keys.length === 0 ? '(no key ring: this agent runs in the clear)' : keys.map((k) => `${k.fingerprint}${k.primary ? '\tprimary' : ''}`).join('\n')));
  });
  gossip
    .command('keygen')
    .description('print a new key ring file (one random AES-256 key) for --keyring')
    .action(() => {
      process.stdout.write(`${JSON.stringify({ keys: [randomBytes(32).toString('base64')], primary: 0 })}\n`);
    });

  const crdt = gossip.command('crdt').description('read and change the agent\'s CRDT document (spread to every member by gossip)');
  client(crdt.command('get [name]').description('every entry, or those named NAME (one per kind)')).action(async (name: string | undefined, f: ClientFlags) => {
    const r = await call(f, 'GET', `/v1/crdt${name === undefined ? '' : `?name=${encodeURIComponent(name)}`}`);
    const entries = r['entries'] as EntryView[];
    print(f, r, () => (entries.length === 0 ? '(no entries)' : entries.map(entryLine).join('\n')));
  });
  const change = async (f: ClientFlags, body: Record<string, unknown>): Promise<void> => {
    const r = await call(f, 'POST', '/v1/crdt', body);
    print(f, r, () => (r['entries'] as EntryView[]).map(entryLine).join('\n'));
  };
  for (const action of ['incr', 'decr'] as const) {
    client(crdt.command(`${action} <name> [amount]`).description(`${action === 'incr' ? 'add to' : 'subtract from'} a counter (default 1)`)).action((name: string, amount: string | undefined, f: ClientFlags) =>
      change(f, { kind: 'counter', name, action, amount: amount === undefined ? 1 : parseIntOption('amount', amount, 1, Number.MAX_SAFE_INTEGER) }),
    );
  }
  for (const action of ['add', 'remove'] as const) {
    client(crdt.command(`${action} <name> <element>`).description(`${action} an element of a set (an add concurrent with a remove wins)`)).action((name: string, element: string, f: ClientFlags) => change(f, { kind: 'set', name, action, element }));
  }
  client(crdt.command('set <name> <value>').description('write a register (concurrent writes are all kept until a write that saw them)')).action((name: string, value: string, f: ClientFlags) => change(f, { kind: 'register', name, action: 'set', value }));
  for (const action of ['enable', 'disable'] as const) {
    client(crdt.command(`${action} <name>`).description(`${action} a flag (enable wins over a concurrent disable)`)).action((name: string, f: ClientFlags) => change(f, { kind: 'flag', name, action }));
  }
}
