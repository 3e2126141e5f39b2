/**
 * A bounded FIFO with waiting readers. `push` refuses (returns false) when full;
 * `shift` waits up to a timeout; `close` wakes every waiter with `undefined`.
 */
export class MessageQueue<T> {
  private readonly items: T[] = [];
  private readonly waiters = new Set<(item: T | undefined) => void>();
  private closed = false;

  constructor(readonly capacity: number) {}

  get length(): number {
    return this.items.length;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  push(item: T): boolean {
    if (this.closed) return false;
    const waiter = this.waiters.values().next();
    if (!waiter.done) {
      this.waiters.delete(waiter.value);
      waiter.value(item);
      return true;
    }
    if (this.items.length >= this.capacity) return false;
    this.items.push(item);
    return true;
  }

  /** Next item; undefined on timeout or when closed and empty. `timeoutMs` 0 waits forever. */
  shift(timeoutMs = 0): Promise<T | undefined> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift());
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter = (item: T | undefined): void => {
        clearTimeout(timer);
        resolve(item);
      };
      this.waiters.add(waiter);
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          this.waiters.delete(waiter);
          resolve(undefined);
        }, timeoutMs);
      }
    });
  }

  close(): void {
    this.closed = true;
    for (const waiter of this.waiters) waiter(undefined);
    this.waiters.clear();
  }
}
