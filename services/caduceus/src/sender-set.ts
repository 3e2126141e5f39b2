import type { Logger } from 'pino';
import type { CaduceusMetrics } from './metrics.js';
import type { OutboundEvent } from './outbound-event.js';
import { WebhookSender, type SenderDeps } from './sender.js';
import type { StoreEvent, WebhookStore } from './store.js';
import type { StoredWebhook } from './webhook.js';

/**
 * One sender per registered webhook, kept in step with the store: created on the first
 * registration of a URL, updated on a replacement, closed on deletion or expiry.
 */
export class SenderSet {
  private readonly senders = new Map<string, WebhookSender>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly store: WebhookStore,
    private readonly deps: SenderDeps,
    private readonly metrics: CaduceusMetrics,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.unsubscribe = this.store.subscribe((e) => this.onStoreEvent(e));
    for (const w of this.store.list()) this.upsert(w);
    this.metrics.webhookListSize.set(this.senders.size);
  }

  get(id: string): WebhookSender | undefined {
    return this.senders.get(id);
  }

  get size(): number {
    return this.senders.size;
  }

  all(): WebhookSender[] {
    return [...this.senders.values()];
  }

  /** Offers an event to every sender. */
  fanOut(ev: OutboundEvent): void {
    for (const s of this.senders.values()) s.offer(ev);
  }

  private onStoreEvent(e: StoreEvent): void {
    if (e.type === 'put') this.upsert(e.webhook);
    else this.remove(e.id);
    this.metrics.webhookListSize.set(this.senders.size);
  }

  private upsert(w: StoredWebhook): void {
    try {
      const cur = this.senders.get(w.id);
      if (cur) cur.update(w);
      else this.senders.set(w.id, new WebhookSender(w, this.deps));
    } catch (err) {
      this.logger.error({ err, url: w.webhook.config.url }, 'cannot serve webhook');
    }
  }

  private remove(id: string): void {
    const s = this.senders.get(id);
    if (!s) return;
    this.senders.delete(id);
    s.close(s.webhook.webhook.untilMs <= Date.now() ? 'expired' : 'deleted');
  }

  /** Waits up to `timeoutMs` for queues to empty, then closes every sender. */
  async close(timeoutMs: number): Promise<void> {
    this.unsubscribe?.();
    await Promise.all([...this.senders.values()].map((s) => s.drain(timeoutMs)));
    for (const s of this.senders.values()) s.close('shutdown');
    this.senders.clear();
  }
}
