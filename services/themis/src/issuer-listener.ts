import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { fastify, type FastifyInstance, type FastifyServerOptions } from 'fastify';
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

/**
 * The issuer's own fastify instance, with the original's client-certificate modes:
 * no `mtls` = no client certificates; `mtls` = require and verify; `disableVerify` = require a
 * certificate but let Themis judge it; `disableRequire` = verify one if given; both = ask only.
 */
export function createIssuerListener(
  config: IssuerListenerConfig,
  logger: Logger,
): FastifyInstance {
  const base: FastifyServerOptions = {
    loggerInstance: childAtLeast(logger, { listener: 'issuer' }, 'warn'),
    // as the runtime's listeners: no child logger per request (its info lines are below the
    // listener's level; failures are logged by the routes)
    childLoggerFactory: (l) => l,
    return503OnClosing: true,
  };
  const tls = config.tls;
  if (!tls) return fastify(base) as unknown as FastifyInstance;
  const mtls = tls.mtls;
  const https: Record<string, unknown> = {
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
  const options: FastifyServerOptions & { https: Record<string, unknown> } = { ...base, https };
  const app = fastify(options) as unknown as FastifyInstance;
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
