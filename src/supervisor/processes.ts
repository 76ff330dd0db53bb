// The node processes of a local cluster: starts each as `synod node` with its log rotated on disk,
// keeps the tail of its stderr to say why it exited, and pauses, resumes, kills, restarts and
// stops them on request. Knows nothing of HTTP; the control server drives it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createStream } from 'rotating-file-stream';
import { NODE_PROCESS_FLAGS } from './cluster-file.js';
import { SupervisorError } from './errors.js';

/** How a process ended last time, and why as it told us (its last "synod: ..." line). */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: string | null;
  readonly reason: string | null;
  readonly at: string;
}

export type ProcessState = 'running' | 'paused' | 'stopped';

/** One node process as the supervisor sees it. */
export interface NodeProcessView {
  readonly id: string;
  readonly state: ProcessState;
  readonly pid: number | null;
  readonly restarts: number;
  readonly lastExit: ExitInfo | undefined;
}

interface Child {
  readonly id: string;
  process: ChildProcess | undefined;
  state: ProcessState;
  restarts: number;
  lastExit: ExitInfo | undefined;
}

/** Each node's log rotates at this size, keeping this many old files (node.log.1 is the newest). */
const LOG_ROTATE_BYTES = '10M';
const LOG_KEEP_FILES = 5;
/** The tail of a node's stderr kept to find why it exited. */
const STDERR_TAIL_BYTES = 16 * 1024;
/** How long a node has to stop after SIGTERM before it is killed. */
const STOP_GRACE_MS = 8000;

export interface NodeProcessOptions {
  /** The cluster's directory: DIR/<id> holds each node's data and log, DIR/cluster.json the config. */
  readonly dataDir: string;
  /** The cluster file was made by this start: a first launch may begin with empty state. */
  readonly newCluster: boolean;
  /** Each node's log rotates at this size (rotating-file-stream syntax, e.g. "10M"). */
  readonly logRotateSize?: string;
  readonly logLevel?: string;
  /** How to run `synod`; default: this process's own entry point and loader flags. */
  readonly command?: readonly string[];
  /** More `synod node` flags for every node (e.g. --auto-compact-retain-revisions 0); give every member the same. */
  readonly nodeArgs?: readonly string[];
  /** A process started or ended (for the status feed). */
  readonly onChange?: () => void;
  /** One line of progress for people (exits and their reasons). */
  readonly say?: (line: string) => void;
}

export class NodeProcesses {
  private readonly children: Map<string, Child>;
  onChange: () => void;

  constructor(
    ids: readonly string[],
    private readonly o: NodeProcessOptions,
  ) {
    this.children = new Map(ids.map((id) => [id, { id, process: undefined, state: 'stopped', restarts: 0, lastExit: undefined }]));
    this.onChange = o.onChange ?? (() => {});
  }

  ids(): string[] {
    return [...this.children.keys()];
  }

  size(): number {
    return this.children.size;
  }

  list(): NodeProcessView[] {
    return [...this.children.values()].map((c) => ({ id: c.id, state: c.state, pid: c.process?.pid ?? null, restarts: c.restarts, lastExit: c.lastExit }));
  }

  /** The ids of the processes that can answer now (not paused, not stopped). */
  running(): string[] {
    return [...this.children.values()].filter((c) => c.state === 'running').map((c) => c.id);
  }

  startAll(): void {
    for (const child of this.children.values()) this.launch(child);
  }

  /** Sends a signal; SIGSTOP and SIGCONT also mark the process paused or running. */
  signal(id: string, signal: NodeJS.Signals): void {
    const child = this.children.get(id);
    if (child === undefined) throw new SupervisorError('NO_SUCH_NODE', `no node ${id}`);
    if (child.process === undefined) throw new SupervisorError('NOT_RUNNING', `node ${id} is not running`);
    child.process.kill(signal);
    if (signal === 'SIGSTOP') child.state = 'paused';
    if (signal === 'SIGCONT') child.state = 'running';
  }

