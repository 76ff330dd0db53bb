// `synod auth enable|disable|status`, `synod user add|passwd|grant|delete|list` and
// `synod role add|delete|list`: client authentication and authorization (docs/security.md).
// `synod auth hash-password` and `synod auth check-file`: the leaderless store's auth file
// (docs/quorum.md, "Authentication").
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { hashPassword, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS } from '../server/auth.js';
import { AuthFileError, loadAuthFile } from '../server/auth-file.js';
import { CliError } from './errors.js';
import { common, keySegment, run, type CommonFlags } from './kv.js';

interface PasswordFlags {
  newPassword?: string;
  newPasswordStdin?: boolean;
}

/** The password a command sets: --new-password-stdin, else env SYNOD_NEW_PASSWORD (never on the command line, where ps shows it). */
function newPasswordOf(flags: PasswordFlags): string {
  if (flags.newPasswordStdin === true) return readFileSync(0, 'utf8').split(/\r?\n/, 1)[0] ?? '';
  const fromEnv = process.env['SYNOD_NEW_PASSWORD'];
  if (fromEnv !== undefined) return fromEnv;
  throw new CliError('BAD_OPTION', 'give the new password on standard input (--new-password-stdin) or in env SYNOD_NEW_PASSWORD');
}

function rolesList(text: string | undefined): string[] | undefined {
  return text === undefined ? undefined : text.split(',').map((s) => s.trim()).filter(Boolean);
}

/** The most standard input hash-password reads: one password line and then some. */
const MAX_STDIN_BYTES = 64 * 1024;

/** Standard input to its end, refused past MAX_STDIN_BYTES. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > MAX_STDIN_BYTES) throw new CliError('BAD_INPUT', `standard input is longer than ${MAX_STDIN_BYTES} bytes: give the password alone on one line`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A line typed at the terminal without echoing it. */
function promptHidden(prompt: string): Promise<string> {
  const input = process.stdin;
  process.stderr.write(prompt);
  input.setRawMode(true);
  input.setEncoding('utf8');
  input.resume();
  return new Promise((resolve, reject) => {
    let typed: string[] = [];
    const finish = (): void => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          finish();
          return resolve(typed.join(''));
        }
        if (ch === '\u0003') {
          finish();
          return reject(new CliError('INTERRUPTED', 'interrupted', 130));
        }
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed.push(ch);
      }
    };
    input.on('data', onData);
  });
}

/** The password for hash-password: typed twice at a terminal (not echoed), else the first line of standard input. */
async function passwordToHash(): Promise<string> {
  let password: string;
  if (process.stdin.isTTY === true) {
    password = await promptHidden('password: ');
    if ((await promptHidden('again: ')) !== password) throw new CliError('BAD_INPUT', 'the two passwords differ');
  } else {
    const lines = (await readStdin()).split(/\r?\n/);
    password = lines[0] ?? '';
    if (lines.slice(1).some((l) => l !== '')) throw new CliError('BAD_INPUT', 'standard input has more than one line: give the password alone on the first line');
  }
  if (password === '') throw new CliError('BAD_INPUT', 'no password on standard input (e.g. printf \'%s\\n\' "$PASSWORD" | synod auth hash-password)');
  if (password.length < MIN_PASSWORD_CHARS || password.length > MAX_PASSWORD_CHARS) throw new CliError('BAD_PASSWORD', `a password has ${MIN_PASSWORD_CHARS} to ${MAX_PASSWORD_CHARS} characters; this one has ${password.length}`);
  return password;
}

