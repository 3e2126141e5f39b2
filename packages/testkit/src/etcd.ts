import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

export const ETCD_BINARY = '/usr/bin/etcd';
const START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 3_000;

export interface TestEtcd {
  /** Client URL, e.g. `http://127.0.0.1:40123`. */
  readonly endpoint: string;
  readonly dataDir: string;
  /** Kills etcd and removes its data dir. */
  stop(): Promise<void>;
  /** Kills etcd and starts it again on the same ports with the same data. */
  restart(): Promise<void>;
  /** Kills etcd, keeping ports and data for start() (an outage of any length). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts a killed etcd again; resolves once it is healthy. */
  start(): Promise<void>;
  readonly running: boolean;
}

// Go architecture names for the ones etcd 3.4 only runs on when told to.
const GOARCH: Partial<Record<string, string>> = {
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  s390x: 's390x',
  riscv64: 'riscv64',
  mips: 'mips',
  mipsel: 'mipsle',
  loong64: 'loong64',
};

const live = new Set<ChildProcess>();
const dirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
}

function etcdEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // etcd 3.4 refuses to start on anything but amd64 and ppc64le unless this names the arch.
  const goarch = GOARCH[process.arch];
  if (goarch && env['ETCD_UNSUPPORTED_ARCH'] === undefined) env['ETCD_UNSUPPORTED_ARCH'] = goarch;
  // the flags below are the whole configuration; stray ETCD_* settings must not leak in
  for (const key of Object.keys(env)) {
    if (key.startsWith('ETCD_') && key !== 'ETCD_UNSUPPORTED_ARCH') delete env[key];
  }
  return env;
}

async function healthy(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await res.json()) as { health?: string };
    return res.ok && body.health === 'true';
  } catch {
    return false;
  }
}

class EtcdProcess implements TestEtcd {
  readonly endpoint: string;
  readonly dataDir: string;
  private readonly peer: string;
  private child: ChildProcess | undefined;
  private stderrTail = '';

  constructor(clientPort: number, peerPort: number, dataDir: string) {
    this.endpoint = `http://127.0.0.1:${clientPort}`;
    this.peer = `http://127.0.0.1:${peerPort}`;
    this.dataDir = dataDir;
  }

  get running(): boolean {
    return (
      this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
    );
  }

  async start(): Promise<void> {
    if (this.running) return;
    const child = spawn(
      ETCD_BINARY,
      [
        '--name',
        'test',
        '--data-dir',
        join(this.dataDir, 'member-data'),
        '--listen-client-urls',
        this.endpoint,
        '--advertise-client-urls',
        this.endpoint,
        '--listen-peer-urls',
        this.peer,
        '--initial-advertise-peer-urls',
        this.peer,
        '--initial-cluster',
        `test=${this.peer}`,
        '--initial-cluster-state',
        'new',
        '--logger',
        'zap',
        '--log-outputs',
        'stderr',
        '--log-level',
        'error',
      ],
      { env: etcdEnv(), stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.child = child;
    this.stderrTail = '';
    live.add(child);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-4000);
    });
    child.once('exit', () => live.delete(child));
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `etcd exited during start (code ${child.exitCode}, signal ${child.signalCode}): ${this.stderrTail}`,
        );
      }
      if (await healthy(this.endpoint)) return;
      if (Date.now() > deadline) {
        await this.kill('SIGKILL');
        throw new Error(`etcd not healthy after ${START_TIMEOUT_MS} ms: ${this.stderrTail}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  async stop(): Promise<void> {
    await this.kill('SIGKILL');
    rmSync(this.dataDir, { recursive: true, force: true });
    dirs.delete(this.dataDir);
  }
}

/**
 * Starts /usr/bin/etcd (single member) on free loopback ports with a temporary data dir and
 * resolves once it reports healthy. It is killed, and its data dir removed, when this process
 * exits. Logs only errors (kept for the error message if it fails to start).
 */
export async function startEtcd(): Promise<TestEtcd> {
  installExitHook();
  let lastError: unknown;
  // A port found free can be taken by someone else before etcd binds it: try fresh ones.
  for (let attempt = 0; attempt < 3; attempt++) {
    const dataDir = mkdtempSync(join(tmpdir(), 'xmidt-etcd-'));
    dirs.add(dataDir);
    const clientPort = await freePort();
    let peerPort = await freePort();
    while (peerPort === clientPort) peerPort = await freePort();
    const etcd = new EtcdProcess(clientPort, peerPort, dataDir);
    try {
      await etcd.start();
      return etcd;
    } catch (err) {
      lastError = err;
      await etcd.stop();
    }
  }
  throw lastError instanceof Error ? lastError : new Error('etcd did not start');
}
