import type { CaduceusMetrics } from './metrics.js';
import type { OutboundEvent } from './outbound-event.js';

/**
 * The bounded intake queue: every notify request holds a slot from before its body is read
 * until its event has been offered to every webhook. When all slots are taken, new requests
 * are answered 503. Fan-out runs off the request path, in batches.
 */
export class Intake {
  private outstanding = 0;
  private queue: OutboundEvent[] = [];
  private scheduled = false;
  private idle: (() => void)[] = [];

  constructor(
    private readonly max: number,
    private readonly fanOut: (ev: OutboundEvent) => void,
    metrics: CaduceusMetrics,
  ) {
    metrics.watchIntake(() => this.outstanding);
  }

  get depth(): number {
    return this.outstanding;
  }

  /** Takes a slot; false when the intake is full. */
  reserve(): boolean {
    if (this.outstanding >= this.max) return false;
    this.outstanding++;
    return true;
  }

  /** Gives back a slot whose request produced no event. */
  release(): void {
    this.outstanding--;
    if (this.outstanding === 0) this.wakeIdle();
  }

  /** Queues the event of a reserved slot; the slot is freed once the event is fanned out. */
  push(ev: OutboundEvent): void {
    this.queue.push(ev);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  private drain(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    for (const ev of batch) {
      try {
        this.fanOut(ev);
      } finally {
        this.release();
      }
    }
  }

  private wakeIdle(): void {
    const w = this.idle;
    this.idle = [];
    for (const fn of w) fn();
  }

  /** Resolves when nothing is outstanding. */
  whenIdle(): Promise<void> {
    if (this.outstanding === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }
}
