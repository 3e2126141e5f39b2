import { hostname } from 'node:os';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { authenticatorFromConfig, createJwtAuthenticator } from '@xmidt/auth';
import { ServiceRings, createDiscovery, normalizeInstanceUrl } from '@xmidt/discovery';
import type { Discovery, Registration } from '@xmidt/discovery';
import type { HashRing } from '@xmidt/hashring';
import { ServiceRuntime, createLogger, parseDuration } from '@xmidt/runtime';
import type { TalariaConfig } from './config.js';
import { DeviceManager } from './device-manager.js';
import { DeviceRegistry } from './device-registry.js';
import { Drainer } from './drain.js';
import { EventDispatcher } from './event-dispatcher.js';
import { Gate } from './gate.js';
import type { DeviceAuth } from './handshake.js';
import { TalariaMetrics } from './metrics.js';
import { Rehasher } from './rehasher.js';
import { registerApiRoutes } from './routes/api.js';
import { registerControlRoutes } from './routes/control.js';

export interface TalariaOptions {
  logger?: Logger;
}

export interface Talaria {
  readonly runtime: ServiceRuntime;
  readonly devices: DeviceRegistry;
  readonly gate: Gate;
  readonly drainer: Drainer;
  readonly metrics: TalariaMetrics;
  /** The advertised URL (known after start when `url` is not configured). */
  readonly url: string;
  /** This datacenter's ring of Talaria instances, as discovery last reported it. */
  readonly ring: HashRing | undefined;
  start(): Promise<{ primaryPort: number; adminPort: number; url: string }>;
  stop(): Promise<void>;
}

