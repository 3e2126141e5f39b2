/**
 * Parodus' reconnect backoff. After each failed attempt the cap grows 3, 7, 15, 31 … units
 * (`cap = 2*cap + 1`) until it reaches `2^maxExponent − 1`. While the cap is at most 3 the
 * wait is exactly 3 units; otherwise it is a random whole number of units in [0, cap], raised
 * by 3 when below 3, plus a random fraction of a unit. A unit is one second by default.
 */
export interface BackoffOptions {
  /** Length of one unit in milliseconds (1000, as Parodus; tests use a few ms). */
  unitMs?: number;
  /** Parodus' `--webpa-backoff-max`: the cap stops at 2^maxExponent − 1 units. Default 9 (511 s). */
  maxExponent?: number;
  /** Random source in [0, 1); Math.random by default. */
  random?: () => number;
}

export const DEFAULT_BACKOFF_UNIT_MS = 1000;
export const DEFAULT_BACKOFF_MAX_EXPONENT = 9;
/** The shortest wait, in units. */
export const BACKOFF_MIN_UNITS = 3;

export class Backoff {
  private readonly unitMs: number;
  private readonly limit: number;
  private readonly random: () => number;
  private cap = 0;

  constructor(options: BackoffOptions = {}) {
    this.unitMs = options.unitMs ?? DEFAULT_BACKOFF_UNIT_MS;
    const exp = Math.min(
      Math.max(Math.floor(options.maxExponent ?? DEFAULT_BACKOFF_MAX_EXPONENT), 0),
      30,
    );
    this.limit = 2 ** exp - 1;
    this.random = options.random ?? Math.random;
  }

  /** The current cap in units (0 before the first failure). */
  get currentCap(): number {
    return this.cap;
  }

  /** The largest wait this backoff can ever return, in milliseconds. */
  get maxDelayMs(): number {
    return Math.max(this.limit + 1, BACKOFF_MIN_UNITS) * this.unitMs;
  }

  /** The wait after one more failed attempt, in milliseconds. */
  next(): number {
    this.cap =
      this.cap === 0
        ? BACKOFF_MIN_UNITS
        : Math.max(Math.min(2 * this.cap + 1, this.limit), BACKOFF_MIN_UNITS);
    if (this.cap <= BACKOFF_MIN_UNITS) return BACKOFF_MIN_UNITS * this.unitMs;
    let units = Math.floor(this.random() * (this.cap + 1));
    if (units < BACKOFF_MIN_UNITS) units += BACKOFF_MIN_UNITS;
    return (units + this.random()) * this.unitMs;
  }

  /** Back to the start (after a successful, stable connection). */
  reset(): void {
    this.cap = 0;
  }
}
