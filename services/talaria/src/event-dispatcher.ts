import { Pool, type Dispatcher } from 'undici';
import type { Logger } from 'pino';
import { dispatchRequest } from '@xmidt/runtime';
import type { TalariaMetrics } from './metrics.js';

export interface OutboundConfig {
  method: string;
  retries: number;
  retryBackoffMs: number;
  maxRetryBackoffMs: number;
  eventEndpoints: Record<string, string | string[]>;
  requestTimeoutMs: number;
  clientTimeoutMs: number;
  outboundQueueSize: number;
  workerPoolSize: number;
  maxConnectionsPerHost: number;
  authKey: string;
  defaultScheme: string;
  allowedSchemes: string[];
}

/** Where one event goes: the pool key and the request path, parsed once per endpoint. */
interface Target {
  origin: string;
  path: string;
}

interface Job {
  target: Target;
  body: Buffer;
  scheme: string;
  deadline: number;
}

/** A labelled child of a counter or histogram, kept so the hot path does not hash labels. */
interface Inc {
  inc(): void;
}
interface Observe {
  observe(v: number): void;
}

/** Response bytes read before the connection is dropped (the body is discarded). */
const MAX_RESPONSE_BYTES = 64 * 1024;

const RETRY_STATUS = (s: number): boolean => s === 408 || s === 429 || s >= 500;

function transportReason(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  switch (code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'context_deadline_exceeded';
    case 'ENOTFOUND':
      return 'host_not_found';
    case 'EAI_AGAIN':
      return 'dns_error';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return 'connection_closed';
    case 'ECONNREFUSED':
      return 'op_error';
    default:
      return 'unknown';
  }
}

/**
 * Forwards device events and status events to their HTTP endpoints (Caduceus): msgpack POSTs
 * from a bounded queue served by a pool of workers, with capped exponential backoff retries.
 * Enqueueing never blocks; every drop is counted in `outbound_dropped_messages`.
 */
export class EventDispatcher {
  private readonly queue: Job[] = [];
  private head = 0;
  private readonly idle: Array<() => void> = [];
  private readonly pools = new Map<string, Pool>();
  /** Event type -> targets; `undefined` stands for an endpoint that is not a URL. */
  private readonly endpoints = new Map<string, (Target | undefined)[]>();
  private readonly headers: string[];
  private readonly labelled = new Map<string, Inc | Observe>();
  private workers: Promise<void>[] = [];
  private stopped = false;
  private readonly sleepers = new Set<() => void>();

  constructor(
    private readonly cfg: OutboundConfig,
    private readonly metrics: TalariaMetrics,
    private readonly logger: Logger,
  ) {
    for (const [k, v] of Object.entries(cfg.eventEndpoints)) {
      const urls = (Array.isArray(v) ? v : [v]).filter((u) => u !== '');
      this.endpoints.set(k.toLowerCase(), urls.map(parseTarget));
    }
    this.headers = ['content-type', 'application/msgpack'];
    if (cfg.authKey) this.headers.push('authorization', `Basic ${cfg.authKey}`);
  }

  get queueLength(): number {
    return this.queue.length - this.head;
  }

  start(): void {
    for (let i = 0; i < this.cfg.workerPoolSize; i++) this.workers.push(this.worker());
  }

  /** Stops after sending what is queued, waiting at most `flushMs`. */
  async stop(flushMs = 2000): Promise<void> {
    const deadline = Date.now() + flushMs;
    while (this.queueLength > 0 && Date.now() < deadline) await delay(20);
    this.stopped = true;
    for (const wake of this.idle.splice(0)) wake();
    for (const wake of this.sleepers) wake();
    await Promise.race([
      Promise.all(this.workers),
      delay(Math.max(0, deadline - Date.now()) + 100),
    ]);
    for (const job of this.queue.slice(this.head))
      this.drop(job.scheme, 'message_dropped', 'context_canceled');
    this.queue.length = 0;
    this.head = 0;
    await Promise.allSettled([...this.pools.values()].map((p) => p.destroy()));
    this.pools.clear();
  }

  /**
   * Routes a device message (or status event) by its `dest` locator. `body` makes the msgpack
   * bytes; it runs once, and only when there is somewhere to send them.
   */
  dispatch(dest: string, body: () => Buffer): void {
    const colon = dest.indexOf(':');
    const scheme = colon > 0 ? dest.slice(0, colon).toLowerCase() : '';
    const rest = colon > 0 ? dest.slice(colon + 1) : '';
    if (scheme === 'event') {
      const slash = rest.indexOf('/');
      const type = (slash >= 0 ? rest.slice(0, slash) : rest).toLowerCase();
      const urls = this.endpoints.get(type) ?? this.endpoints.get('default');
      if (!urls || urls.length === 0) {
        this.drop('event', 'message_dropped', 'no_endpoint_configured_for_event');
        return;
      }
      let bytes: Buffer | undefined;
      for (const t of urls) {
        if (t) this.enqueueTarget(t, (bytes ??= body()), 'event');
        else this.drop('event', 'message_dropped', 'malformed_http_request');
      }
      return;
    }
    if (scheme === 'dns') {
      const target = rest.includes('://') ? rest : `${this.cfg.defaultScheme}://${rest}`;
      let url: URL;
      try {
        url = new URL(target);
      } catch {
        this.drop('dns', 'message_dropped', 'invalid_address');
        return;
      }
      const proto = url.protocol.slice(0, -1);
      if (!this.cfg.allowedSchemes.includes(proto)) {
        this.drop('dns', 'message_dropped', 'url_scheme_not_allowed');
        return;
      }
      this.enqueueTarget({ origin: url.origin, path: url.pathname + url.search }, body(), 'dns');
      return;
    }
    this.drop('unknown', 'message_dropped', 'unroutable_destination');
  }

