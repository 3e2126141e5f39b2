import type { Etcd3, Lease } from 'etcd3';
import type { Logger } from 'pino';
import { Backoff } from './backoff.js';
import type { Registration } from './types.js';

/**
 * One instance advertised in etcd: `key = url` under a lease of `ttlSeconds` kept alive by the
 * client. When the lease is lost (etcd unreachable for longer than the lease lived, or the lease
 * revoked or expired) the key is written again under a new lease, retrying with backoff.
 */
export class EtcdRegistration implements Registration {
  private lease: Lease | undefined;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly backoff = new Backoff(100, 2000);

  constructor(
    private readonly client: Etcd3,
    readonly key: string,
    readonly url: string,
    private readonly ttlSeconds: number,
    private readonly logger: Logger | undefined,
    private readonly onDone: (r: EtcdRegistration) => void,
  ) {}

  /** The first write; rejects when etcd cannot be reached (nothing is retried then). */
  async start(): Promise<void> {
    await this.attach();
  }

  async deregister(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const lease = this.lease;
    this.lease = undefined;
    this.onDone(this);
    if (!lease) return;
    try {
      await lease.revoke(); // removes the key with it
    } catch (err) {
      lease.release(); // etcd unreachable: stop the keep-alive and let the lease run out
      this.logger?.warn({ err, key: this.key }, 'etcd: lease revoke failed; it will expire');
    }
  }

  private async attach(): Promise<void> {
    const lease = this.client.lease(this.ttlSeconds);
    lease.on('lost', (err) => this.onLost(lease, err));
    try {
      await lease.put(this.key).value(this.url).exec();
      if (lease.revoked()) throw new Error('lease lost while registering');
    } catch (err) {
      lease.release();
      throw err;
    }
    if (this.closed) {
      await lease.revoke().catch(() => lease.release());
      return;
    }
    this.lease = lease;
  }

  private onLost(lease: Lease, err: Error): void {
    if (this.closed || lease !== this.lease) return;
    this.lease = undefined;
    this.logger?.warn({ err, key: this.key }, 'etcd: registration lease lost; registering again');
    this.retry();
  }

  private retry(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.attach().then(
        () => {
          this.backoff.reset();
          if (!this.closed) this.logger?.info({ key: this.key }, 'etcd: registered again');
        },
        (err: unknown) => {
          this.logger?.debug({ err, key: this.key }, 'etcd: registration attempt failed');
          this.retry();
        },
      );
    }, this.backoff.next());
    this.timer.unref();
  }
}
