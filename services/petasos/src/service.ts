import type { Logger } from 'pino';
import { ServiceRuntime, createLogger } from '@xmidt/runtime';
import type { StartedPorts } from '@xmidt/runtime';
import { ServiceRings, createDiscovery } from '@xmidt/discovery';
import type { Discovery } from '@xmidt/discovery';
import type { HashRing } from '@xmidt/hashring';
import type { PetasosConfig } from './config.js';
import { createPetasosMetrics } from './metrics.js';
import { createRedirectHandler } from './redirect.js';

export interface PetasosOptions {
  logger?: Logger;
  /** Use this discovery instead of creating one from config.discovery (it is not closed on stop). */
  discovery?: Discovery;
}

export interface Petasos {
  readonly runtime: ServiceRuntime;
  readonly rings: ServiceRings;
  start(): Promise<StartedPorts>;
  stop(): Promise<void>;
}

/**
 * Petasos: answers every request on its primary listener with a 307 to the Talaria that owns
 * the device named in `X-Webpa-Device-Name` on this datacenter's ring.
 *
 * The primary listener is served by a bare node request handler (no router: every path and
 * method is the same redirect); the runtime still owns listening, TLS, connection tracking and
 * graceful shutdown, and the admin listener keeps /health, /ready and /metrics.
 */
export function createPetasos(config: PetasosConfig, opts: PetasosOptions = {}): Petasos {
  const logger = opts.logger ?? createLogger({ service: 'petasos', level: config.log.level });
  const runtime = new ServiceRuntime({
    service: 'petasos',
    primary: config.primary,
    admin: config.admin,
    logger,
  });
  const metrics = createPetasosMetrics(runtime.registry);
  const discovery = opts.discovery ?? createDiscovery(config.discovery, logger);
  const datacenter = discovery.datacenter;
  let ring: HashRing | undefined;
  const rings = new ServiceRings(discovery, config.service, {
    nodeName: config.nodeName,
    onChange: (all) => {
      ring = all.get(datacenter);
      metrics.updates.labels(config.service).inc();
      metrics.instances.reset();
      for (const [dc, r] of all)
        metrics.instances.labels(config.service, dc).set(r.instances.length);
      logger.info(
        { watched: config.service, datacenter, instances: ring?.instances.length ?? 0 },
        'instance set changed',
      );
    },
  });
  ring ??= rings.ring(datacenter);

  const handler = createRedirectHandler({
    ring: () => ring,
    identity: {
      server: config.server,
      build: config.build,
      region: config.region,
      flavor: config.flavor,
      startTime: new Date(),
    },
    metrics,
    closing: () => runtime.state === 'stopping',
  });
  // Replace the router with the redirect handler: fastify's per-request work (routing, hooks,
  // reply objects) is most of the cost of a redirect.
  const server = runtime.primary.server;
  server.removeAllListeners('request');
  server.on('request', handler);

  runtime.onShutdown(async () => {
    rings.close();
    if (!opts.discovery) await discovery.close();
  });

  return {
    runtime,
    rings,
    start: () => runtime.start(),
    stop: () => runtime.stop(),
  };
}
