import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { fastify, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { childAtLeast, ConfigError } from '@xmidt/runtime';
import type { ThemisConfig } from './config.js';

type IssuerListenerConfig = ThemisConfig['servers']['issuer'];

function read(key: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new ConfigError([`servers.issuer.tls.${key}: cannot read ${file}: ${why}`], { cause });
  }
}

/** Answers a request itself and returns true, or returns false to leave it to fastify. */
export type FrontHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * The issuer's own fastify instance, with the original's client-certificate modes:
 * no `mtls` = no client certificates; `mtls` = require and verify; `disableVerify` = require a
 * certificate but let Themis judge it; `disableRequire` = verify one if given; both = ask only.
 *
 * `front` sees each request before fastify does (until the listener closes): it takes the plain
 * `GET /issue` requests, whose answer does not need fastify's routing, request and reply objects
 * and hooks (on two cores they cost as much event-loop time as the rest of issuing a token).
 */
export function createIssuerListener(
  config: IssuerListenerConfig,
  logger: Logger,
  front: FrontHandler,
): FastifyInstance {
  const tls = config.tls;
  const mtls = tls?.mtls;
  let https: Record<string, unknown> | undefined;
  if (tls) {
    https = {
      cert: read('certFile', tls.certFile),
      key: read('keyFile', tls.keyFile),
      minVersion: 'TLSv1.2',
    };
    if (mtls) {
      https['requestCert'] = true;
      https['rejectUnauthorized'] = !mtls.disableRequire && !mtls.disableVerify;
      if (mtls.clientCACertificateFile)
        https['ca'] = read('mtls.clientCACertificateFile', mtls.clientCACertificateFile);
    }
  }
  let closing = false;
  const app = fastify({
    loggerInstance: childAtLeast(logger, { listener: 'issuer' }, 'warn'),
    // as the runtime's listeners: no child logger per request (its info lines are below the
    // listener's level; failures are logged by the routes)
    childLoggerFactory: (l) => l,
    return503OnClosing: true,
    serverFactory: (handler, options) => {
      const opts = options as {
        keepAliveTimeout?: number;
        requestTimeout?: number;
        connectionTimeout?: number;
        maxRequestsPerSocket?: number;
      };
      const listener = (req: IncomingMessage, res: ServerResponse) => {
        if (closing || !front(req, res)) handler(req, res);
      };
      const server = https ? createHttpsServer(https, listener) : createHttpServer(listener);
      // what fastify applies to the servers it creates itself
      server.keepAliveTimeout = opts.keepAliveTimeout ?? 72_000;
      server.requestTimeout = opts.requestTimeout ?? 0;
      server.setTimeout(opts.connectionTimeout ?? 0);
      if (opts.maxRequestsPerSocket) server.maxRequestsPerSocket = opts.maxRequestsPerSocket;
      return server;
    },
  }) as unknown as FastifyInstance;
  // from here on fastify answers 503 on kept-alive connections; leave every request to it
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  if (mtls && mtls.disableRequire !== mtls.disableVerify) {
    // Modes Node's TLS options cannot express alone: enforce them once the handshake is done.
    app.server.on('secureConnection', (socket: TLSSocket) => {
      const hasCert = Object.keys(socket.getPeerCertificate()).length > 0;
      if (mtls.disableVerify && !hasCert) socket.destroy(); // require, do not verify
      if (mtls.disableRequire && hasCert && !socket.authorized) socket.destroy(); // verify if given
    });
  }
  return app;
}