  /** Starts a stopped node again (with its existing data). */
  restart(id: string): void {
    const child = this.children.get(id);
    if (child === undefined) throw new SupervisorError('NO_SUCH_NODE', `no node ${id}`);
    if (child.process !== undefined) throw new SupervisorError('RUNNING', `node ${id} is running; kill it first`);
    child.restarts++;
    this.launch(child);
  }

  /** Stops every process: SIGTERM (after SIGCONT for a paused one), SIGKILL after a grace period. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.children.values()].map((c) => stopChild(c)));
  }

  private launch(child: Child): void {
    const dir = join(this.o.dataDir, child.id);
    mkdirSync(dir, { recursive: true });
    // with classical rotation the generator gets the rotation index first (null for the live file)
    const log = createStream((index: number | Date) => (typeof index === 'number' && index > 0 ? `node.log.${index}` : 'node.log'), { path: dir, size: this.o.logRotateSize ?? LOG_ROTATE_BYTES, rotate: LOG_KEEP_FILES });
    log.on('error', () => undefined); // a full disk must not take the supervisor down with the node
    // by default the same entry point and loader flags as this process: works from dist/ and from source (tsx)
    const command = this.o.command ?? [...process.execArgv, process.argv[1] as string];
    // a member of a cluster that already ran must find its state; only a brand-new cluster's first start may begin empty
    const initialState = this.o.newCluster && child.restarts === 0 && child.lastExit === undefined ? 'new' : 'existing';
    // node's own flags first, so that flags in `command` can override them
    const args = [...NODE_PROCESS_FLAGS, ...command, 'node', '--id', child.id, '--data-dir', dir, '--config', join(this.o.dataDir, 'cluster.json'), '--log-level', this.o.logLevel ?? 'info', '--initial-cluster-state', initialState, '--exit-with-parent', ...(this.o.nodeArgs ?? [])];
    // stdin stays open and unused: when this supervisor dies, even by SIGKILL, the node sees it close and stops
    const proc = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    proc.stdin?.on('error', () => undefined);
    proc.stdout?.pipe(log, { end: false });
    const tail = new StderrTail(STDERR_TAIL_BYTES);
    proc.stderr?.on('data', (chunk: Buffer) => {
      log.write(chunk);
      tail.push(chunk);
    });
    proc.on('exit', (code, signal) => {
      if (child.process !== proc) return;
      child.process = undefined;
      child.state = 'stopped';
      child.lastExit = { code, signal, reason: tail.reason(), at: new Date().toISOString() };
      // the log stream closes once both pipes have ended
      proc.once('close', () => log.end());
      const reason = child.lastExit.reason;
      this.o.say?.(`node ${child.id} exited (${signal ?? `code ${String(code)}`})${reason === null ? '' : `: ${reason}`}`);
      this.onChange();
    });
    child.process = proc;
    child.state = 'running';
  }
}

async function stopChild(child: Child): Promise<void> {
  const proc = child.process;
  if (proc === undefined) return;
  if (child.state === 'paused') proc.kill('SIGCONT');
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/**
 * The last lines a node wrote to stderr, to say why it exited: its final "synod: ..." line (the
 * CLI's one-line error), else the message of its last fatal or error log record.
 */
export class StderrTail {
  private text = '';

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): void {
    this.text += chunk.toString('utf8');
    if (this.text.length > this.maxBytes) this.text = this.text.slice(this.text.length - this.maxBytes);
  }

  reason(): string | null {
    const lines = this.text.split('\n').map((l) => l.trim()).filter(Boolean);
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = lines[i] as string;
      if (line.startsWith('synod: ')) return line.slice('synod: '.length);
    }
    for (let i = lines.length - 1; i >= 0; i--) {
      try {
        const record = JSON.parse(lines[i] as string) as { level?: number; msg?: string };
        if ((record.level ?? 0) >= 50 && typeof record.msg === 'string') return record.msg;
      } catch {
        // not a log record
      }
    }
    return null;
  }
}
