import type { Logger } from 'pino';
import { ConfigError, parseDuration, ServiceRuntime } from '@xmidt/runtime';
import type { ThemisConfig } from './config.js';
import { buildIssuer, createClaimsBuilder, createTrustEvaluator } from './issuer.js';
import { IssuerCluster } from './issuer-cluster.js';
import type { IssuerListener } from './issuer-listener.js';
import { KeyStore } from './key-store.js';
import { createThemisMetrics, issueCounters } from './metrics.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerKeyRoutes } from './routes/keys.js';
import type { SigningKey } from './signer.js';

/** The listeners of Themis, as named in `servers`. */
export interface ThemisOptions {
  logger?: Logger;
  shutdownTimeoutMs?: number;
}

export interface ThemisPorts {
  keyPort: number;
  issuerPort: number;
  adminPort: number;
}

export interface Themis {
  readonly runtime: ServiceRuntime;
  /** The in-process issuer listener (`/issue`, `/claims`); undefined with workers > 1. */
  readonly issuer: IssuerListener | undefined;
  readonly keys: KeyStore;
  start(): Promise<ThemisPorts>;
  stop(): Promise<void>;
  /** Same as `POST /keys/rotate`. */
  rotate(): Promise<SigningKey>;
}

const KEY_TYPE_OF_ALG = (alg: string): 'rsa' | 'ecdsa' | 'ed25519' =>
  alg.startsWith('ES') ? 'ecdsa' : alg === 'EdDSA' ? 'ed25519' : 'rsa';

/** Builds Themis: key store (loaded or generated), listeners and routes. Not yet listening. */
export async function createThemis(
  config: ThemisConfig,
  opts: ThemisOptions = {},
): Promise<Themis> {
  const token = config.token;
  if (token.key.type && token.key.type !== KEY_TYPE_OF_ALG(token.alg)) {
    throw new ConfigError([
      `token.key.type: ${token.key.type} does not fit token.alg ${token.alg}`,
    ]);
  }
  // fail early on bad claim entries or certificate files, in this process too
  createClaimsBuilder(config);
  createTrustEvaluator(config);
  const durationMs = parseDuration(token.duration);
  const rotateEveryMs = parseDuration(token.key.rotateEvery);
  const keyOpts = {
    alg: token.alg,
    kid: token.key.kid,
    rsaBits: token.key.bits,
    directory: token.key.directory,
    retainMs: durationMs + parseDuration(token.key.retainGrace),
  };
  const keys = await KeyStore.open(token.key.file ? { ...keyOpts, file: token.key.file } : keyOpts);

  const runtime = new ServiceRuntime({
    service: 'themis',
    primary: config.servers.key,
    admin: config.servers.admin,
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.shutdownTimeoutMs !== undefined ? { shutdownTimeoutMs: opts.shutdownTimeoutMs } : {}),
  });
  const metrics = createThemisMetrics(runtime.registry, keys);
  registerKeyRoutes(runtime.primary, keys);

  const inProcess = config.servers.issuer.workers <= 1;
  const issuer = inProcess
    ? buildIssuer(config, runtime.logger, keys, issueCounters(metrics))
    : undefined;
  const workers = inProcess
    ? undefined
    : new IssuerCluster(config, runtime.logger, keys, {
        issued: (alg, outcome, n) => metrics.issued.inc({ alg, outcome }, n),
        trust: (t, reason, n) => metrics.trust.inc({ trust: String(t), reason }, n),
      });

  let rotateTimer: NodeJS.Timeout | undefined;
  let pruneTimer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    clearTimeout(rotateTimer);
    if (rotateEveryMs <= 0 || !keys.rotatable) return;
    const due = keys.active().createdAt + rotateEveryMs - Date.now();
    rotateTimer = setTimeout(
      () => {
        rotate().catch((err: unknown) =>
          runtime.logger.error({ err }, 'scheduled key rotation failed'),
        );
      },
      Math.max(0, Math.min(due, 2 ** 31 - 1)),
    );
    rotateTimer.unref();
  };
  const rotate = async (): Promise<SigningKey> => {
    const key = await keys.rotate();
    metrics.rotations.inc();
    runtime.logger.info({ kid: key.kid, alg: key.alg }, 'signing key rotated');
    schedule();
    return key;
  };
  registerAdminRoutes(runtime.admin, { rotate, published: () => keys.published() });

  runtime.onShutdown(async () => {
    clearTimeout(rotateTimer);
    clearInterval(pruneTimer);
    await Promise.all([issuer?.close(), workers?.stop(runtime.shutdownTimeoutMs)]);
  });

  return {
    runtime,
    issuer,
    keys,
    rotate,
    async start(): Promise<ThemisPorts> {
      const { primaryPort, adminPort } = await runtime.start();
      const ic = config.servers.issuer;
      let issuerPort: number;
      if (issuer) {
        issuerPort = await issuer.listen(ic.host, ic.port);
      } else {
        issuerPort = await (workers as IssuerCluster).start();
      }
      runtime.logger.info(
        { listener: 'issuer', port: issuerPort, tls: ic.tls !== undefined, workers: ic.workers },
        'issuer listener started',
      );
      schedule();
      pruneTimer = setInterval(() => {
        keys.prune().catch((err: unknown) => runtime.logger.error({ err }, 'key prune failed'));
      }, 60_000);
      pruneTimer.unref();
      return { keyPort: primaryPort, issuerPort, adminPort };
    },
    stop: () => runtime.stop(),
  };
}
