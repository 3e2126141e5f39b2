import { open, readFile, rename, mkdir, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import type { Logger } from 'pino';
import { StoreError, WebhookIndex, type StoreEvent, type WebhookStore } from './store.js';
import { storedFromJson, storedToJson, type StoredWebhook } from './webhook.js';

const FORMAT = 'caduceus-webhooks/1';

/**
 * The embedded default: registrations in memory, persisted to one JSON file after every change
 * with an atomic replace (write a temp file, fsync it, rename over the old one, fsync the
 * directory), so a restart or a `kill -9` finds either the old or the new set, never half.
 */
export class FileWebhookStore implements WebhookStore {
  private readonly index: WebhookIndex;
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;
  private seq = 0;

  constructor(
    private readonly path: string,
    private readonly logger?: Logger,
  ) {
    this.index = new WebhookIndex(() => void this.persist().catch(() => {}));
  }

  async start(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new StoreError('store_unavailable', `cannot read ${this.path}`, { cause: err });
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new StoreError('store_corrupt', `${this.path} is not JSON`, { cause: err });
    }
    const items =
      typeof doc === 'object' && doc !== null && Array.isArray((doc as { items?: unknown }).items)
        ? (doc as { items: unknown[] }).items
        : [];
    const now = Date.now();
    for (const item of items) {
      try {
        const s = storedFromJson(item);
        if (s.webhook.untilMs > now) this.index.set(s);
      } catch (err) {
        this.logger?.warn({ err }, 'skipping unreadable stored webhook');
      }
    }
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
    this.index.set(webhook);
    await this.persist();
  }

  async delete(id: string): Promise<boolean> {
    const removed = this.index.remove(id);
    if (removed) await this.persist();
    return removed;
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    return this.index.subscribe(listener);
  }

  async close(): Promise<void> {
    this.index.close();
    await this.writing.catch(() => {});
  }

  /** Coalesces writes: at most one in progress and one pending. Resolves once durable. */
  private persist(): Promise<void> {
    this.dirty = true;
    const run = this.writing.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      await this.writeFile();
    });
    this.writing = run.catch((err: unknown) => {
      this.logger?.error({ err }, 'cannot persist webhooks');
    });
    return run;
  }

  private async writeFile(): Promise<void> {
    const doc = { format: FORMAT, items: this.index.list().map((s) => storedToJson(s)) };
    const tmp = join(
      dirname(this.path),
      `.${basename(this.path)}.${process.pid}.${this.seq++}.tmp`,
    );
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(JSON.stringify(doc));
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await rename(tmp, this.path);
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw err;
    }
    try {
      const dir = await open(dirname(this.path), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch {
      // directories cannot be fsynced on every platform
    }
  }
}
