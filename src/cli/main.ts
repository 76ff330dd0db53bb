// The `synod` command line. Each command lives in its own module and registers itself here;
// errors are printed as one line with a stable code and a non-zero exit, never a stack trace.
import { Command, CommanderError } from 'commander';
import { CliError } from './errors.js';
import { SupervisorError } from '../supervisor/errors.js';
import { registerCheckCommand } from './check.js';
import { registerSimCommand } from './sim.js';
import { registerDemoCommand } from './demo.js';
import { registerNodeCommand } from './node.js';
import { registerClusterCommand } from './cluster.js';
import { registerKvCommands } from './kv.js';
import { registerDkvCommands } from './dkv.js';
import { registerChaosCommand } from './chaos.js';
import { registerAdminCommands } from './admin.js';
import { registerAuthCommands } from './auth.js';
import { registerLeaseCommands } from './lease.js';
import { registerTxnCommand } from './txn.js';
import { registerWatchCommand } from './watch.js';
import { registerLockCommand } from './lock.js';
import { registerElectCommand } from './elect.js';
import { registerGossipCommands } from './gossip.js';
import { registerTxn2pcCommands } from './txn2pc.js';
import { registerSagaCommands } from './saga.js';

const program = new Command();
program
  .name('synod')
  .description('Distributed-systems primitives with a deterministic fault-injection simulator')
  .version('0.1.0')
  .exitOverride();

const registrations: Array<(p: Command) => void> = [registerDemoCommand, registerSimCommand, registerCheckCommand, registerNodeCommand, registerClusterCommand, registerKvCommands, registerDkvCommands, registerLeaseCommands, registerTxnCommand, registerTxn2pcCommands, registerWatchCommand, registerLockCommand, registerElectCommand, registerGossipCommands, registerSagaCommands, registerAdminCommands, registerAuthCommands, registerChaosCommand];
for (const register of registrations) register(program);

// A reader that stops early (`synod ... | head`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its message (or help); map usage errors to exit code 2
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    if (err instanceof CliError || err instanceof SupervisorError) {
      process.stderr.write(`synod: ${err.message} [${err.code}]\n`);
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(`synod: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 70;
  }
}

await main();
