import type { AddressInfo, Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { DEFAULT_BACKLOG, type ListenerConfig } from './config-schema.js';
import { XmidtError } from './errors.js';
import { createErrorHandler } from './http-error.js';
import { createListener, trackConnections } from './listener.js';
import { createLogger } from './logger.js';
import { createRegistry } from './metrics.js';

export interface ServiceRuntimeOptions {
  /** Service name, e.g. 'talaria'; added to every log line. */
  service: string;
  primary: ListenerConfig;
  admin: ListenerConfig;
  /** Default: createLogger({ service }). */
  logger?: Logger;
  /** Deadline of stop(), from its call until remaining connections are destroyed. Default 10000. */
  shutdownTimeoutMs?: number;
  /** fastify bodyLimit of the primary listener, bytes. Default 1 MiB. */
  bodyLimit?: number;
}

export interface StartedPorts {
  primaryPort: number;
  adminPort: number;
}

export type RuntimeState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

type ShutdownHook = () => Promise<void> | void;

const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
/** After the deadline and the forced close, how long stop() still waits for the servers. */
const FORCED_CLOSE_GRACE_MS = 1_000;

/**
 * What every service runs on: logger, metrics registry, a primary listener for its API and an
 * admin listener with `GET /health`, `GET /ready` and `GET /metrics`, and graceful shutdown.
 */
export class ServiceRuntime {
  readonly service: string;
  readonly logger: Logger;
  readonly registry: Registry;
  /** Routes go here; `primary.server` is the node server (attach `upgrade` handlers to it). */
  readonly primary: FastifyInstance;
  /** Has GET /health, /ready and /metrics; services may add more admin routes. */
  readonly admin: FastifyInstance;
  readonly shutdownTimeoutMs: number;

  #state: RuntimeState = 'new';
  #ready: boolean | undefined;
  readonly #hooks: ShutdownHook[] = [];
  readonly #sockets: Set<Socket>[];
  #starting: Promise<StartedPorts> | undefined;
  #stopping: Promise<boolean> | undefined;
  #signalsHandled = false;
  readonly #primaryConfig: ListenerConfig;
  readonly #adminConfig: ListenerConfig;

  constructor(opts: ServiceRuntimeOptions) {
    this.service = opts.service;
    this.logger = opts.logger ?? createLogger({ service: opts.service });
    this.shutdownTimeoutMs = opts.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
    this.registry = createRegistry();
    this.#primaryConfig = opts.primary;
    this.#adminConfig = opts.admin;
    const primaryOpts = { name: 'primary', config: opts.primary, logger: this.logger };
    this.primary = createListener(
      opts.bodyLimit === undefined ? primaryOpts : { ...primaryOpts, bodyLimit: opts.bodyLimit },
    );
    this.admin = createListener({ name: 'admin', config: opts.admin, logger: this.logger });
    this.#sockets = [trackConnections(this.primary), trackConnections(this.admin)];
    for (const app of [this.primary, this.admin]) {
      // while draining, answers close their connection so that keep-alive clients let go
      app.addHook('onSend', (request, reply, payload, done) => {
        if (this.#state === 'stopping' && request.raw.httpVersionMajor === 1) {
          reply.header('connection', 'close');
        }
        done(null, payload);
      });
    }
    this.#addAdminRoutes();
  }

  /** Lifecycle state: new -> starting -> running -> stopping -> stopped. */
  get state(): RuntimeState {
    return this.#state;
  }

  /**
   * Whether /ready answers 200. Until setReady() is called it follows the lifecycle
   * (ready while running); stop() makes it false.
   */
  get ready(): boolean {
    if (this.#state !== 'running') return false;
    return this.#ready ?? true;
  }

  setReady(ready: boolean): void {
    this.#ready = ready;
  }

  /** Registers a hook for stop(); hooks run in reverse registration order. */
  onShutdown(fn: ShutdownHook): void {
    this.#hooks.push(fn);
  }

  /** Listens on both listeners; resolves with the bound ports (useful with port 0). */
  start(): Promise<StartedPorts> {
    if (this.#state === 'stopping' || this.#state === 'stopped') {
      return Promise.reject(
        new XmidtError('runtime_stopped', `${this.service} runtime was stopped`),
      );
    }
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<StartedPorts> {
    this.#state = 'starting';
    try {
      const primaryPort = await this.#listen(this.primary, 'primary');
      const adminPort = await this.#listen(this.admin, 'admin');
      if (this.#state !== 'starting') {
        throw new XmidtError(
          'runtime_stopped',
          `${this.service} runtime was stopped while starting`,
        );
      }
      this.#state = 'running';
      return { primaryPort, adminPort };
    } catch (err) {
      if (this.#state === 'starting') {
        // close whatever is listening; the runtime can not be started again
        this.#state = 'stopping';
        await Promise.allSettled([this.primary.close(), this.admin.close()]);
        this.#state = 'stopped';
      }
      throw err;
    }
  }

  async #listen(app: FastifyInstance, name: string): Promise<number> {
    const cfg = name === 'primary' ? this.#primaryConfig : this.#adminConfig;
    await app.listen({ host: cfg.host, port: cfg.port, backlog: cfg.backlog ?? DEFAULT_BACKLOG });
    const port = (app.server.address() as AddressInfo).port;
    this.logger.info(
      { listener: name, host: cfg.host, port, tls: cfg.tls !== undefined },
      `${name} listener started`,
    );
    return port;
  }

  /**
   * Graceful shutdown: stops accepting connections on both listeners, runs the shutdown
   * hooks (reverse registration order), waits for in-flight requests, and destroys the
   * connections still open when `shutdownTimeoutMs` has passed. Idempotent.
   */
  async stop(): Promise<void> {
    await this.shutdown();
  }

  /** As stop(); resolves true when everything finished before the deadline. */
  shutdown(): Promise<boolean> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<boolean> {
    const deadline = Date.now() + this.shutdownTimeoutMs;
    if (this.#starting) await this.#starting.catch(() => undefined);
    if (this.#state === 'stopped') return true;
    this.#state = 'stopping';
    this.logger.info({ timeoutMs: this.shutdownTimeoutMs }, 'shutting down');
    let clean = true;

    // 1. stop accepting now (new connections are refused from here on); then fastify closes
    // idle keep-alive connections, answers 503 on busy ones and waits for in-flight requests
    for (const app of [this.primary, this.admin]) {
      if (app.server.listening) app.server.close();
    }
    const closed = Promise.allSettled([this.primary.close(), this.admin.close()]);

    // 2. shutdown hooks, newest first, each within what is left of the deadline
    for (const hook of [...this.#hooks].reverse()) {
      const outcome = await withDeadline(Promise.resolve().then(hook), deadline - Date.now()).catch(
        (err: unknown) => {
          this.logger.error({ err }, 'shutdown hook failed');
          return 'failed' as const;
        },
      );
      if (outcome === 'timeout') {
        clean = false;
        this.logger.warn('shutdown hook did not finish before the deadline');
      }
    }

    // 3. wait for in-flight requests, then force
    if ((await withDeadline(closed, deadline - Date.now())) === 'timeout') {
      clean = false;
      let destroyed = 0;
      for (const set of this.#sockets) {
        for (const socket of set) {
          socket.destroy();
          destroyed++;
        }
      }
      this.logger.warn({ destroyed }, 'shutdown deadline passed; connections destroyed');
      await withDeadline(closed, FORCED_CLOSE_GRACE_MS);
    }
    this.#state = 'stopped';
    this.logger.info({ clean }, 'stopped');
    return clean;
  }

  /**
   * SIGTERM / SIGINT -> stop() -> process.exit(0), or exit(1) when the deadline passed or a
   * second signal arrives. Safe to call more than once.
   */
  handleSignals(): void {
    if (this.#signalsHandled) return;
    this.#signalsHandled = true;
    let received = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (received) {
        this.logger.warn({ signal }, 'second signal; exiting now');
        process.exit(1);
      }
      received = true;
      this.logger.info({ signal }, 'signal received');
      const hard = setTimeout(
        () => {
          this.logger.error('shutdown did not finish; exiting');
          process.exit(1);
        },
        this.shutdownTimeoutMs + 2 * FORCED_CLOSE_GRACE_MS,
      );
      hard.unref();
      this.shutdown().then(
        (clean) => {
          this.logger.flush();
          process.exit(clean ? 0 : 1);
        },
        (err: unknown) => {
          this.logger.error({ err }, 'shutdown failed');
          this.logger.flush();
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }

  #addAdminRoutes(): void {
    const admin = this.admin;
    admin.setErrorHandler(createErrorHandler());
    admin.get('/health', async (_req, reply) => {
      return reply
        .header('cache-control', 'no-store')
        .send({ status: 'up', service: this.service, state: this.#state });
    });
    admin.get('/ready', async (_req, reply) => {
      const ready = this.ready;
      return reply
        .code(ready ? 200 : 503)
        .header('cache-control', 'no-store')
        .send({ status: ready ? 'ready' : 'not ready', service: this.service });
    });
    admin.get('/metrics', async (_req, reply) => {
      const text = await this.registry.metrics();
      return reply.type(this.registry.contentType).send(text);
    });
  }
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), Math.max(0, ms));
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