  private enqueueTarget(target: Target, body: Buffer, scheme: string): void {
    if (this.stopped || this.queueLength >= this.cfg.outboundQueueSize) {
      this.drop(scheme, 'message_dropped', 'full outbound queue');
      return;
    }
    this.queue.push({ target, body, scheme, deadline: Date.now() + this.cfg.requestTimeoutMs });
    this.metrics.outboundQueueSize.set(this.queueLength);
    this.idle.pop()?.();
  }

  private drop(scheme: string, code: string, reason: string): void {
    this.metrics.outboundDropped.inc({ scheme, code, reason });
    this.total(scheme, reason, 'failure').inc();
  }

  /** The labelled child of a metric, cached (label values come from small fixed sets). */
  private child<T extends Inc | Observe>(key: string, make: () => T): T {
    let c = this.labelled.get(key) as T | undefined;
    if (!c) {
      if (this.labelled.size > 1000) this.labelled.clear();
      c = make();
      this.labelled.set(key, c);
    }
    return c;
  }

  private total(scheme: string, reason: string, outcome: string): Inc {
    return this.child(`t\0${scheme}\0${reason}\0${outcome}`, () =>
      this.metrics.totalOutboundEvents.labels({ scheme, reason, outcome }),
    );
  }

  private take(): Job | undefined {
    if (this.head >= this.queue.length) return undefined;
    const job = this.queue[this.head] as Job;
    this.queue[this.head] = undefined as unknown as Job;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.metrics.outboundQueueSize.set(this.queueLength);
    return job;
  }

  private async worker(): Promise<void> {
    while (!this.stopped) {
      const job = this.take();
      if (!job) {
        await new Promise<void>((resolve) => this.idle.push(resolve));
        continue;
      }
      try {
        await this.deliver(job);
      } catch (err) {
        this.logger.error({ err }, 'outbound delivery failed unexpectedly');
        this.drop(job.scheme, 'message_dropped', 'panic');
      }
    }
  }

  private pool(origin: string): Pool {
    let p = this.pools.get(origin);
    if (!p) {
      p = new Pool(origin, {
        connections: this.cfg.maxConnectionsPerHost,
        keepAliveTimeout: 60_000,
        headersTimeout: this.cfg.clientTimeoutMs,
        bodyTimeout: this.cfg.clientTimeoutMs,
      });
      this.pools.set(origin, p);
    }
    return p;
  }

  private async deliver(job: Job): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (Date.now() > job.deadline) {
        this.drop(job.scheme, 'message_dropped', 'context_deadline_exceeded');
        return;
      }
      const started = process.hrtime.bigint();
      let status = 0;
      let reason: string;
      this.metrics.outboundInflight.inc();
      try {
        status = await dispatchRequest(this.pool(job.target.origin), {
          path: job.target.path,
          method: this.cfg.method as Dispatcher.HttpMethod,
          headers: this.headers,
          body: job.body,
          maxResponseBytes: MAX_RESPONSE_BYTES,
        });
        reason = status >= 200 && status < 300 ? 'no_err' : 'non202';
      } catch (err) {
        reason = transportReason(err);
      } finally {
        this.metrics.outboundInflight.dec();
      }
      const code = status ? String(status) : 'message_dropped';
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const labels = `${job.scheme}\0${code}\0${reason}`;
      this.child(`r\0${labels}`, () =>
        this.metrics.outboundRequests.labels({ scheme: job.scheme, code, reason }),
      ).inc();
      this.child(`d\0${labels}`, () =>
        this.metrics.outboundRequestDuration.labels({ scheme: job.scheme, code, reason }),
      ).observe(seconds);
      if (reason === 'no_err') {
        this.total(job.scheme, reason, 'success').inc();
        return;
      }
      const retryable = status === 0 || RETRY_STATUS(status);
      if (!retryable || attempt >= this.cfg.retries || this.stopped) {
        this.drop(job.scheme, code, reason);
        return;
      }
      const base = Math.min(this.cfg.retryBackoffMs * 2 ** attempt, this.cfg.maxRetryBackoffMs);
      const wait = base / 2 + Math.random() * (base / 2);
      if (Date.now() + wait > job.deadline) {
        this.drop(job.scheme, code, 'context_deadline_exceeded');
        return;
      }
      this.metrics.outboundRetries.inc();
      await this.sleep(wait);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.sleepers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }
}

function parseTarget(u: string): Target | undefined {
  try {
    const url = new URL(u);
    return { origin: url.origin, path: url.pathname + url.search };
  } catch {
    return undefined;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
