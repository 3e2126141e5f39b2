import { DurationError } from './errors.js';

/** Milliseconds per unit of Go's `time.ParseDuration`. */
const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3, // U+00B5 micro sign
  μs: 1e-3, // U+03BC greek mu
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Longest string accepted; Go durations are never longer than a few dozen characters. */
const MAX_LENGTH = 64;
const PART = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/**
 * Parses a Go duration (`'300ms'`, `'1.5h'`, `'2h45m'`, `'-1m30s'`, `'0'`) into milliseconds.
 * A number is taken as seconds (configs of the original accept integer seconds in places).
 * Throws DurationError (code `duration_invalid`) otherwise.
 */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new DurationError(`invalid duration ${String(input)}`);
    return input * 1000;
  }
  if (typeof input !== 'string' || input.length === 0 || input.length > MAX_LENGTH) {
    throw new DurationError(`invalid duration ${JSON.stringify(input)}`);
  }
  let s = input;
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s.length === 0) throw new DurationError(`invalid duration ${JSON.stringify(input)}`);
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const m = PART.exec(s);
    if (m === null) {
      const hasUnit = /[a-zµμ]/i.test(s);
      throw new DurationError(
        hasUnit
          ? `invalid duration ${JSON.stringify(input)}`
          : `missing unit in duration ${JSON.stringify(input)}`,
      );
    }
    const value = Number(m[1]);
    const unit = UNIT_MS[m[2] ?? ''];
    if (unit === undefined) throw new DurationError(`unknown unit in duration ${input}`);
    total += value * unit;
  }
  if (!Number.isFinite(total)) throw new DurationError(`invalid duration ${JSON.stringify(input)}`);
  return sign * total;
}

/**
 * Formats milliseconds the way Go's `time.Duration.String()` does:
 * `0s`, `1.5s`, `1m0s`, `1h2m3s`, `500ms`, `1.5µs`.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) throw new DurationError(`invalid duration ${String(ms)}`);
  let ns = Math.round(ms * 1e6);
  if (ns === 0) return '0s';
  const neg = ns < 0;
  if (neg) ns = -ns;
  let out: string;
  if (ns < 1e9) {
    if (ns < 1e3) out = `${ns}ns`;
    else if (ns < 1e6) out = `${trim(ns / 1e3)}µs`;
    else out = `${trim(ns / 1e6)}ms`;
  } else {
    const h = Math.floor(ns / 3.6e12);
    const m = Math.floor((ns % 3.6e12) / 6e10);
    const sec = (ns % 6e10) / 1e9;
    out = `${trim(sec)}s`;
    if (h > 0 || m > 0) out = `${m}m${out}`;
    if (h > 0) out = `${h}h${out}`;
  }
  return neg ? `-${out}` : out;
}

function trim(n: number): string {
  // up to 9 fractional digits, no trailing zeros (Go prints exact nanoseconds)
  return n.toFixed(9).replace(/\.?0+$/, '');
}
