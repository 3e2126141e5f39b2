import { readFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server } from 'node:net';
import { createServer as createTlsServer, type TlsOptions, type TLSSocket } from 'node:tls';
import { fastify, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { childAtLeast, ConfigError, DEFAULT_BACKLOG } from '@xmidt/runtime';
import type { ThemisConfig } from './config.js';
import { FastHttp, type FastHttpOptions } from './fast-http.js';

type IssuerListenerConfig = ThemisConfig['servers']['issuer'];

/** Idle time of a kept-alive connection (the original's servers and the runtime's listeners). */
const KEEP_ALIVE_TIMEOUT_MS = 72_000;
/** Time a request head may take to arrive (node's default). */
const HEADERS_TIMEOUT_MS = 60_000;

function read(key: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new ConfigError([`servers.issuer.tls.${key}: cannot read ${file}: ${why}`], { cause });
  }
}

/**
 * The issuer's listener: a TCP (or TLS) server whose connections go first to the fast path
 * (fast-http.ts, plain `GET /issue` and `GET /claims`), and from there to `app`, the issuer's
 * fastify instance on a node HTTP server that never listens itself, for every other request.
 *
 * Client certificates follow the original's modes: no `mtls` = none asked; `mtls` = require and
 * verify; `disableVerify` = require one but let Themis judge it; `disableRequire` = verify one if
 * given; both = ask only.
 */
export class IssuerListener {
  readonly app: FastifyInstance;
  readonly #front: Server;
  readonly #http: HttpServer;
  readonly #fast: FastHttp;
  /** Requests node's server is answering, and what waits for them to end. */
  #fallbackInFlight = 0;
  #fallbackDrained: (() => void) | undefined;
  #closed: Promise<void> | undefined;

  constructor(config: IssuerListenerConfig, logger: Logger, dispatch: FastHttpOptions['dispatch']) {
    let http: HttpServer | undefined;
    this.app = fastify({
      loggerInstance: childAtLeast(logger, { listener: 'issuer' }, 'warn'),
      // as the runtime's listeners: no child logger per request (its info lines are below the
      // listener's level; failures are logged by the routes)
      childLoggerFactory: (l) => l,
      return503OnClosing: true,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      serverFactory: (handler) => {
        http = createHttpServer(handler);
        http.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
        http.headersTimeout = HEADERS_TIMEOUT_MS;
        http.requestTimeout = 0;
        return http;
      },
    }) as unknown as FastifyInstance;
    if (!http) throw new Error('fastify did not create its server');
    this.#http = http;
    http.on('request', (_req, res: ServerResponse) => {
      this.#fallbackInFlight++;
      res.once('close', () => {
        if (--this.#fallbackInFlight === 0) this.#fallbackDrained?.();
      });
    });
    this.#fast = new FastHttp({
      dispatch,
      fallback: http,
      keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
      headersTimeoutMs: HEADERS_TIMEOUT_MS,
    });
    const tls = config.tls;
    if (!tls) {
      this.#front = createNetServer((socket) => this.#fast.accept(socket));
      return;
    }
    const mtls = tls.mtls;
    const options: TlsOptions = {
      cert: read('certFile', tls.certFile),
      key: read('keyFile', tls.keyFile),
      minVersion: 'TLSv1.2',
      ALPNProtocols: ['http/1.1'],
    };
    if (mtls) {
      options.requestCert = true;
      options.rejectUnauthorized = !mtls.disableRequire && !mtls.disableVerify;
      if (mtls.clientCACertificateFile)
        options.ca = read('mtls.clientCACertificateFile', mtls.clientCACertificateFile);
    }
    this.#front = createTlsServer(options, (socket: TLSSocket) => {
      if (mtls && mtls.disableRequire !== mtls.disableVerify) {
        // modes node's TLS options cannot express alone, enforced once the handshake is done
        const hasCert = Object.keys(socket.getPeerCertificate()).length > 0;
        if (mtls.disableVerify && !hasCert) return void socket.destroy(); // require, not verify
        if (mtls.disableRequire && hasCert && !socket.authorized) return void socket.destroy();
      }
      this.#fast.accept(socket);
    });
  }

  /** Listens once fastify's routes are ready; resolves to the port. */
  async listen(host: string, port: number): Promise<number> {
    await this.app.ready();
    await new Promise<void>((resolve, reject) => {
      this.#front.once('error', reject);
      this.#front.listen({ host, port, backlog: DEFAULT_BACKLOG }, () => {
        this.#front.off('error', reject);
        resolve();
      });
    });
    // node's HTTP server tracks its connections (idle closing, header and request timeouts)
    // from its 'listening' event on; it never listens itself, so it is told here
    this.#http.emit('listening');
    return (this.#front.address() as AddressInfo).port;
  }

  /**
   * Stops accepting connections, lets the requests being answered finish (idle connections are
   * closed at once, busy ones after their answer), then closes fastify (its onClose hooks stop
   * the signer).
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      if (this.#front.listening) this.#front.close();
      // node's server ends idle kept-alive connections, and busy ones after their answer
      this.#http.close();
      const fallbackDrained = new Promise<void>((resolve) => {
        if (this.#fallbackInFlight === 0) return resolve();
        this.#fallbackDrained = resolve;
      });
      await Promise.all([this.#fast.close(), fallbackDrained]);
      await this.app.close();
    })();
    return this.#closed;
  }
}
