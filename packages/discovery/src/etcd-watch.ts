import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import type { Logger } from 'pino';
import { Backoff } from './backoff.js';
import { datacenterOf } from './etcd-keys.js';
import { buildInstanceSets, sameInstanceSets } from './instance-sets.js';
import { MAX_INSTANCE_LENGTH } from './normalize-instance.js';
import type { InstanceSets, Watch } from './types.js';

/** Most instances of one service kept (across datacenters); more are ignored. */
export const MAX_WATCHED_INSTANCES = 10_000;

/**
 * A service's instances in every datacenter, from etcd: one read of the prefix, then a watch
 * from the revision after it. The etcd client resumes the watch from the last revision seen
 * after a lost connection; if the watch fails for good (e.g. its revision was compacted), the
 * read is done again, retrying with backoff. Until something new is known, the last sets stay.
 */
export class EtcdWatch implements Watch {
  private readonly entries = new Map<string, { dc: string; url: string }>();
  private sets: InstanceSets = new Map();
  private reported = false;
  private watcher: Watcher | undefined;
  private closed = false;
  private down = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly backoff = new Backoff(100, 2000);
  private readonly warned = new Set<string>();

  constructor(
    private readonly client: Etcd3,
    private readonly root: string,
    private readonly service: string,
    private readonly onChange: (sets: InstanceSets) => void,
    private readonly logger: Logger | undefined,
    private readonly onClose: (w: EtcdWatch) => void,
  ) {}

  start(): void {
    void this.sync();
  }

  current(): InstanceSets {
    return this.sets;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.dropWatcher();
    this.onClose(this);
  }

  private async sync(): Promise<void> {
    if (this.closed) return;
    let revision: bigint;
    try {
      const res = await this.client.getAll().prefix(this.root).exec();
      if (this.closed) return;
      this.entries.clear();
      for (const kv of res.kvs) this.apply('Put', kv);
      revision = BigInt(res.header.revision);
    } catch (err) {
      this.failed(err, 'read');
      return;
    }
    this.recovered();
    this.publish();

    const watcher = this.client
      .watch()
      .prefix(this.root)
      .startRevision((revision + 1n).toString())
      .watcher();
    this.watcher = watcher;
    watcher.on('data', (res) => {
      if (watcher !== this.watcher) return;
      for (const ev of res.events) this.apply(ev.type, ev.kv);
      this.publish();
    });
    watcher.on('connected', () => {
      if (watcher === this.watcher) this.recovered();
    });
    watcher.on('disconnected', (err: Error) => {
      if (watcher !== this.watcher || this.down) return;
      this.down = true;
      this.logger?.warn(
        { err: err.message, service: this.service },
        'etcd: watch disconnected; keeping the last instance sets',
      );
    });
    watcher.on('error', (err: Error) => {
      if (watcher !== this.watcher) return;
      this.dropWatcher();
      this.failed(err, 'watch');
    });
  }

  private dropWatcher(): void {
    const w = this.watcher;
    this.watcher = undefined;
    if (w) w.cancel().catch(() => undefined);
  }

  private failed(err: unknown, what: string): void {
    if (this.closed) return;
    if (!this.down) {
      this.down = true;
      this.logger?.warn(
        { err: err instanceof Error ? err.message : String(err), service: this.service },
        `etcd: ${what} failed; keeping the last instance sets and retrying`,
      );
    }
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.sync();
    }, this.backoff.next());
    this.timer.unref();
  }

  private recovered(): void {
    this.backoff.reset();
    if (this.down) {
      this.down = false;
      this.logger?.info({ service: this.service }, 'etcd: watch connected again');
    }
  }

  private apply(type: string, kv: IKeyValue): void {
    const key = kv.key.toString('utf8');
    const dc = datacenterOf(this.root, key, this.service);
    if (dc === undefined) return;
    if (type === 'Delete') {
      this.entries.delete(key);
      return;
    }
    if (kv.value.length > MAX_INSTANCE_LENGTH) {
      this.warnOnce(key, 'instance value too long; ignored');
      this.entries.delete(key);
      return;
    }
    if (!this.entries.has(key) && this.entries.size >= MAX_WATCHED_INSTANCES) {
      this.warnOnce(key, `more than ${MAX_WATCHED_INSTANCES} instances; ignored`);
      return;
    }
    this.entries.set(key, { dc, url: kv.value.toString('utf8') });
  }

  private publish(): void {
    if (this.closed) return;
    const pairs: [string, string][] = [];
    for (const { dc, url } of this.entries.values()) pairs.push([dc, url]);
    const sets = buildInstanceSets(pairs, (url) => this.warnOnce(url, 'invalid instance dropped'));
    if (this.reported && sameInstanceSets(sets, this.sets)) return;
    this.sets = sets;
    this.reported = true;
    try {
      this.onChange(sets);
    } catch (err) {
      this.logger?.error({ err, service: this.service }, 'instance set listener failed');
    }
  }

  private warnOnce(what: string, message: string): void {
    if (this.warned.has(what) || this.warned.size > 1000) return;
    this.warned.add(what);
    this.logger?.warn({ service: this.service, instance: what.slice(0, 256) }, message);
  }
}
