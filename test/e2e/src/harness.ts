import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive, ManagedProcess, REPO_ROOT, runNode, type RunResult } from './processes.js';

/** The `xmidt` command, run through node as a user runs it. */
export const XMIDT_BIN = join(REPO_ROOT, 'tools/xmidt/bin/xmidt.mjs');

/** One running service instance, as the CLI writes it to `<data-dir>/system.json`. */
export interface ServiceInstance {
  /** Primary listener, `http://127.0.0.1:PORT`. */
  url: string;
  /** Admin listener (health, ready, metrics). */
  admin: string;
  pid: number;
  /** The config file the instance was started with. */
  config: string;
  /** Themis only: the issuer listener. */
  issuer?: string;
}

export interface SystemJson {
  /** `user:pass` accepted by the APIs (Scytale, Caduceus). */
  apiAuth: string;
  services: Record<string, ServiceInstance[]>;
  /** Cluster mode: the etcd the services use. */
  etcd?: { url: string; pid: number; dataDir?: string };
}

export type SystemMode = 'start' | 'cluster';

export interface StartSystemOptions {
  /** `start` (one of each service) or `cluster` (3 Talaria, 2 Caduceus on etcd). */
  mode?: SystemMode;
  /** Pass `--no-restart`: a killed service stays dead. Default false. */
  noRestart?: boolean;
  /** How long to wait for `xmidt ready`. Default 90 s (cluster) / 60 s. */
  readyTimeoutMs?: number;
  /** API credentials (`XMIDT_API_AUTH`). Default a random user and password. */
  apiAuth?: string;
  /** Extra environment for the CLI and so every service (`<SERVICE>_<KEY>` overrides). */
  env?: Record<string, string>;
}

/** Default primary ports; every port of a system is one of these (or near) plus the offset. */
export const DEFAULT_PORTS = {
  caduceus: 6000,
  talaria: 6200,
  scytale: 6300,
  petasos: 6400,
  themis: 6500,
} as const;

/** The services' ports (instances of a cluster are 10 apart) and etcd's (cluster mode). */
const PORT_SPANS: ReadonlyArray<readonly [number, number]> = [
  [6000, 6600],
  [2379, 2380],
];

function portFree(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '0.0.0.0', exclusive: true }, () =>
      server.close(() => resolve(true)),
    );
  });
}

/**
 * True when every port of the spans + offset can be bound on all interfaces right now
 * (a port bound on 127.0.0.1 by someone else also fails here).
 */
async function portsFree(offset: number): Promise<boolean> {
  for (const [first, last] of PORT_SPANS) {
    for (let port = first + offset; port <= last + offset; port++) {
      if (!(await portFree(port))) return false;
    }
  }
  return true;
}

/**
 * A port offset whose ports are free: below the ephemeral range (32768+) so that outgoing
 * connections cannot take them, in steps of 1000 plus a random part.
 */
export async function pickPortOffset(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const offset =
      1000 + Math.floor(Math.random() * 24) * 1000 + Math.floor(Math.random() * 10) * 10;
    if (await portsFree(offset)) return offset;
  }
  throw new Error('no free port range for an xmidt system');
}

// ---- one system at a time, across the test files the runner executes in parallel ----

const LOCK_PATH = join(tmpdir(), 'xmidt-e2e-system.lock');
let lockDepth = 0;

/**
 * Waits until no other test process runs an xmidt system (the machine has two cores; two
 * systems at once make every timing bound meaningless). A lock left by a dead process is taken
 * over.
 */
