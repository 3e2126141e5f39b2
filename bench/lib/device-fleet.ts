// Driver side of the simulated devices: forks worker processes (bench/lib/device-worker.ts),
// splits the devices between them, starts every connection at once and gathers the counts.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FleetTarget, WorkerReply, WorkerRequest } from './fleet-protocol.js';
import { pidCpuMs } from './cpu-meter.js';

const WORKER = fileURLToPath(new URL('./device-worker.ts', import.meta.url));

export interface StormResult {
  /** From the go signal until every worker has all its devices connected or given up. */
  ms: number;
  open: number;
  failed: number;
  retries: number;
  /** Connect time of each opened device (ms from its worker's connect order), sorted. */
  times: number[];
  /** The first failure reported by a worker. */
  error?: string;
  /** Failed attempts by `<server>: <reason>` (e.g. `talaria: HTTP 503`, `petasos: ECONNRESET`). */
  reasons: Record<string, number>;
  /** Sum over devices of the time spent waiting before a retry. */
  backoffMs: number;
}

export interface FleetStatus {
  open: number;
  failed: number;
  dropped: number;
  echoed: number;
}

type Reply<T extends WorkerReply['type']> = Extract<WorkerReply, { type: T }>;

class Worker {
  private readonly waiters = new Map<string, (r: WorkerReply) => void>();
  readonly exited: Promise<void>;

  constructor(readonly child: ChildProcess) {
    child.on('message', (raw: unknown) => {
      const r = raw as WorkerReply;
      const w = this.waiters.get(r.type);
      if (w) {
        this.waiters.delete(r.type);
        w(r);
      }
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  next<T extends WorkerReply['type']>(type: T, timeoutMs: number): Promise<Reply<T>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`device worker: no '${type}' within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.set(type, (r) => {
        clearTimeout(timer);
        resolve(r as Reply<T>);
      });
      void this.exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`device worker exited while waiting for '${type}'`));
      });
    });
  }

  send(req: WorkerRequest): void {
    if (this.child.connected) this.child.send(req);
  }
}

export class DeviceFleet {
  private constructor(private readonly workers: Worker[]) {}

  /** Forks `n` worker processes and waits until they are ready. */
  static async start(n: number, execArgv: string[] = []): Promise<DeviceFleet> {
    const workers = Array.from(
      { length: n },
      () =>
        new Worker(
          fork(WORKER, [], {
            execArgv: [...execArgv, '--import', 'tsx'],
            stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
          }),
        ),
    );
    await Promise.all(workers.map((w) => w.next('ready', 30_000)));
    return new DeviceFleet(workers);
  }

  /** CPU time (user + system) all device processes have used so far, in ms. */
  cpuMs(): number {
    return this.workers.reduce((sum, w) => sum + pidCpuMs(w.child.pid)(), 0);
  }

  get size(): number {
    return this.workers.length;
  }

  /** Splits `count` devices from `first` over the workers: [firstId, count] per worker. */
  private shares(first: number, count: number): Array<[number, number]> {
    const n = this.workers.length;
    let offset = 0;
    return this.workers.map((_, i) => {
      const share = Math.floor(count / n) + (i < count % n ? 1 : 0);
      const r: [number, number] = [first + offset, share];
      offset += share;
      return r;
    });
  }

  /** Has every worker fetch a Themis JWT for each of its devices; resolves with the counts. */
  async tokens(
    url: string,
    count: number,
    opts: { firstId?: number; concurrency?: number } = {},
  ): Promise<{ count: number; failed: number; ms: number }> {
    const replies = this.workers.map((w) => w.next('tokens', 600_000));
    const started = performance.now();
    const shares = this.shares(opts.firstId ?? 1, count);
    this.workers.forEach((w, i) => {
      const [firstId, share] = shares[i] as [number, number];
      w.send({ type: 'tokens', url, firstId, count: share, concurrency: opts.concurrency ?? 8 });
    });
    const all = await Promise.all(replies);
    return {
      count: sum(all.map((r) => r.count)),
      failed: sum(all.map((r) => r.failed)),
      ms: performance.now() - started,
    };
  }

  /**
   * Opens `count` devices (ids `firstId`…) spread over the workers, all at once. A plain URL
   * means websocket devices echoing WRP transactions.
   */
  async connect(
    to: string | FleetTarget,
    count: number,
    opts: { firstId?: number; maxRetries?: number; timeoutMs?: number } = {},
  ): Promise<StormResult> {
    const target: FleetTarget = typeof to === 'string' ? { kind: 'ws', url: to, echo: 'wrp' } : to;
    const replies = this.workers.map((w) => w.next('connected', opts.timeoutMs ?? 300_000));
    const started = performance.now();
    const shares = this.shares(opts.firstId ?? 1, count);
    this.workers.forEach((w, i) => {
      const [firstId, share] = shares[i] as [number, number];
      w.send({ type: 'connect', target, firstId, count: share, maxRetries: opts.maxRetries ?? 5 });
    });
    const all = await Promise.all(replies);
    const ms = performance.now() - started;
    return {
      ms,
      open: sum(all.map((r) => r.open)),
      failed: sum(all.map((r) => r.failed)),
      retries: sum(all.map((r) => r.retries)),
      times: all.flatMap((r) => r.times).sort((a, b) => a - b),
      reasons: mergeCounts(all.map((r) => r.reasons)),
      backoffMs: sum(all.map((r) => r.backoffMs)),
      ...(all.find((r) => r.error) ? { error: all.find((r) => r.error)?.error } : {}),
    };
  }

  async status(): Promise<FleetStatus> {
    const replies = this.workers.map((w) => w.next('status', 30_000));
    for (const w of this.workers) w.send({ type: 'status' });
    const all = await Promise.all(replies);
    return {
      open: sum(all.map((r) => r.open)),
      failed: sum(all.map((r) => r.failed)),
      dropped: sum(all.map((r) => r.dropped)),
      echoed: sum(all.map((r) => r.echoed)),
    };
  }

  /** Drops every connection; the workers stay for another round. */
  async disconnectAll(): Promise<void> {
    const replies = this.workers.map((w) => w.next('disconnected', 30_000));
    for (const w of this.workers) w.send({ type: 'disconnect' });
    await Promise.all(replies);
  }

  /** Drops every connection and ends the workers. */
  async close(): Promise<void> {
    for (const w of this.workers) w.send({ type: 'close' });
    const deadline = new Promise((r) => setTimeout(r, 10_000).unref());
    await Promise.race([Promise.all(this.workers.map((w) => w.exited)), deadline]);
    this.kill();
  }

  /** Kills whatever is still running (cleanup on errors). */
  kill(): void {
    for (const w of this.workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  }
}

function mergeCounts(list: Array<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const counts of list)
    for (const [k, v] of Object.entries(counts)) out[k] = (out[k] ?? 0) + v;
  return out;
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
