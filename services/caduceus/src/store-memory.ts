import { WebhookIndex, type StoreEvent, type WebhookStore } from './store.js';
import type { StoredWebhook } from './webhook.js';

/** Registrations in memory only (tests, throw-away instances). */
export class MemoryWebhookStore implements WebhookStore {
  private readonly index = new WebhookIndex();
  async start(): Promise<void> {}
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
  }
  async delete(id: string): Promise<boolean> {
    return this.index.remove(id);
  }
  subscribe(listener: (event: StoreEvent) => void): () => void {
    return this.index.subscribe(listener);
  }
  async close(): Promise<void> {
    this.index.close();
  }
}
