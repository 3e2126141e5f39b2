import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository root (every process is started from there, as a user would). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Process groups started by this test process; killed when it exits, whatever happens. */
const groups = new Set<number>();
let exitHookInstalled = false;

function killAllGroups(): void {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', killAllGroups);
  // A signal ends node without 'exit': the detached groups would outlive the test.
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    process.once(signal, () => {
      killAllGroups();
      process.exit(code);
    });
  }
}

export interface ManagedProcessOptions {
  /** Arguments to `node`. */
  args: string[];
  env?: Record<string, string | undefined>;
  /** Lines of output kept for diagnostics. Default 400. */
  keepLines?: number;
  /** Called with every stdout line. */
  onStdoutLine?: (line: string) => void;
}

/**
 * A node process in its own process group, its output kept (last lines) for diagnostics.
 * `stop()` sends SIGTERM to the leader, waits, then SIGKILLs the whole group so nothing
 * it started outlives the test.
 */
export class ManagedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly lines: string[] = [];
  private readonly keepLines: number;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(options: ManagedProcessOptions) {
    installExitHook();
    this.keepLines = options.keepLines ?? 400;
    this.child = spawn(process.execPath, options.args, {
      cwd: REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const pid = this.child.pid;
    if (pid === undefined) throw new Error(`could not start node ${options.args.join(' ')}`);
    this.pid = pid;
    groups.add(pid);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
    const out = createInterface({ input: this.child.stdout! });
    out.on('line', (line) => {
      this.keep(line);
      options.onStdoutLine?.(line);
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => this.keep(line));
  }

  private keep(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.keepLines) this.lines.shift();
  }

  /** The last lines of output (stdout and stderr interleaved). */
  output(): string {
    return this.lines.join('\n');
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** SIGTERM to the leader; after `graceMs` (or once it exited) SIGKILL to the whole group. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.running) {
      try {
        process.kill(this.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.exited,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(timer);
    }
    killGroup(this.pid);
    groups.delete(this.pid);
    await this.exited;
  }
}

/** SIGKILL to a process group; silent when it is already empty. */
export function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // no process left in the group
  }
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs node with `args` to completion (killed after `timeoutMs`), collecting its output. */
export function runNode(
  args: string[],
  options: { env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<RunResult> {
  installExitHook();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const pid = child.pid;
    if (pid !== undefined) groups.add(pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => {
      if (pid !== undefined) killGroup(pid);
    }, options.timeoutMs ?? 60_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    // 'close', not 'exit': all output has been read by then.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (pid !== undefined) {
        killGroup(pid);
        groups.delete(pid);
      }
      resolve({ code, signal, stdout, stderr });
    });
  });
}
