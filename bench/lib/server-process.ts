// A measured server in its own process (Talaria or the bare ws server), started through tsx with
// the memory probe preloaded and an IPC channel to ask it for memory figures.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { MemReport } from './mem-probe.js';
import { pidCpuMs } from './cpu-meter.js';
import { vmRss } from './proc-rss.js';

const PROBE = new URL('./mem-probe.ts', import.meta.url).href;
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Memory {
  /** VmRSS from /proc/<pid>/status, after a full GC in the process. */
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  /** Resident size of the V8 heap (all spaces, used or not). */
  heapPhysical: number;
  spaces: Record<string, number>;
}

/** Extra node flags for every measured server, e.g. BENCH_NODE_FLAGS='--max-semi-space-size=1'. */
const nodeFlags = (process.env['BENCH_NODE_FLAGS'] ?? '').split(' ').filter((f) => f !== '');

export class ServerProcess {
  private readonly exited: Promise<void>;

  private constructor(
    readonly child: ChildProcess,
    /** The first stdout line that matched the start predicate, parsed. */
    readonly started: Record<string, unknown>,
  ) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /**
   * Starts `node --expose-gc --import tsx --import mem-probe <script> ...args` and waits for a
   * JSON stdout line for which `isStarted` is true. Later stdout lines at level warn or above
   * (pino JSON) are echoed to stderr; the rest is discarded.
   */
  static async start(
    script: string,
    args: string[],
    isStarted: (line: Record<string, unknown>) => boolean,
    timeoutMs = 30_000,
    extraNodeArgs: string[] = [],
  ): Promise<ServerProcess> {
    const child = spawn(
      process.execPath,
      [
        ...nodeFlags,
        ...extraNodeArgs,
        '--expose-gc',
        '--import',
        'tsx',
        '--import',
        PROBE,
        script,
        ...args,
      ],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
    );
    const started = await new Promise<Record<string, unknown>>((resolve, reject) => {
      let buf = '';
      let found = false;
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${script} did not start within ${timeoutMs} ms`));
      }, timeoutMs);
      child.stdout?.on('data', (d: Buffer) => {
        buf += d.toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          let parsed: Record<string, unknown> | undefined;
          try {
            parsed = JSON.parse(line) as Record<string, unknown>;
          } catch {
            parsed = undefined;
          }
          if (!found && parsed && isStarted(parsed)) {
            found = true;
            clearTimeout(timer);
            resolve(parsed);
          } else if (parsed && typeof parsed['level'] === 'number' && parsed['level'] >= 40) {
            process.stderr.write(`[server] ${line}\n`);
          }
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        if (!found) reject(new Error(`${script} exited with ${code} before starting`));
      });
    });
    return new ServerProcess(child, started);
  }

  /** RSS from /proc (after a GC) and the heap figures from the probe. */
  async memory(): Promise<Memory> {
    const report = await new Promise<MemReport>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('memory probe: no answer')), 30_000);
      const onMessage = (raw: unknown): void => {
        const r = raw as { type?: string };
        if (r.type !== 'mem') return;
        clearTimeout(timer);
        this.child.off('message', onMessage);
        resolve(raw as MemReport);
      };
      this.child.on('message', onMessage);
      this.child.send({ type: 'mem' });
    });
    return {
      rss: vmRss(this.pid),
      heapUsed: report.heapUsed,
      external: report.external,
      arrayBuffers: report.arrayBuffers,
      heapPhysical: report.heapPhysical,
      spaces: report.spaces,
    };
  }

  /**
   * Memory once RSS has settled. V8's memory reducer hands heap pages back to the system in
   * steps, seconds apart, after a burst of work (up to three rounds about 8 s apart), so this
   * reads memory (after a GC) every `stepMs` until the readings of the last `stableMs` agree
   * within `toleranceBytes` (and at least `minMs` has passed), or `maxMs` has passed. Returns the
   * last reading and the RSS series.
   */
  async settledMemory(
    maxMs: number,
    opts: { stepMs?: number; stableMs?: number; toleranceBytes?: number; minMs?: number } = {},
  ): Promise<Memory & { series: number[] }> {
    const stepMs = opts.stepMs ?? 2000;
    const window = Math.ceil((opts.stableMs ?? 10_000) / stepMs) + 1;
    const tolerance = opts.toleranceBytes ?? 512 * 1024;
    const started = performance.now();
    const deadline = started + Math.max(maxMs, opts.minMs ?? 0);
    const readings: Memory[] = [await this.memory()];
    while (performance.now() < deadline) {
      const last = readings.slice(-window).map((m) => m.rss);
      const stable = last.length === window && Math.max(...last) - Math.min(...last) <= tolerance;
      if (stable && performance.now() - started >= (opts.minMs ?? 0)) break;
      await new Promise((r) => setTimeout(r, stepMs));
      readings.push(await this.memory());
    }
    return { ...(readings[readings.length - 1] as Memory), series: readings.map((m) => m.rss) };
  }

  /** CPU time (user + system) the process has used so far, in ms. */
  cpuMs(): number {
    return pidCpuMs(this.pid)();
  }

  /** Current VmRSS without a GC. */
  rssNow(): number {
    try {
      return vmRss(this.pid);
    } catch {
      return 0;
    }
  }

  /** Writes a heap snapshot inside the process; resolves with its file name. */
  async heapSnapshot(file: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('heap snapshot: no answer')), 300_000);
      const onMessage = (raw: unknown): void => {
        const r = raw as { type?: string; file?: string };
        if (r.type !== 'snapshot') return;
        clearTimeout(timer);
        this.child.off('message', onMessage);
        resolve(r.file ?? file);
      };
      this.child.on('message', onMessage);
      this.child.send({ type: 'snapshot', file });
    });
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** A currently free TCP port on `host` (for configs that must name their own URL). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
