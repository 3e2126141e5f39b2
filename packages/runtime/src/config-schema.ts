import { FormatRegistry, Type } from '@sinclair/typebox';
import { parseDuration } from './duration.js';

/** TLS settings of a listener. `requireClientCert` turns on mutual TLS (needs `caFile`). */
export interface TlsConfig {
  certFile: string;
  keyFile: string;
  caFile?: string;
  requireClientCert?: boolean;
}

/** Where a listener binds, and optionally its TLS settings. */
export interface ListenerConfig {
  host: string;
  port: number;
  /** Pending-connection queue length (capped by the kernel's somaxconn). Default 65535. */
  backlog?: number;
  tls?: TlsConfig;
}

/**
 * Listen backlog when a listener does not set one: a reboot storm arrives all at once, so ask for
 * the most the kernel allows (it caps the queue at net.core.somaxconn; see docs/operations.md).
 */
export const DEFAULT_BACKLOG = 65535;

/** typebox format name for Go duration strings (`'45s'`, `'1m30s'`). */
export const DURATION_FORMAT = 'go-duration';

if (!FormatRegistry.Has(DURATION_FORMAT)) {
  FormatRegistry.Set(DURATION_FORMAT, (value) => {
    try {
      parseDuration(value);
      return true;
    } catch {
      return false;
    }
  });
}

/** Schema of a listener's `tls` block. */
export const tlsSchema = Type.Object({
  certFile: Type.String({ minLength: 1 }),
  keyFile: Type.String({ minLength: 1 }),
  caFile: Type.Optional(Type.String({ minLength: 1 })),
  requireClientCert: Type.Optional(Type.Boolean()),
});

/**
 * typebox schema for a ListenerConfig with the given defaults, to embed in service config
 * schemas: `{ host (default '0.0.0.0'), port, tls? }`. The object itself defaults to `{}`.
 */
export function listenerSchema(defaults: { host?: string; port: number }) {
  return Type.Object(
    {
      host: Type.String({ default: defaults.host ?? '0.0.0.0' }),
      port: Type.Integer({ minimum: 0, maximum: 65535, default: defaults.port }),
      backlog: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
      tls: Type.Optional(tlsSchema),
    },
    { default: {} },
  );
}

/**
 * A duration setting: a Go duration string (`'45s'`, `'1m30s'`) or a number of seconds.
 * Convert the loaded value with parseDuration(). Invalid strings fail config validation.
 */
export function durationSchema(defaultValue: string | number) {
  return Type.Union([Type.String({ format: DURATION_FORMAT }), Type.Number({ minimum: 0 })], {
    default: defaultValue,
  });
}

/** Log levels accepted by createLogger. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Schema of a `log` block: `{ level }` (default 'info'). */
export function logSchema(defaults: { level?: LogLevel } = {}) {
  return Type.Object(
    {
      level: Type.Union(
        LOG_LEVELS.map((l) => Type.Literal(l)),
        { default: defaults.level ?? 'info' },
      ),
    },
    { default: {} },
  );
}
