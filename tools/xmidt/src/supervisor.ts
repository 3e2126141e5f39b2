import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ChildSpec {
  /** Name used to prefix the child's output and in messages. */
  name: string;
  /** Arguments to `command` (for node: `--import tsx path/to/main.ts --config file`). */
  args: string[];
  /** Program to run; default: this Node.js binary. */
  command?: string;
  /** Replaces the inherited environment when given (else the parent's plus `env`). */
  cleanEnv?: Record<string, string>;
  env?: Record<string, string>;
}

interface Supervised {
  spec: ChildSpec;
  child: ChildProcess | undefined;
  restarts: number;
  timer: NodeJS.Timeout | undefined;
  /** Stopped on purpose: not restarted. */
  stopped: boolean;
}

export interface SupervisorOptions {
  /** Where child output goes, one prefixed line at a time. */
  write?: (line: string) => void;
  /** Longest wait between restarts of a crashed child. */
  maxRestartDelayMs?: number;
  /** How long children get to stop after SIGTERM before SIGKILL. */
  stopTimeoutMs?: number;
  /** Restart a child that exits while running (default true). */
  restart?: boolean;
}

/**
 * Runs services as child processes: prefixes their output, restarts a child that exits
 * while the supervisor is running (with a capped, doubling delay), and stops them all
 * with SIGTERM, then SIGKILL after a deadline.
 */
export class Supervisor {
  readonly #children = new Map<string, Supervised>();
  readonly #write: (line: string) => void;
  readonly #maxRestartDelayMs: number;
  readonly #stopTimeoutMs: number;
  readonly #restart: boolean;
  #stopping = false;

  constructor(options: SupervisorOptions = {}) {
    this.#write = options.write ?? ((line) => process.stdout.write(`${line}\n`));
    this.#maxRestartDelayMs = options.maxRestartDelayMs ?? 30_000;
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 15_000;
    this.#restart = options.restart ?? true;
  }

  add(spec: ChildSpec): void {
    if (this.#children.has(spec.name)) throw new Error(`duplicate child name ${spec.name}`);
    const entry: Supervised = {
      spec,
      child: undefined,
      restarts: 0,
      timer: undefined,
      stopped: false,
    };
    this.#children.set(spec.name, entry);
    this.#launch(entry);
  }

  /** The pid of a running child, if any. */
  pid(name: string): number | undefined {
    return this.#children.get(name)?.child?.pid;
  }

  /** Names of the children, in the order they were added. */
  names(): string[] {
    return [...this.#children.keys()];
  }

  /** Whether a child is running now. */
  running(name: string): boolean {
    const child = this.#children.get(name)?.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  #launch(entry: Supervised): void {
    const { spec } = entry;
    const child = spawn(spec.command ?? process.execPath, spec.args, {
      env: spec.cleanEnv ?? { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // A program that cannot be started at all is reported like a crash.
    child.on('error', (err) => this.#write(`${spec.name.padEnd(10)}| cannot run: ${err.message}`));
    entry.child = child;
    const pad = spec.name.padEnd(10);
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => this.#write(`${pad}| ${line}`));
    }
    child.on('exit', (code, signal) => {
      entry.child = undefined;
      if (this.#stopping || entry.stopped) return;
      if (!this.#restart) {
        this.#write(`${pad}| exited (${signal ?? `code ${code ?? 0}`}); not restarted`);
        return;
      }
      const delay = Math.min(this.#maxRestartDelayMs, 500 * 2 ** Math.min(entry.restarts, 10));
      entry.restarts += 1;
      this.#write(
        `${pad}| exited (${signal ?? `code ${code ?? 0}`}); restarting in ${Math.round(delay / 100) / 10}s`,
      );
      entry.timer = setTimeout(() => {
        entry.timer = undefined;
        if (!this.#stopping && !entry.stopped) this.#launch(entry);
      }, delay);
    });
  }

  /**
   * Stops the named children (default: all, after which nothing is restarted any more) at
   * once with SIGTERM, SIGKILL after the deadline; resolves when they have exited.
   */
  async stop(names?: readonly string[]): Promise<void> {
    if (names === undefined) this.#stopping = true;
    const entries = [...this.#children.values()].filter(
      (e) => names === undefined || names.includes(e.spec.name),
    );
    await Promise.all(
      entries.map(async (entry) => {
        entry.stopped = true;
        if (entry.timer !== undefined) clearTimeout(entry.timer);
        const child = entry.child;
        if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), this.#stopTimeoutMs);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}
