import type { StoredWebhook } from './webhook.js';

export type StoreEvent = { type: 'put'; webhook: StoredWebhook } | { type: 'delete'; id: string };

/**
 * Where registrations live. Every implementation keys records by id (SHA-256 of the URL),
 * removes them once `until` has passed, and tells subscribers about every addition,
 * replacement, deletion and expiry — including those made by other Caduceus instances.
 */
export interface WebhookStore {
  start(): Promise<void>;
  get(id: string): StoredWebhook | undefined;
  /** Current, unexpired registrations. */
  list(): StoredWebhook[];
  size(): number;
  put(webhook: StoredWebhook): Promise<void>;
  /** true if something was deleted. */
  delete(id: string): Promise<boolean>;
  subscribe(listener: (event: StoreEvent) => void): () => void;
  close(): Promise<void>;
}

export class StoreError extends Error {
  constructor(
    readonly code: 'store_unavailable' | 'store_corrupt',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The in-memory index every store keeps: records, subscribers, and an expiry timer. */
export class WebhookIndex {
  private readonly records = new Map<string, StoredWebhook>();
  private readonly listeners = new Set<(event: StoreEvent) => void>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private closed = false;

  /** @param onExpire called with the ids that expired (after they left the index) */
  constructor(private readonly onExpire: (ids: string[]) => void = () => {}) {}

  get(id: string): StoredWebhook | undefined {
    const r = this.records.get(id);
    return r && r.webhook.untilMs > Date.now() ? r : undefined;
  }

  list(): StoredWebhook[] {
    const now = Date.now();
    return [...this.records.values()].filter((r) => r.webhook.untilMs > now);
  }

  size(): number {
    return this.records.size;
  }

  ids(): string[] {
    return [...this.records.keys()];
  }

  set(s: StoredWebhook): void {
    this.records.set(s.id, s);
    this.emit({ type: 'put', webhook: s });
    this.schedule(s.webhook.untilMs);
  }

  remove(id: string): boolean {
    if (!this.records.delete(id)) return false;
    this.emit({ type: 'delete', id });
    return true;
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.listeners.clear();
  }

  private emit(e: StoreEvent): void {
    for (const l of this.listeners) l(e);
  }

  private schedule(at: number): void {
    if (this.closed || at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    const delay = Math.min(Math.max(at - Date.now(), 0) + 5, 2 ** 31 - 1);
    this.timer = setTimeout(() => this.sweep(), delay);
    this.timer.unref();
  }

  private sweep(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = Date.now();
    const expired: string[] = [];
    let next = Infinity;
    for (const [id, r] of this.records) {
      if (r.webhook.untilMs <= now) expired.push(id);
      else next = Math.min(next, r.webhook.untilMs);
    }
    for (const id of expired) this.remove(id);
    if (expired.length > 0) this.onExpire(expired);
    if (next !== Infinity) this.schedule(next);
  }
}
