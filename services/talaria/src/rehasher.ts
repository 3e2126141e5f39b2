import type { Logger } from 'pino';
import type { HashRing } from '@xmidt/hashring';
import type { DeviceConnection } from './device-connection.js';
import type { DeviceRegistry } from './device-registry.js';
import type { TalariaMetrics } from './metrics.js';

export interface RehasherOptions {
  service: string;
  /** Disconnects per second; 0 means no limit. */
  rate: number;
  selfUrl: string;
}

const STEP_MS = 100;

/**
 * On a change of the instance set, disconnects the devices that now hash to another instance
 * (reason `rehash-other-instance`), at a bounded rate. An empty set disconnects every device
 * (`service-discovery-no-instances`). The first (initial) set is only recorded.
 */
export class Rehasher {
  private lastKey: string | undefined;
  private generation = 0;
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly registry: DeviceRegistry,
    private readonly metrics: TalariaMetrics,
    private readonly logger: Logger,
    private readonly opts: RehasherOptions,
  ) {}

  /** Call with this datacenter's ring after every discovery update. */
  update(ring: HashRing | undefined): void {
    const instances = ring ? [...ring.instances].sort() : [];
    const key = instances.join(' ');
    const first = this.lastKey === undefined;
    if (key === this.lastKey) return;
    this.lastKey = key;
    if (first) return;
    const gen = ++this.generation;
    this.wake?.();
    const started = Date.now();
    const labels = { service: this.opts.service };
    let victims: DeviceConnection[];
    let reason: string;
    if (!ring || instances.length === 0) {
      reason = 'service-discovery-no-instances';
      this.metrics.rehashDisconnectAll.inc({ ...labels, reason: 'sd_no_instances' });
      victims = this.registry.snapshot();
      this.metrics.rehashKeep.set(labels, 0);
    } else {
      reason = 'rehash-other-instance';
      victims = [];
      let keep = 0;
      for (const conn of this.registry.values()) {
        if (ring.get(conn.id) === this.opts.selfUrl) keep++;
        else victims.push(conn);
      }
      this.metrics.rehashKeep.set(labels, keep);
    }
    this.metrics.rehashDisconnect.set(labels, victims.length);
    this.metrics.rehashTimestamp.set(labels, Math.floor(started / 1000));
    this.logger.info(
      { instances, disconnect: victims.length, reason },
      'instance set changed, rehashing devices',
    );
    this.running = this.disconnect(victims, reason, gen, ring).finally(() => {
      this.metrics.rehashDurationMs.set(labels, Date.now() - started);
    });
  }

  private async disconnect(
    victims: DeviceConnection[],
    reason: string,
    gen: number,
    ring: HashRing | undefined,
  ): Promise<void> {
    const perStep =
      this.opts.rate > 0 ? Math.max(1, Math.round((this.opts.rate * STEP_MS) / 1000)) : Infinity;
    let i = 0;
    while (i < victims.length && gen === this.generation) {
      const end = Math.min(victims.length, i + perStep);
      for (; i < end; i++) {
        const conn = victims[i] as DeviceConnection;
        // the device may have gone, or reconnected here after the ring changed back
        if (conn.closed || this.registry.get(conn.id) !== conn) continue;
        if (ring && ring.instances.length > 0 && ring.get(conn.id) === this.opts.selfUrl) continue;
        conn.close(reason, 1001);
      }
      if (i < victims.length) await this.sleep(STEP_MS);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(this.timer);
        this.wake = undefined;
        resolve();
      };
      this.timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  async stop(): Promise<void> {
    this.generation++;
    this.wake?.();
    await this.running;
  }
}