/** Go's RFC822 layout with the zone name, e.g. `02 Jan 06 15:04 UTC`. */
function rfc822(d: Date): string {
  const months = [
    'Jan',
    'Feb',
    'Mar',
    'Apr',
    'May',
    'Jun',
    'Jul',
    'Aug',
    'Sep',
    'Oct',
    'Nov',
    'Dec',
  ];
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())} ${months[d.getUTCMonth()]} ${p(d.getUTCFullYear() % 100)} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())} UTC`;
}

/** `deviceAuth`: Bearer JWTs verified with the configured key source. */
function deviceAuthFrom(config: TalariaConfig): DeviceAuth {
  const { jwt, failOpen } = config.deviceAuth;
  return { failOpen, authenticator: jwt ? createJwtAuthenticator(jwt) : undefined };
}

export function createTalaria(config: TalariaConfig, opts: TalariaOptions = {}): Talaria {
  const logger = opts.logger ?? createLogger({ service: 'talaria', level: config.log.level });
  const dm = config.device.manager;
  const out = config.device.outbound;
  const runtime = new ServiceRuntime({
    service: 'talaria',
    primary: config.primary,
    admin: config.admin,
    logger,
    bodyLimit: config.inbound.maxBodyBytes,
  });
  const staticHeaders: Record<string, string> = {
    'x-talaria-build': config.build,
    'x-talaria-server': config.server,
    'x-talaria-region': config.region,
    'x-talaria-flavor': config.flavor,
    'x-talaria-start-time': rfc822(new Date()),
  };
  for (const app of [runtime.primary, runtime.admin]) {
    app.addHook('onRequest', async (_req, reply) => {
      reply.headers(staticHeaders);
    });
  }

  const registry = new DeviceRegistry();
  const metrics = new TalariaMetrics(
    runtime.registry,
    () => dm.maxDevices,
    () => registry.pendingTotal(),
  );
  const gate = new Gate(metrics);
  const drainer = new Drainer(registry, metrics);
  const events = new EventDispatcher(
    {
      method: out.method,
      retries: out.retries,
      retryBackoffMs: parseDuration(out.retryBackoff),
      maxRetryBackoffMs: parseDuration(out.maxRetryBackoff),
      eventEndpoints: out.eventEndpoints,
      requestTimeoutMs: parseDuration(out.requestTimeout),
      clientTimeoutMs: parseDuration(out.clientTimeout),
      outboundQueueSize: out.outboundQueueSize,
      workerPoolSize: out.workerPoolSize,
      maxConnectionsPerHost: out.maxConnectionsPerHost,
      authKey: out.authKey,
      defaultScheme: out.defaultScheme,
      allowedSchemes: out.allowedSchemes,
    },
    metrics,
    logger,
  );

  const discovery: Discovery = createDiscovery(config.discovery, logger);
  let selfUrl = config.url ? normalizeInstanceUrl(config.url) : '';
  let rings: ServiceRings | undefined;
  let rehasher: Rehasher | undefined;
  let registration: Registration | undefined;

  const deviceAuth = deviceAuthFrom(config);
  if (!deviceAuth.authenticator) {
    logger.warn('deviceAuth.jwt is not configured: devices connect without authentication');
  }
  const deviceManager = new DeviceManager(
    {
      maxDevices: dm.maxDevices,
      queueSize: dm.deviceMessageQueueSize,
      pingPeriodMs: parseDuration(dm.pingPeriod),
      idlePeriodMs: parseDuration(dm.idlePeriod),
      writeTimeoutMs: parseDuration(dm.writeTimeout),
      sweepIntervalMs: Math.max(10, parseDuration(dm.sweepInterval)),
      handshakeTimeoutMs: parseDuration(dm.handshakeTimeout),
      maxMessageBytes: dm.maxMessageBytes,
      sourceCheck: dm.wrpSourceCheck.type,
      statusSource: out.source,
      ackSource: out.ackSource,
      staticHeaders,
    },
    registry,
    {
      gate,
      auth: deviceAuth,
      onError: (err) => logger.error({ err }, 'device authentication failed unexpectedly'),
      otherOwner(id) {
        const ring = rings?.ring();
        if (!ring || ring.instances.length === 0 || !selfUrl) return undefined;
        const owner = ring.get(id);
        return owner === undefined || owner === selfUrl ? undefined : owner;
      },
    },
    events,
    metrics,
    logger,
  );
  runtime.primary.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    deviceManager.handleUpgrade(req, socket, head),
  );

  runtime.primary.register(async (scope) =>
    registerApiRoutes(scope, {
      registry,
      gate,
      metrics,
      apiAuth: authenticatorFromConfig(config.auth),
      sendTimeoutMs: parseDuration(config.inbound.timeout),
      devicesCacheTtlMs: parseDuration(config.inbound.devicesCacheTtl),
      maxBodyBytes: config.inbound.maxBodyBytes,
    }),
  );
  runtime.admin.register(async (scope) => registerControlRoutes(scope, { gate, drainer }));

  const watchRing = (): void => {
    const rh = config.device.rehasher;
    if (rh.enabled) {
      rehasher = new Rehasher(registry, metrics, logger, {
        service: rh.service,
        rate: rh.rate,
        selfUrl,
      });
    }
    rings = new ServiceRings(discovery, rh.service, {
      nodeName: config.ring.nodeName,
      onChange: (all) => rehasher?.update(all.get(discovery.datacenter)),
    });
  };

  let stopping: Promise<void> | undefined;
  const teardown = (): Promise<void> => {
    stopping ??= (async () => {
      runtime.setReady(false);
      await rehasher?.stop();
      if (drainer.active) await drainer.cancel().catch(() => undefined);
      await registration
        ?.deregister()
        .catch((err: unknown) => logger.warn({ err }, 'deregister failed'));
      await deviceManager.stop();
      await events.stop();
      rings?.close();
      await discovery.close().catch(() => undefined);
    })();
    return stopping;
  };
  runtime.onShutdown(teardown);

  return {
    runtime,
    devices: registry,
    gate,
    drainer,
    metrics,
    get url() {
      return selfUrl;
    },
    get ring() {
      return rings?.ring();
    },
    async start() {
      if (selfUrl) watchRing();
      const ports = await runtime.start();
      if (!selfUrl) {
        const h = config.primary.host;
        const host = h === '0.0.0.0' || h === '::' || h === '' ? hostname() : h;
        selfUrl = normalizeInstanceUrl(
          `http://${host.includes(':') ? `[${host}]` : host}:${ports.primaryPort}`,
        );
        watchRing();
      }
      events.start();
      deviceManager.start();
      registration = await discovery.register(config.device.rehasher.service, selfUrl);
      runtime.setReady(true);
      logger.info({ url: selfUrl, ...ports }, 'talaria started');
      return { ...ports, url: selfUrl };
    },
    async stop() {
      await teardown();
      await runtime.stop();
    },
  };
}
