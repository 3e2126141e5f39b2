import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ServiceRuntime, createLogger, parseDuration } from '@xmidt/runtime';
import type { StartedPorts } from '@xmidt/runtime';
import { ServiceRings, createDiscovery } from '@xmidt/discovery';
import type { Discovery } from '@xmidt/discovery';
import { createAccessControl } from './access-control.js';
import type { ScytaleConfig } from './config.js';
import { Fanout } from './fanout.js';
import { createScytaleMetrics } from './metrics.js';
import type { ScytaleMetrics } from './metrics.js';
import { registerRoutes } from './routes.js';
import type { RouteDeps } from './routes.js';

export interface ScytaleOptions {
  logger?: Logger;
  /** Use this discovery instead of creating one from config.discovery (it is not closed on stop). */
  discovery?: Discovery;
}

export interface Scytale {
  readonly runtime: ServiceRuntime;
  readonly rings: ServiceRings;
  readonly fanout: Fanout;
  readonly metrics: ScytaleMetrics;
  start(): Promise<StartedPorts>;
  stop(): Promise<void>;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** Go's time.RFC822 layout (`02 Jan 06 15:04 MST`) in UTC. */
function rfc822(d: Date): string {
  return `${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${two(d.getUTCFullYear() % 100)} ${two(
    d.getUTCHours(),
  )}:${two(d.getUTCMinutes())} UTC`;
}

/** `Basic <base64>` from the configured value: base64 of user:pass, or user:pass itself. */
export function talariaAuthorization(value: string): string | undefined {
  if (value === '') return undefined;
  const encoded = value.includes(':') ? Buffer.from(value, 'utf8').toString('base64') : value;
  return `Basic ${encoded}`;
}

/**
 * Scytale: the API front end. Accepts WRP messages (msgpack, JSON or X-Xmidt-* headers),
 * authenticates the caller, hashes the destination device and sends the message to its owning
 * Talaria in every datacenter at once; the first answer below 400 wins.
 */
export function createScytale(config: ScytaleConfig, opts: ScytaleOptions = {}): Scytale {
  const logger = opts.logger ?? createLogger({ service: 'scytale', level: config.log.level });
  const runtime = new ServiceRuntime({
    service: 'scytale',
    primary: config.primary,
    admin: config.admin,
    logger,
    bodyLimit: config.maxBodyBytes,
  });
  const metrics = createScytaleMetrics(runtime.registry);
  const access = createAccessControl(config, metrics, logger);
  const discovery = opts.discovery ?? createDiscovery(config.discovery, logger);
  const rings = new ServiceRings(discovery, config.service, {
    nodeName: config.nodeName,
    onChange: (all) => {
      metrics.sdUpdates.labels(config.service).inc();
      metrics.instances.reset();
      for (const [dc, r] of all)
        metrics.instances.labels(config.service, dc).set(r.instances.length);
      logger.info(
        { watched: config.service, datacenters: [...all.keys()] },
        'instance set changed',
      );
    },
  });
  const authorization = talariaAuthorization(config.fanout.authorization);
  const fanout = new Fanout({
    fanoutTimeoutMs: parseDuration(config.fanout.fanoutTimeout),
    clientTimeoutMs: parseDuration(config.fanout.clientTimeout),
    concurrency: config.fanout.concurrency,
    maxResponseBytes: config.fanout.maxResponseBytes,
    connectionsPerHost: config.fanout.connectionsPerHost,
    ...(authorization ? { authorization } : {}),
    metrics,
  });
  const routes: RouteDeps = {
    fanout,
    rings,
    access,
    metrics,
    logger,
    versions: new Set(config.previousVersionSupport ? ['v2', 'v3'] : ['v3']),
    pathPrefix: config.fanout.pathPrefix.replace(/\/+$/, ''),
    maxBodyBytes: config.maxBodyBytes,
    identityHeaders: {
      'x-scytale-build': config.build,
      'x-scytale-flavor': config.flavor,
      'x-scytale-region': config.region,
      'x-scytale-server': config.server,
      'x-scytale-start-time': rfc822(new Date()),
    },
  };
  // Registered when the listener starts (fastify runs plugins then), in the root context: the
  // routes share the listener's 404 and error handlers, and onRoute hooks added before start()
  // see every route.
  const plugin = async (app: FastifyInstance): Promise<void> => registerRoutes(app, routes);
  Object.assign(plugin, { [Symbol.for('skip-override')]: true });
  void runtime.primary.register(plugin);

  runtime.onShutdown(async () => {
    rings.close();
    await fanout.close();
    if (!opts.discovery) await discovery.close();
  });

  return {
    runtime,
    rings,
    fanout,
    metrics,
    start: () => runtime.start(),
    stop: () => runtime.stop(),
  };
}
