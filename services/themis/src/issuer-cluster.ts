import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { ThemisConfig } from './config.js';
import type { KeyStore } from './key-store.js';
import type { SigningKey } from './signer.js';
import {
  WORKER_CONFIG_ENV,
  type PrimaryMessage,
  type WireKey,
  type WorkerMessage,
} from './worker-protocol.js';

export interface ClusterMetrics {
  issued(alg: string, outcome: string, n: number): void;
  trust(trust: number, reason: string, n: number): void;
}

function wire(key: SigningKey): WireKey {
  return {
    kid: key.kid,
    alg: key.alg,
    createdAt: key.createdAt,
    privateKey: key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/**
 * `servers.issuer.workers` > 1: the issuer runs in that many Node cluster workers sharing the
 * issuer port (HTTP parsing and signing on every core); this process keeps the key store, the key
 * server and the admin listener, sends each worker the active key (again after every rotation)
 * and collects their counters.
 */
export class IssuerCluster {
  readonly #config: ThemisConfig;
  readonly #count: number;
  readonly #logger: Logger;
  readonly #keys: KeyStore;
  readonly #metrics: ClusterMetrics;
  readonly #workers = new Set<Worker>();
  #stopping = false;
  #port = 0;
  #unsubscribe: (() => void) | undefined;

  constructor(config: ThemisConfig, logger: Logger, keys: KeyStore, metrics: ClusterMetrics) {
    this.#config = config;
    this.#count = config.servers.issuer.workers;
    this.#logger = logger;
    this.#keys = keys;
    this.#metrics = metrics;
  }

  async start(): Promise<number> {
    cluster.setupPrimary({
      exec: fileURLToPath(new URL('./issuer-worker.ts', import.meta.url)),
      execArgv: ['--import', 'tsx'],
    });
    this.#unsubscribe = this.#keys.onChange(() => this.#broadcast());
    const first = Array.from({ length: this.#count }, () => this.#fork());
    const ports = await Promise.all(first);
    this.#port = ports[0] ?? 0;
    return this.#port;
  }

  #broadcast(): void {
    const msg: PrimaryMessage = { type: 'themis:key', key: wire(this.#keys.active()) };
    for (const w of this.#workers) if (w.isConnected()) w.send(msg);
  }

  #fork(): Promise<number> {
    const ic = this.#config.servers.issuer;
    // a replacement listens on the port the others already share
    const config =
      this.#port === 0
        ? this.#config
        : {
            ...this.#config,
            servers: { ...this.#config.servers, issuer: { ...ic, port: this.#port } },
          };
    const worker = cluster.fork({ [WORKER_CONFIG_ENV]: JSON.stringify(config) });
    this.#workers.add(worker);
    worker.on('message', (m: WorkerMessage) => {
      if (m?.type === 'themis:hello') {
        worker.send({
          type: 'themis:key',
          key: wire(this.#keys.active()),
        } satisfies PrimaryMessage);
      }
      if (m?.type !== 'themis:metrics') return;
      for (const [alg, outcome, n] of m.issued) this.#metrics.issued(alg, outcome, n);
      for (const [t, reason, n] of m.trust) this.#metrics.trust(t, reason, n);
    });
    return new Promise<number>((resolve, reject) => {
      const onMessage = (m: WorkerMessage) => {
        if (m?.type === 'themis:ready') {
          worker.off('message', onMessage);
          resolve(m.port);
        }
      };
      worker.on('message', onMessage);
      worker.once('exit', (code, signal) => {
        this.#workers.delete(worker);
        reject(new Error(`issuer worker exited (${signal ?? code}) before listening`));
        if (this.#stopping) return;
        this.#logger.error(
          { pid: worker.process.pid, code, signal },
          'issuer worker exited; replacing it',
        );
        setTimeout(() => {
          if (!this.#stopping) this.#fork().catch(() => undefined);
        }, 1000).unref();
      });
    });
  }

  /** Disconnects the workers (they finish in-flight requests) and kills any left at the deadline. */
  async stop(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    this.#unsubscribe?.();
    const exits = [...this.#workers].map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.isDead()) return resolve();
          w.once('exit', () => resolve());
          w.disconnect();
        }),
    );
    const timer = setTimeout(() => {
      for (const w of this.#workers) if (!w.isDead()) w.process.kill('SIGKILL');
    }, timeoutMs);
    await Promise.all(exits);
    clearTimeout(timer);
  }
}
