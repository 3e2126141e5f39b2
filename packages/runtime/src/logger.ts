import { hostname } from 'node:os';
import pino from 'pino';
import type { DestinationStream, Logger } from 'pino';
import { ConfigError } from './errors.js';

export interface CreateLoggerOptions {
  /** Added to every line as `service`. */
  service: string;
  /** pino level name; default `$LOG_LEVEL` or `info`. */
  level?: string;
  /** Where lines go; default stdout. */
  destination?: DestinationStream;
}

/**
 * Structured JSON logger: one JSON object per line with `level` (name), `time` (ISO 8601),
 * `service`, `pid`, `hostname` and `msg`.
 */
export function createLogger(opts: CreateLoggerOptions): Logger {
  const level = opts.level ?? process.env['LOG_LEVEL'] ?? 'info';
  if (level !== 'silent' && pino.levels.values[level] === undefined) {
    throw new ConfigError([`log.level: unknown log level ${JSON.stringify(level)}`]);
  }
  return pino(
    {
      level,
      base: { service: opts.service, pid: process.pid, hostname: hostname() },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    opts.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/** A child logger that logs at `minLevel` or above, but never below the parent's level. */
export function childAtLeast(
  parent: Logger,
  bindings: Record<string, unknown>,
  minLevel: string,
): Logger {
  const values = pino.levels.values;
  const parentValue = parent.level === 'silent' ? Infinity : (values[parent.level] ?? 30);
  const minValue = values[minLevel] ?? 40;
  const level = parentValue >= minValue ? parent.level : minLevel;
  return parent.child(bindings, { level });
}
