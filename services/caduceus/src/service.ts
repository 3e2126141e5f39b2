import { Agent } from 'undici';
import type { Logger } from 'pino';
import { authenticatorFromConfig, type Authenticator } from '@xmidt/auth';
import { createLogger, parseDuration, ServiceRuntime, type StartedPorts } from '@xmidt/runtime';
import type { CaduceusConfig } from './config.js';
import { Intake } from './intake.js';
import { CaduceusMetrics } from './metrics.js';
import { registerNotifyRoutes } from './notify-route.js';
import { registerRegistrationRoutes } from './registration-routes.js';
import { SenderSet } from './sender-set.js';
import { guardedLookup, UrlGuard, v2Policy, type LookupAll } from './ssrf-guard.js';
import type { WebhookStore } from './store.js';
import { EtcdWebhookStore } from './store-etcd.js';
import { FileWebhookStore } from './store-file.js';
import { MemoryWebhookStore } from './store-memory.js';

export interface CaduceusOptions {
  logger?: Logger;
  /** Replaces the authenticator built from `auth` in the config. */
  authenticator?: Authenticator;
  /** Replaces the store chosen by `store.type`. */
  store?: WebhookStore;
  /** DNS resolution used by the registration URL checks. */
  lookupAll?: LookupAll;
  shutdownTimeoutMs?: number;
}

export interface Caduceus {
  readonly runtime: ServiceRuntime;
  readonly store: WebhookStore;
  readonly senders: SenderSet;
  readonly metrics: CaduceusMetrics;
  start(): Promise<StartedPorts>;
  stop(): Promise<void>;
}

/** Go's time.RFC822 in UTC: `02 Jan 06 15:04 UTC`. */
function rfc822(d: Date): string {
  const months = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' ');
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())} ${months[d.getUTCMonth()]} ${p(d.getUTCFullYear() % 100)} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())} UTC`;
}

function createStore(config: CaduceusConfig, logger: Logger): WebhookStore {
  const s = config.store;
  switch (s.type) {
    case 'memory':
      return new MemoryWebhookStore();
    case 'etcd':
      return new EtcdWebhookStore({
        endpoints: s.etcd.endpoints,
        prefix: s.etcd.prefix,
        dialTimeoutMs: s.etcd.dialTimeoutMs,
        logger,
      });
    default:
      return new FileWebhookStore(s.file.path, logger);
  }
}

/** Wires Caduceus: intake, registration, store, senders, metrics, on a ServiceRuntime. */
export function createCaduceus(config: CaduceusConfig, opts: CaduceusOptions = {}): Caduceus {
  const logger = opts.logger ?? createLogger({ service: 'caduceus', level: config.log.level });
  const runtime = new ServiceRuntime({
    service: 'caduceus',
    primary: config.primary,
    admin: config.admin,
    logger,
    shutdownTimeoutMs: opts.shutdownTimeoutMs ?? 10_000,
    bodyLimit: Math.max(config.intake.maxBodyBytes, config.webhook.maxBodyBytes),
  });
  const metrics = new CaduceusMetrics(runtime.registry);
  const store = opts.store ?? createStore(config, logger);

  const authenticator = opts.authenticator ?? authenticatorFromConfig(config.auth);
  if (!authenticator) logger.warn('no credentials configured: requests are not authenticated');

  const urlCfg = config.webhook.validation.url;
  const guard = new UrlGuard(urlCfg, opts.lookupAll);
  const guardV2 = new UrlGuard(v2Policy(urlCfg), opts.lookupAll);
  const s = config.sender;
  const requestTimeoutMs = parseDuration(s.responseHeaderTimeout);
  const checkAtDelivery = urlCfg.checkAtDelivery && !(urlCfg.allowLoopback && urlCfg.allowPrivate);
  const dispatcher = new Agent({
    connections: s.maxConnectionsPerOrigin,
    keepAliveTimeout: parseDuration(s.idleConnTimeout),
    keepAliveMaxTimeout: Math.max(parseDuration(s.idleConnTimeout), 1000),
    headersTimeout: requestTimeoutMs,
    bodyTimeout: requestTimeoutMs,
    connect: {
      timeout: requestTimeoutMs,
      rejectUnauthorized: !s.disableClientHostnameValidation,
      ...(checkAtDelivery ? { lookup: guardedLookup(guard) } : {}),
    },
  });

  const match = { disablePartnerIDs: s.disablePartnerIDs, customPIDs: s.customPIDs };
  const senders = new SenderSet(
    store,
    {
      settings: {
        numWorkers: s.numWorkersPerSender,
        queueSize: s.queueSizePerSender,
        cutOffPeriodMs: parseDuration(s.cutOffPeriod),
        retries: s.deliveryRetries,
        retryBaseMs: parseDuration(s.deliveryInterval),
        retryMaxMs: parseDuration(s.maxDeliveryInterval),
        match,
      },
      dispatcher,
      metrics,
      logger,
      ...(checkAtDelivery ? { guard } : {}),
    },
    metrics,
    logger,
  );
  const intake = new Intake(config.intake.maxOutstanding, (ev) => senders.fanOut(ev), metrics);

  const startTime = rfc822(new Date());
  const identity = {
    'X-Caduceus-Build': config.build,
    'X-Caduceus-Server': config.server,
    'X-Caduceus-Region': config.region,
    'X-Caduceus-Flavor': config.flavor,
    'X-Caduceus-Start-Time': startTime,
  };
  // a callback hook: no promise per request
  runtime.primary.addHook('onRequest', (_req, reply, done) => {
    reply.headers(identity);
    done();
  });
  registerNotifyRoutes(runtime.primary, {
    authenticator,
    intake,
    metrics,
    maxBodyBytes: config.intake.maxBodyBytes,
    previousVersionSupport: config.previousVersionSupport,
    customPIDs: s.customPIDs,
    disablePartnerIDs: s.disablePartnerIDs,
  });
  registerRegistrationRoutes(runtime.primary, {
    authenticator,
    store,
    guard,
    guardV2,
    ttl: {
      maxMs: parseDuration(config.webhook.validation.ttl.max),
      jitterMs: parseDuration(config.webhook.validation.ttl.jitter),
    },
    disablePartnerIDs: config.webhook.disablePartnerIDs,
    maxRegistrations: config.webhook.maxRegistrations,
    maxBodyBytes: config.webhook.maxBodyBytes,
    previousVersionSupport: config.previousVersionSupport,
  });

  // stop(): listeners stop first; then queued events are delivered (bounded), then the rest.
  runtime.onShutdown(async () => {
    await dispatcher.close().catch(() => {});
  });
  runtime.onShutdown(async () => {
    await store.close();
  });
  runtime.onShutdown(async () => {
    await intake.whenIdle();
    await senders.close(Math.min(5000, runtime.shutdownTimeoutMs / 2));
  });

  let started: Promise<StartedPorts> | undefined;
  return {
    runtime,
    store,
    senders,
    metrics,
    start() {
      started ??= (async () => {
        runtime.setReady(false);
        await store.start();
        senders.start();
        const ports = await runtime.start();
        runtime.setReady(true);
        return ports;
      })();
      return started;
    },
    stop: () => runtime.stop(),
  };
}