async function acquireSystemLock(timeoutMs = 300_000): Promise<void> {
  if (lockDepth > 0) {
    lockDepth++;
    return;
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(LOCK_PATH, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      lockDepth = 1;
      process.once('exit', releaseLockFile);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let owner = NaN;
    try {
      owner = Number(readFileSync(LOCK_PATH, 'utf8'));
    } catch {
      continue; // removed meanwhile
    }
    if (!Number.isInteger(owner) || owner <= 0 || !alive(owner)) {
      try {
        unlinkSync(LOCK_PATH);
      } catch {
        // someone else took it over first
      }
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(`another e2e system (pid ${owner}) holds ${LOCK_PATH}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function releaseLockFile(): void {
  try {
    if (readFileSync(LOCK_PATH, 'utf8') === String(process.pid)) unlinkSync(LOCK_PATH);
  } catch {
    // not ours or gone
  }
}

function releaseSystemLock(): void {
  if (lockDepth === 0) return;
  lockDepth--;
  if (lockDepth === 0) releaseLockFile();
}

// ---- the system ----

/** A whole XMiDT system started by the `xmidt` command in a temporary data directory. */
export class XmidtSystem {
  constructor(
    readonly mode: SystemMode,
    readonly dataDir: string,
    readonly portOffset: number,
    readonly cli: ManagedProcess,
    readonly info: SystemJson,
  ) {}

  get apiAuth(): string {
    return this.info.apiAuth;
  }

  /** `Basic <base64(apiAuth)>`. */
  get authorization(): string {
    return `Basic ${Buffer.from(this.info.apiAuth, 'utf8').toString('base64')}`;
  }

  /** Every instance of a service (throws when the CLI listed none). */
  instances(name: string): ServiceInstance[] {
    const list = this.info.services[name];
    if (list === undefined || list.length === 0) {
      throw new Error(`system.json lists no ${name}: ${JSON.stringify(this.info)}`);
    }
    return list;
  }

  instance(name: string, index = 0): ServiceInstance {
    const entry = this.instances(name)[index];
    if (entry === undefined) throw new Error(`system.json has no ${name}[${index}]`);
    return entry;
  }

  /** The CLI's output so far (its children's lines are prefixed with their name). */
  output(): string {
    return this.cli.output();
  }

  /** Environment for `xmidt` subcommands run against this system. */
  get cliEnv(): Record<string, string> {
    return { XMIDT_API_AUTH: this.info.apiAuth };
  }

  /** Stops the CLI (SIGTERM, which stops every service), kills what is left, removes the data. */
  async stop(): Promise<void> {
    try {
      await this.cli.stop(20_000);
      for (const list of Object.values(this.info.services)) {
        for (const entry of list) {
          // a service that outlived its supervisor (it is in the same process group, so the
          // group kill got it; this only reports it)
          if (alive(entry.pid)) process.kill(entry.pid, 'SIGKILL');
        }
      }
      rmSync(this.dataDir, { recursive: true, force: true });
    } finally {
      releaseSystemLock();
    }
  }
}

function readSystemJson(dataDir: string): SystemJson {
  const text = readFileSync(join(dataDir, 'system.json'), 'utf8');
  const parsed = JSON.parse(text) as SystemJson;
  if (typeof parsed.apiAuth !== 'string' || typeof parsed.services !== 'object') {
    throw new Error(`system.json does not have apiAuth and services: ${text}`);
  }
  return parsed;
}

function randomCredentials(): string {
  const word = (): string => Math.random().toString(36).slice(2, 10);
  return `e2e-${word()}:${word()}${word()}`;
}

async function startOnce(mode: SystemMode, options: StartSystemOptions): Promise<XmidtSystem> {
  const dataDir = mkdtempSync(join(tmpdir(), `xmidt-e2e-${mode}-`));
  const portOffset = await pickPortOffset();
  const args = [XMIDT_BIN, mode, '--data-dir', dataDir, '--port-offset', String(portOffset)];
  if (options.noRestart === true) args.push('--no-restart');
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  const proc = new ManagedProcess({
    args,
    env: { ...options.env, XMIDT_API_AUTH: options.apiAuth ?? randomCredentials() },
    onStdoutLine: (line) => {
      if (line.trim() === 'xmidt ready') onReady();
    },
  });
  const timeoutMs = options.readyTimeoutMs ?? (mode === 'cluster' ? 90_000 : 60_000);
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    ready.then(() => 'ready' as const),
    proc.exited.then(() => 'exited' as const),
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (outcome !== 'ready') {
    await proc.stop(2000);
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(
      `xmidt ${mode} ${outcome === 'exited' ? 'exited' : `was not ready within ${timeoutMs} ms`} (port offset ${portOffset}); output:\n${proc.output()}`,
    );
  }
  try {
    return new XmidtSystem(mode, dataDir, portOffset, proc, readSystemJson(dataDir));
  } catch (err) {
    await proc.stop(2000);
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Starts `xmidt start|cluster` with a random port offset in a temporary data directory and
 * resolves once it printed `xmidt ready`. Only one system runs at a time on the machine (a
 * lock shared by the test processes); a start that fails is tried once more on other ports.
 * Always `stop()` the result (in `after`/`finally`).
 */
export async function startSystem(options: StartSystemOptions = {}): Promise<XmidtSystem> {
  const mode = options.mode ?? 'start';
  await acquireSystemLock();
  try {
    try {
      return await startOnce(mode, options);
    } catch (first) {
      process.stderr.write(`e2e: first start failed, trying other ports: ${String(first)}\n`);
      return await startOnce(mode, options);
    }
  } catch (err) {
    releaseSystemLock();
    throw err;
  }
}

/** Runs `xmidt <args>` to completion. */
export function runXmidt(
  args: string[],
  options: { env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<RunResult> {
  return runNode([XMIDT_BIN, ...args], options);
}

/** Starts a long-running `xmidt <args>` (e.g. `simulate`); stop it with `.stop()`. */
export function spawnXmidt(
  args: string[],
  options: { env?: Record<string, string | undefined> } = {},
): ManagedProcess {
  return new ManagedProcess({
    args: [XMIDT_BIN, ...args],
    ...(options.env ? { env: options.env } : {}),
  });
}
