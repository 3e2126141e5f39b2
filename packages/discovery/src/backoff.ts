/** Capped exponential backoff with jitter (0.5x..1.5x), reset after a success. */
export class Backoff {
  private attempt = 0;
  constructor(
    private readonly initialMs = 100,
    private readonly maxMs = 5000,
  ) {}

  /** The delay before the next attempt; each call doubles the base up to the cap. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(base * (0.5 + Math.random()));
  }

  reset(): void {
    this.attempt = 0;
  }
}

/**
 * The same schedule in the shape etcd3 takes for its watch-stream reconnects
 * (`faultHandling.watchBackoff`): an immutable chain of delays.
 */
export class WatchStreamBackoff {
  constructor(
    readonly duration: number = 0,
    private readonly initialMs = 100,
    private readonly maxMs = 2000,
  ) {}

  next(): WatchStreamBackoff {
    const base = this.duration === 0 ? this.initialMs : Math.min(this.maxMs, this.duration * 2);
    return new WatchStreamBackoff(base, this.initialMs, this.maxMs);
  }
}
