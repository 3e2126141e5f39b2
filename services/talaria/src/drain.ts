import type { DeviceRegistry } from './device-registry.js';
import { matchesFilter } from './gate.js';
import type { TalariaMetrics } from './metrics.js';
import { TalariaError } from './errors.js';
import { formatDuration } from '@xmidt/runtime';

export interface DrainRequest {
  count?: number;
  percent?: number;
  rate?: number;
  tickMs?: number;
  filter?: { key: string; values: string[] };
}

interface DrainJob {
  count: number;
  percent?: number;
  rate?: number;
  tick?: string;
  filter?: { key: string; values: string[] };
}

interface Progress {
  visited: number;
  drained: number;
  started: string;
  finished?: string;
}

const BATCH = 1000;

/** Disconnects devices on request (reason `drained`), optionally at a rate. One job at a time. */
export class Drainer {
  private job: DrainJob | undefined;
  private progress: Progress | undefined;
  private running: Promise<void> | undefined;
  private cancelled = false;
  private wake: (() => void) | undefined;
  private total = 0;

  constructor(
    private readonly registry: DeviceRegistry,
    private readonly metrics: TalariaMetrics,
  ) {
    metrics.drainStatus.set(0);
    metrics.drainCount.set(0);
  }

  get active(): boolean {
    return this.running !== undefined;
  }

  start(req: DrainRequest): DrainJob {
    if (this.running) throw new TalariaError('drain_conflict', 'a drain job is already running');
    const size = this.registry.size;
    let count = req.count ?? 0;
    if (req.percent !== undefined && req.percent > 0)
      count = Math.floor((size * req.percent) / 100);
    else if (count <= 0) count = size;
    const job: DrainJob = { count };
    if (req.percent !== undefined && req.percent > 0) job.percent = req.percent;
    let tickMs = 0;
    if (req.rate !== undefined && req.rate > 0) {
      job.rate = req.rate;
      tickMs = req.tickMs && req.tickMs > 0 ? req.tickMs : 1000;
      job.tick = formatDuration(tickMs);
    }
    if (req.filter) job.filter = req.filter;
    this.job = job;
    this.progress = { visited: 0, drained: 0, started: new Date().toISOString() };
    this.cancelled = false;
    this.metrics.drainStatus.set(1);
    this.running = this.run(job, tickMs).finally(() => {
      if (this.progress) this.progress.finished = new Date().toISOString();
      this.running = undefined;
      this.metrics.drainStatus.set(0);
    });
    return job;
  }

  status(): {
    active: boolean;
    job: DrainJob | Record<string, never>;
    progress: Progress | Record<string, never>;
  } {
    return { active: this.active, job: this.job ?? {}, progress: this.progress ?? {} };
  }

  async cancel(): Promise<void> {
    const running = this.running;
    if (!running) throw new TalariaError('drain_not_running', 'no drain job is running');
    this.cancelled = true;
    this.wake?.();
    await running;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  private async run(job: DrainJob, tickMs: number): Promise<void> {
    const progress = this.progress as Progress;
    const filterValues = job.filter ? new Set(job.filter.values) : undefined;
    let remaining = job.count;
    const perStep = job.rate ?? BATCH;
    while (remaining > 0 && !this.cancelled) {
      let step = Math.min(perStep, remaining);
      for (const conn of this.registry.snapshot()) {
        if (step === 0 || this.cancelled) break;
        if (conn.closed || conn.closeReason) continue;
        progress.visited++;
        if (job.filter && filterValues && !matchesFilter(conn.info, job.filter.key, filterValues))
          continue;
        conn.close('drained', 1001);
        progress.drained++;
        this.total++;
        this.metrics.drainCount.set(this.total);
        remaining--;
        step--;
      }
      if (step > 0) break; // nothing left to drain
      if (remaining > 0 && !this.cancelled) {
        if (tickMs > 0) await this.sleep(tickMs);
        else await new Promise((r) => setImmediate(r));
      }
    }
  }
}
