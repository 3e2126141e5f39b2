/**
 * One interval timer shared by many subscribers, so that thousands of connections need no
 * timer each. The timer runs (unref'd) only while someone is subscribed.
 */
export class SharedTicker {
  private readonly subscribers = new Set<(now: number) => void>();
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly intervalMs: number) {}

  get size(): number {
    return this.subscribers.size;
  }

  add(fn: (now: number) => void): void {
    this.subscribers.add(fn);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.tick(), this.intervalMs);
      this.timer.unref();
    }
  }

  delete(fn: (now: number) => void): void {
    this.subscribers.delete(fn);
    if (this.subscribers.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private tick(): void {
    const now = Date.now();
    for (const fn of this.subscribers) fn(now);
  }
}

const tickers = new Map<number, SharedTicker>();

/** The process-wide ticker for an interval. */
export function sharedTicker(intervalMs: number): SharedTicker {
  let t = tickers.get(intervalMs);
  if (t === undefined) {
    t = new SharedTicker(intervalMs);
    tickers.set(intervalMs, t);
  }
  return t;
}
