/**
 * A mergeable latency histogram: log-spaced buckets (5 % apart) from 0.1 ms to about 10 min,
 * so percentiles are within 5 % and workers can add their counts together.
 */
const MIN_MS = 0.1;
const RATIO = 1.05;
export const HISTOGRAM_BUCKETS = Math.ceil(Math.log(6_000_000) / Math.log(RATIO)) + 2;

export class Histogram {
  readonly counts: number[];
  count = 0;
  max = 0;

  constructor(counts?: readonly number[]) {
    this.counts = counts !== undefined ? [...counts] : new Array<number>(HISTOGRAM_BUCKETS).fill(0);
    for (const c of this.counts) this.count += c;
  }

  record(ms: number): void {
    const v = Math.max(ms, MIN_MS);
    const i = Math.min(Math.ceil(Math.log(v / MIN_MS) / Math.log(RATIO)), HISTOGRAM_BUCKETS - 1);
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  merge(other: { counts: readonly number[]; max: number }): void {
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      const c = other.counts[i] ?? 0;
      this.counts[i] = (this.counts[i] ?? 0) + c;
      this.count += c;
    }
    if (other.max > this.max) this.max = other.max;
  }

  /** The upper bound of the bucket holding the p-th percentile (0..100), ms; 0 when empty. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return Math.min(MIN_MS * RATIO ** i, this.max);
    }
    return this.max;
  }

  toJSON(): { counts: number[]; max: number } {
    return { counts: this.counts, max: this.max };
  }
}
