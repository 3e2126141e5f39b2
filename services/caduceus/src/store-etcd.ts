import { Etcd3, type IKeyValue, type Watcher } from 'etcd3';
import type { Logger } from 'pino';
import { StoreError, WebhookIndex, type StoreEvent, type WebhookStore } from './store.js';
import { storedFromJson, storedToJson, type StoredWebhook } from './webhook.js';

export interface EtcdStoreOptions {
  endpoints: string[];
  /** Key prefix; records live at `<prefix>/webhooks/<id>`. */
  prefix: string;
  dialTimeoutMs?: number;
  logger?: Logger;
}

const MAX_VALUE_BYTES = 256 * 1024;

/**
 * Registrations in etcd, each under a lease of its remaining lifetime, so that etcd removes
 * expired ones. Every instance keeps a local index fed by a prefix watch (additions,
 * replacements, deletions and lease expiries of all instances); after the watch reconnects
 * the index is rebuilt from a full read.
 */
export class EtcdWebhookStore implements WebhookStore {
  private readonly client: Etcd3;
  private readonly keyPrefix: string;
  private readonly index = new WebhookIndex();
  private readonly leases = new Map<string, string>();
  private watcher: Watcher | undefined;
  private closed = false;
  private resyncing: Promise<void> | undefined;
  private needResync = false;

  constructor(private readonly opts: EtcdStoreOptions) {
    this.client = new Etcd3({
      hosts: opts.endpoints,
      dialTimeout: opts.dialTimeoutMs ?? 5000,
    });
    this.keyPrefix = `${opts.prefix.replace(/\/+$/, '')}/webhooks/`;
  }

  async start(): Promise<void> {
    const revision = await this.resync();
    const watcher = await this.client
      .watch()
      .prefix(this.keyPrefix)
      .startRevision(String(BigInt(revision) + 1n))
      .create();
    this.watcher = watcher;
    watcher.on('put', (kv) => this.onPut(kv));
    watcher.on('delete', (kv) => this.onDelete(kv));
    watcher.on('disconnected', () => {
      this.needResync = true;
      this.opts.logger?.warn('etcd webhook watch disconnected');
    });
    watcher.on('connected', () => {
      if (!this.needResync) return;
      this.needResync = false;
      this.opts.logger?.info('etcd webhook watch reconnected; resynchronising');
      void this.resync().catch((err: unknown) => {
        this.needResync = true;
        this.opts.logger?.error({ err }, 'etcd webhook resync failed');
      });
    });
    watcher.on('error', (err) => this.opts.logger?.warn({ err }, 'etcd webhook watch error'));
  }

  /** Reads every record and makes the index equal to it; returns the read's revision. */
  private async resync(): Promise<string> {
    if (this.resyncing) await this.resyncing.catch(() => {});
    let revision = '0';
    const run = (async () => {
      let res;
      try {
        res = await this.client.getAll().prefix(this.keyPrefix).exec();
      } catch (err) {
        throw new StoreError('store_unavailable', 'etcd is unavailable', { cause: err });
      }
      revision = res.header.revision;
      const seen = new Set<string>();
      for (const kv of res.kvs) {
        const s = this.decode(kv);
        if (!s) continue;
        seen.add(s.id);
        this.leases.set(s.id, kv.lease);
        const cur = this.index.get(s.id);
        if (!cur || JSON.stringify(storedToJson(cur)) !== JSON.stringify(storedToJson(s))) {
          this.index.set(s);
        }
      }
      for (const id of this.index.ids()) if (!seen.has(id)) this.index.remove(id);
    })();
    this.resyncing = run;
    await run;
    return revision;
  }

  private decode(kv: IKeyValue): StoredWebhook | undefined {
    try {
      if (kv.value.length > MAX_VALUE_BYTES) throw new Error('value too large');
      const s = storedFromJson(JSON.parse(kv.value.toString('utf8')));
      const keyId = kv.key.toString('utf8').slice(this.keyPrefix.length);
      if (keyId !== s.id) throw new Error('key does not match the URL');
      return s.webhook.untilMs > Date.now() ? s : undefined;
    } catch (err) {
      this.opts.logger?.warn({ err, key: kv.key.toString('utf8') }, 'ignoring unreadable webhook');
      return undefined;
    }
  }

  private onPut(kv: IKeyValue): void {
    const s = this.decode(kv);
    if (s) {
      this.leases.set(s.id, kv.lease);
      this.index.set(s);
    }
  }

  private onDelete(kv: IKeyValue): void {
    const id = kv.key.toString('utf8').slice(this.keyPrefix.length);
    this.leases.delete(id);
    this.index.remove(id);
  }

  get(id: string): StoredWebhook | undefined {
    return this.index.get(id);
  }
  list(): StoredWebhook[] {
    return this.index.list();
  }
  size(): number {
    return this.index.size();
  }

  async put(webhook: StoredWebhook): Promise<void> {
    const ttl = Math.max(1, Math.ceil((webhook.webhook.untilMs - Date.now()) / 1000));
    const old = this.leases.get(webhook.id);
    try {
      const lease = this.client.lease(ttl, { autoKeepAlive: false });
      const leaseId = await lease.grant();
      lease.release();
      await this.client
        .put(this.keyPrefix + webhook.id)
        .value(JSON.stringify(storedToJson(webhook)))
        .lease(leaseId)
        .exec();
      this.leases.set(webhook.id, leaseId);
    } catch (err) {
      throw new StoreError('store_unavailable', 'cannot write to etcd', { cause: err });
    }
    // Seen locally at once; the watch delivers the same record again (idempotent).
    this.index.set(webhook);
    if (old && old !== '0') {
      void this.client.leaseClient.leaseRevoke({ ID: old }).catch(() => {});
    }
  }

  async delete(id: string): Promise<boolean> {
    let deleted: number;
    try {
      const res = await this.client
        .delete()
        .key(this.keyPrefix + id)
        .exec();
      deleted = Number(res.deleted);
    } catch (err) {
      throw new StoreError('store_unavailable', 'cannot delete from etcd', { cause: err });
    }
    const local = this.index.remove(id);
    return deleted > 0 || local;
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    return this.index.subscribe(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.index.close();
    await this.watcher?.cancel().catch(() => {});
    this.client.close();
  }
}
