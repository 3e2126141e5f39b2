import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { fastify, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import type { ListenerConfig, TlsConfig } from './config-schema.js';
import { ConfigError } from './errors.js';
import { childAtLeast } from './logger.js';

export interface CreateListenerOptions {
  /** Listener name for logs and error messages (`primary`, `admin`). */
  name: string;
  config: ListenerConfig;
  logger: Logger;
  /** Largest request body accepted, bytes; default 1 MiB. */
  bodyLimit?: number;
}

/** Key material of a TLS listener, read from the configured files. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
  requestCert: boolean;
  rejectUnauthorized: boolean;
  minVersion: 'TLSv1.2';
}

/** Reads a listener's certificate, key and CA files. Throws ConfigError naming the file. */
export function readTlsMaterial(name: string, tls: TlsConfig): TlsMaterial {
  const read = (key: keyof TlsConfig, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (cause) {
      const why = cause instanceof Error ? cause.message : String(cause);
      throw new ConfigError([`${name}.tls.${key}: cannot read ${file}: ${why}`], { cause });
    }
  };
  if (tls.requireClientCert && !tls.caFile) {
    throw new ConfigError([`${name}.tls.caFile: required when requireClientCert is true`]);
  }
  const material: TlsMaterial = {
    cert: read('certFile', tls.certFile),
    key: read('keyFile', tls.keyFile),
    requestCert: tls.requireClientCert === true,
    rejectUnauthorized: tls.requireClientCert === true,
    minVersion: 'TLSv1.2',
  };
  if (tls.caFile) material.ca = read('caFile', tls.caFile);
  return material;
}

/**
 * A fastify instance (not yet listening) for one listener: HTTPS when `config.tls` is set,
 * mutual TLS when `tls.requireClientCert`. fastify logs only warnings and errors (5xx) through
 * a child of `logger`. Use `app.setErrorHandler(createErrorHandler(table))` for the common
 * error body.
 */
export function createListener(opts: CreateListenerOptions): FastifyInstance {
  const options: FastifyServerOptions & { https?: TlsMaterial } = {
    loggerInstance: childAtLeast(opts.logger, { listener: opts.name }, 'warn'),
    // A child logger per request costs on every request; errors are logged with the
    // request's method and URL by the error handler instead. (Per-request info lines are
    // below the listener's level.)
    childLoggerFactory: (logger) => logger,
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    return503OnClosing: true,
  };
  if (opts.config.tls) options.https = readTlsMaterial(opts.name, opts.config.tls);
  const app = fastify(options) as unknown as FastifyInstance;
  return app;
}

/** Remembers every TCP connection of a server (upgraded ones too) so they can be destroyed. */
export function trackConnections(app: FastifyInstance): Set<Socket> {
  const sockets = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return sockets;
}