export function registerAuthCommands(program: Command): void {
  const auth = program.command('auth').description('switch client authentication on or off (docs/security.md); make and check the leaderless store\'s auth file');
  auth
    .command('hash-password')
    .description('print the scrypt hash of a password read from standard input (never the command line), as the "password" of a user in the leaderless store\'s auth file')
    .addHelpText('after', '\nExample:\n  printf \'%s\\n\' "$ALICE_PASSWORD" | synod auth hash-password\n  {"alg":"scrypt","N":32768,"r":8,"p":1,"salt":"...","hash":"..."}\n\nAt a terminal it asks twice without echoing. The file\'s format: docs/quorum.md, "Authentication".')
    .action(async () => {
      const hash = await hashPassword(await passwordToHash());
      process.stdout.write(`${JSON.stringify(hash)}\n`);
    });
  auth
    .command('check-file <file>')
    .description('check a leaderless-store auth file as a node would load it, and print its fingerprint (compare it with each node\'s GET /v1/status "authFile")')
    .option('--json', 'print the result as JSON')
    .action((file: string, f: { json?: boolean }) => {
      let contents: ReturnType<typeof loadAuthFile>;
      try {
        contents = loadAuthFile(file);
      } catch (err) {
        if (err instanceof AuthFileError) throw new CliError(err.code, err.message);
        throw err;
      }
      const summary = { file, enabled: contents.enabled, users: [...contents.users.keys()], roles: [...contents.roles.keys()], fingerprint: contents.fingerprint, warnings: contents.warnings };
      const human = [`${file}: authentication ${contents.enabled ? 'on' : 'off'}, ${contents.users.size} users, ${contents.roles.size} roles, fingerprint ${contents.fingerprint}`, ...contents.warnings.map((w) => `warning: ${w}`)].join('\n');
      process.stdout.write(`${f.json === true ? JSON.stringify(summary) : human}\n`);
    });
  common(auth.command('enable').description('require credentials from every client (the user "root" must exist first)')).action((f: CommonFlags) =>
    run(f, 'POST', '/v1/auth/enable', {}, () => 'authentication is on: clients need credentials from now on'),
  );
  common(auth.command('disable').description('stop requiring credentials (root only)')).action((f: CommonFlags) =>
    run(f, 'POST', '/v1/auth/disable', {}, () => 'authentication is off: every client may do everything'),
  );
  common(auth.command('status').description('whether authentication is on, and who you are')).action((f: CommonFlags) =>
    run(f, 'GET', '/v1/auth/whoami', undefined, (r) => {
      const w = r as { authEnabled: boolean; user: string | null; roles: string[] };
      return `authentication ${w.authEnabled ? 'on' : 'off'}${w.user === null ? '' : `; you are ${w.user} (roles: ${w.roles.join(', ') || 'none'})`}`;
    }),
  );

  const user = program.command('user').description('users (passwords are stored as scrypt hashes)');
  common(user.command('add <name>').description('add a user with a password (from stdin or SYNOD_NEW_PASSWORD)'))
    .option('--new-password-stdin', 'read the new user\'s password from standard input')
    .option('--roles <list>', 'comma-separated roles (root: everything)')
    .option('--no-password', 'a user who logs in with a client certificate only')
    .action((name: string, f: CommonFlags & PasswordFlags & { roles?: string; password: boolean }) => {
      const roles = rolesList(f.roles);
      const body = { ...(f.password ? { password: newPasswordOf(f) } : { noPassword: true }), ...(roles === undefined ? {} : { roles }) };
      return run(f, 'PUT', `/v1/auth/users/${keySegment(name)}`, body, () => `user ${name} added${roles === undefined ? '' : ` with roles ${roles.join(', ')}`}`);
    });
  common(user.command('passwd <name>').description('change a user\'s password (its tokens stop working)'))
    .option('--new-password-stdin', 'read the new password from standard input')
    .action((name: string, f: CommonFlags & PasswordFlags) => run(f, 'PUT', `/v1/auth/users/${keySegment(name)}`, { password: newPasswordOf(f) }, () => `password of ${name} changed`));
  common(user.command('grant <name> <roles>').description('set a user\'s roles (comma-separated; replaces the old ones)')).action((name: string, roles: string, f: CommonFlags) =>
    run(f, 'PUT', `/v1/auth/users/${keySegment(name)}`, { roles: rolesList(roles) }, () => `${name} now has roles ${roles}`),
  );
  common(user.command('delete <name>').description('remove a user')).action((name: string, f: CommonFlags) => run(f, 'DELETE', `/v1/auth/users/${keySegment(name)}`, undefined, () => `user ${name} removed`));
  common(user.command('list').description('list users and their roles')).action((f: CommonFlags) =>
    run(f, 'GET', '/v1/auth/users', undefined, (r) => ((r as { users: { name: string; roles: string[] }[] }).users.map((u) => `${u.name}: ${u.roles.join(', ') || '(no roles)'}`).join('\n') || '(no users)')),
  );

  const role = program.command('role').description('roles: read or read-write access to key prefixes');
  common(role.command('add <name>').description('create or replace a role'))
    .option('--read <prefix...>', 'keys starting with PREFIX may be read (repeatable; "" for every key)')
    .option('--readwrite <prefix...>', 'keys starting with PREFIX may be read and written (repeatable)')
    .action((name: string, f: CommonFlags & { read?: string[]; readwrite?: string[] }) => {
      const permissions = [...(f.read ?? []).map((prefix) => ({ prefix, access: 'read' })), ...(f.readwrite ?? []).map((prefix) => ({ prefix, access: 'readwrite' }))];
      if (permissions.length === 0) throw new CliError('BAD_OPTION', 'give at least one --read or --readwrite prefix');
      return run(f, 'PUT', `/v1/auth/roles/${keySegment(name)}`, { permissions }, () => `role ${name}: ${permissions.map((p) => `${p.access} ${JSON.stringify(p.prefix)}`).join(', ')}`);
    });
  common(role.command('delete <name>').description('remove a role')).action((name: string, f: CommonFlags) => run(f, 'DELETE', `/v1/auth/roles/${keySegment(name)}`, undefined, () => `role ${name} removed`));
  common(role.command('list').description('list roles and what they grant')).action((f: CommonFlags) =>
    run(f, 'GET', '/v1/auth/roles', undefined, (r) =>
      (r as { roles: { name: string; permissions: { prefix: string; access: string }[] }[] }).roles.map((x) => `${x.name}: ${x.permissions.map((p) => `${p.access} ${JSON.stringify(p.prefix)}`).join(', ')}`).join('\n') || '(no roles)',
    ),
  );
}
