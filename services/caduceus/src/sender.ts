import { isIP } from 'node:net';
import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import { dispatchRequest, formatDuration as formatGoDuration } from '@xmidt/runtime';
import { compileMatcher, matches, type CompiledMatcher, type MatchOptions } from './matcher.js';
import type { CaduceusMetrics } from './metrics.js';
import type { OutboundEvent } from './outbound-event.js';
import { signBody } from './signature.js';
import { normalizeIp, type UrlGuard } from './ssrf-guard.js';
import { goJson, storedToJson, type StoredWebhook } from './webhook.js';

export interface SenderSettings {
  numWorkers: number;
  queueSize: number;
  cutOffPeriodMs: number;
  retries: number;
  retryBaseMs: number;
  retryMaxMs: number;
  match: MatchOptions;
}

export interface SenderDeps {
  settings: SenderSettings;
  /**
   * Carries the request timeouts (`responseHeaderTimeout`: connect, headers and body), so that
   * a delivery does not pass them again.
   */
  dispatcher: Dispatcher;
  metrics: CaduceusMetrics;
  logger: Logger;
  /** When set, literal-IP targets are checked before each connection. */
  guard?: UrlGuard;
}

/** The cut-off notice text, exactly as the original sends it. */
export const CUT_OFF_TEXT =
  'Unfortunately, your endpoint is not able to keep up with the traffic being sent to it.  Due to this circumstance, all notification traffic is being cut off and dropped for a period of time.  Please increase your capacity to handle notifications, or reduce the number of notifications you have requested.';

/** Content types whose deliveries carry the whole WRP as msgpack. */
const WRP_CONTENT_TYPES = new Set(['wrp', 'application/msgpack', 'application/wrp']);

interface Target {
  url: string;
  origin: string;
  path: string;
  /** Set when the target is a literal IP the guard refuses. */
  refused?: string;
}

function target(url: string, guard: UrlGuard | undefined): Target {
  const u = new URL(url);
  const t: Target = { url, origin: u.origin, path: `${u.pathname}${u.search}` };
  const host = normalizeIp(u.hostname);
  if (guard && isIP(host) !== 0) {
    const reason = guard.refuseAddress(host);
    if (reason) t.refused = reason;
  }
  return t;
}

/** One delivery on its way: what every attempt of it sends, and where it is. */
interface Delivery {
  readonly ev: OutboundEvent;
  readonly body: Buffer;
  /** Shared with the other deliveries of the event that use the same secret: read only. */
  readonly headers: string[];
  /** The targets as they were when the delivery started. */
  readonly ring: readonly Target[];
  pos: number;
  attempt: number;
  /** performance.now() at the start. */
  readonly started: number;
}

/** Transport failures in the original's reason vocabulary. */
export function classifyError(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return 'context_deadline_exceeded';
    case 'UND_ERR_ABORTED':
    case 'ABORT_ERR':
      return 'context_canceled';
    case 'ENOTFOUND':
      return 'host_not_found';
    case 'EAI_AGAIN':
      return 'dns_error';
    case 'address_refused':
    case 'EADDRNOTAVAIL':
      return 'invalid_address';
    case 'ECONNREFUSED':
    case 'ECONNRESET':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EPIPE':
      return 'op_error';
    case 'UND_ERR_SOCKET':
      return 'connection_unexpectedly_closed_eof';
    case 'UND_ERR_CLOSED':
    case 'UND_ERR_DESTROYED':
      return 'connection_closed';
    case 'UND_ERR_INVALID_ARG':
      return 'invalid_config';
    default:
      return 'unknown';
  }
}

/**
 * Senders with queued events whose workers were freed by answers: their next deliveries start
 * together, once per turn of the event loop (check phase), instead of one answer at a time.
 * New events still start at once when a worker is free.
 */
let toPump: WebhookSender[] = [];

function pumpAll(): void {
  const batch = toPump;
  toPump = [];
  for (const s of batch) s.resume();
}

/**
 * The outbound side of one webhook: matching, a bounded FIFO queue, at most `numWorkers`
 * concurrent deliveries, retries with capped exponential backoff and jitter, and the cut-off.
 */
export class WebhookSender {
  private record!: StoredWebhook;
  private matcher!: CompiledMatcher;
  /** Whether deliveries carry the whole WRP as msgpack (from `config.content_type`). */
  private wrpBody = true;
  private ring: Target[] = [];
  private ringPos = 0;
  private queue: (OutboundEvent | undefined)[] = [];
  private head = 0;
  private active = 0;
  private dropUntil = 0;
  private closed = false;
  /** Whether this sender waits in `toPump`. */
  private pumpScheduled = false;
  private idleWaiters: (() => void)[] = [];
  readonly url: string;
  private readonly cCutOffDrops: { inc(v?: number): void };
  private readonly counters = new Map<string, { inc(v?: number): void }>();
  private readonly timings = new Map<string, { observe(v: number): void }>();

  constructor(
    record: StoredWebhook,
    private readonly deps: SenderDeps,
  ) {
    this.url = record.webhook.config.url;
    const m = deps.metrics;
    this.cCutOffDrops = m.dropped.labels({ url: this.url, reason: 'cut_off' });
    this.update(record);
    m.workersMax.set({ url: this.url }, deps.settings.numWorkers);
    m.deliveryRetryMax.set({ url: this.url }, deps.settings.retries);
    // queue length and workers are read by the gauges when metrics are collected
    m.watchSender(this.url, this);
  }

  get webhook(): StoredWebhook {
    return this.record;
  }

  get queueLength(): number {
    return this.queue.length - this.head;
  }

  get inFlight(): number {
    return this.active;
  }

  get cutOffUntil(): number {
    return this.dropUntil;
  }

  /** Takes a new version of the registration (same URL). */
  update(record: StoredWebhook): void {
    this.matcher = compileMatcher(record);
    const w = record.webhook;
    this.wrpBody = WRP_CONTENT_TYPES.has(w.config.contentType);
    const urls = w.config.altUrls.length > 0 ? w.config.altUrls : [w.config.url];
    this.ring = urls.map((u) => target(u, this.deps.guard));
    this.ringPos = Math.floor(Math.random() * this.ring.length);
    this.record = record;
    const m = this.deps.metrics;
    m.renewalTime.set({ url: this.url }, Math.floor(Date.now() / 1000));
    m.deliverUntil.set({ url: this.url }, Math.floor(w.untilMs / 1000));
  }

  /** Decides whether the event is for this webhook and queues it (never blocks). */
  offer(ev: OutboundEvent): void {
    if (this.closed) return;
    const now = Date.now();
    const m = this.deps.metrics;
    if (now < this.dropUntil) {
      this.cCutOffDrops.inc();
      return;
    }
    if (now >= this.record.webhook.untilMs) {
      m.dropped.inc({ url: this.url, reason: 'expired_before_queueing' });
      return;
    }
    if (!matches(this.matcher, ev.msg, ev.event, this.deps.settings.match)) return;
    if (this.queueLength >= this.deps.settings.queueSize) {
      this.cutOff();
      m.dropped.inc({ url: this.url, reason: 'queue_full' });
      return;
    }
    this.queue.push(ev);
    this.pump();
  }

  private shift(): OutboundEvent | undefined {
    if (this.head >= this.queue.length) return undefined;
    const ev = this.queue[this.head];
    this.queue[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return ev;
  }

  private dropQueue(reason: string): number {
    const n = this.queueLength;
    this.queue = [];
    this.head = 0;
    if (n > 0) this.deps.metrics.dropped.inc({ url: this.url, reason }, n);
    return n;
  }

  private pump(): void {
    const s = this.deps.settings;
    while (!this.closed && this.active < s.numWorkers && this.queueLength > 0) {
      const ev = this.shift();
      if (!ev) break;
      const now = Date.now();
      if (now < this.dropUntil) {
        this.cCutOffDrops.inc();
        continue;
      }
      if (now > this.record.webhook.untilMs) {
        this.deps.metrics.dropped.inc({ url: this.url, reason: 'expired' });
        this.dropQueue('expired');
        break;
      }
      const start = this.ringPos;
      this.ringPos = (this.ringPos + 1) % this.ring.length;
      this.active++;
      this.deliver(ev, start);
    }
  }

  private done(): void {
    this.active--;
    if (this.queueLength > 0) {
      if (!this.pumpScheduled) {
        this.pumpScheduled = true;
        if (toPump.length === 0) setImmediate(pumpAll);
        toPump.push(this);
      }
      return;
    }
    if (this.active === 0) this.notifyIdle();
  }

  /** Starts the queued deliveries that freed workers can take (once per event-loop turn). */
  resume(): void {
    this.pumpScheduled = false;
    try {
      this.pump();
    } catch (err) {
      this.deps.logger.error({ err, url: this.url }, 'cannot start deliveries');
    }
    if (this.active === 0 && this.queueLength === 0) this.notifyIdle();
  }

  /** The series of the previous delivery: consecutive deliveries usually share them. */
  private lastSeries:
    | {
        url: string;
        reason: string;
        event: string;
        code: string;
        count: { inc(v?: number): void };
        timing: { observe(v: number): void };
      }
    | undefined;

  private countDelivery(url: string, reason: string, event: string, code: string, secs: number) {
    const l = this.lastSeries;
    if (l && l.url === url && l.reason === reason && l.event === event && l.code === code) {
      l.count.inc();
      l.timing.observe(secs);
      return;
    }
    const key = `${url}\u0000${reason}\u0000${event}\u0000${code}`;
    let c = this.counters.get(key);
    if (!c) {
      if (this.counters.size > 1000) this.counters.clear();
      c = this.deps.metrics.delivery.labels({ url, reason, event, code });
      this.counters.set(key, c);
    }
    c.inc();
    const tcode = code === 'message_dropped' ? 'unknown' : code;
    const tkey = `${url}\u0000${tcode}\u0000${reason}`;
    let t = this.timings.get(tkey);
    if (!t) {
      if (this.timings.size > 1000) this.timings.clear();
      t = this.deps.metrics.queryDuration.labels({ url, code: tcode, reason });
      this.timings.set(tkey, t);
    }
    t.observe(secs);
    this.lastSeries = { url, reason, event, code, count: c, timing: t };
  }

  /**
   * Starts one delivery: the body and header list come from the event (built once per body
   * kind and secret), then attempts run callback to callback (no promise chain of its own per
   * delivery); `done()` is called exactly once when the delivery is counted.
   */
  private deliver(ev: OutboundEvent, ringStart: number): void {
    const started = performance.now();
    let job: Delivery;
    try {
      const w = this.record.webhook;
      const body = ev.body(this.wrpBody);
      const headers = ev.deliveryHeaders(this.wrpBody, w.config.secret);
      const ring = this.ring;
      job = { ev, body, headers, ring, pos: ringStart % ring.length, attempt: 0, started };
    } catch (err) {
      // never expected (the event was decoded and checked at intake), but a slot must not leak
      this.deps.logger.error({ err, url: this.url }, 'cannot build delivery');
      this.deps.metrics.dropped.inc({ url: this.url, reason: 'unknown' });
      queueMicrotask(() => this.done());
      return;
    }
    this.attempt(job);
  }

  private attempt(job: Delivery): void {
    const t = job.ring[job.pos] as Target;
    if (t.refused) {
      const err = Object.assign(new Error(`refusing ${t.url}: ${t.refused}`), {
        code: 'address_refused',
      });
      // asynchronously, like any answer: a queue of refused deliveries must not recurse
      queueMicrotask(() => this.settle(job, t, 0, err));
      return;
    }
    dispatchRequest(this.deps.dispatcher, {
      origin: t.origin,
      path: t.path,
      headers: job.headers,
      body: job.body,
    }).then(
      (status) => this.settle(job, t, status, undefined),
      (err: unknown) => this.settle(job, t, 0, err),
    );
  }

  /** One attempt's outcome: retry later (408, 429, 5xx, transport errors) or count it. */
  private settle(job: Delivery, t: Target, status: number, err: unknown): void {
    const { settings, metrics } = this.deps;
    let reason = 'no_err';
    if (err !== undefined) {
      reason = classifyError(err);
      this.deps.logger.debug({ err, url: t.url }, 'delivery attempt failed');
    }
    const ok = status >= 200 && status < 300;
    const retryable = status === 0 || status === 408 || status === 429 || status >= 500;
    if (
      !ok &&
      retryable &&
      job.attempt < settings.retries &&
      !this.closed &&
      reason !== 'invalid_config'
    ) {
      metrics.deliveryRetry.inc({ url: this.url, event: job.ev.eventType });
      const exp = Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** job.attempt);
      const timer = setTimeout(
        () => {
          if (this.closed) {
            this.finish(job, t, status, reason);
            return;
          }
          job.attempt++;
          job.pos = (job.pos + 1) % job.ring.length;
          this.attempt(job);
        },
        exp / 2 + (Math.random() * exp) / 2,
      );
      timer.unref();
      return;
    }
    this.finish(job, t, status, reason);
  }

  private finish(job: Delivery, t: Target, status: number, reason: string): void {
    try {
      const code = status === 0 ? 'message_dropped' : String(status);
      const secs = (performance.now() - job.started) / 1000;
      this.countDelivery(t.url, reason, job.ev.eventType, code, secs);
      if (status === 0) this.deps.metrics.dropped.inc({ url: t.url, reason });
    } catch (err) {
      this.deps.logger.error({ err, url: t.url }, 'cannot count delivery');
    }
    this.done();
  }

  /** Queue overflow: cut the webhook off, drop its queue, tell `failure_url`. */
  private cutOff(): void {
    const now = Date.now();
    if (now < this.dropUntil) return;
    const s = this.deps.settings;
    this.dropUntil = now + s.cutOffPeriodMs;
    const m = this.deps.metrics;
    m.dropUntil.set({ url: this.url }, Math.floor(this.dropUntil / 1000));
    m.cutOff.inc({ url: this.url });
    const dropped = this.dropQueue('cut_off');
    this.deps.logger.warn({ url: this.url, dropped }, 'webhook cut off: queue overflowed');
    const failureUrl = this.record.webhook.failureUrl;
    if (failureUrl === '') return;
    const body = Buffer.from(this.cutOffNotice());
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const secret = this.record.webhook.config.secret;
    if (secret !== '') headers['x-webpa-signature'] = signBody(secret, body);
    void this.postNotice(failureUrl, headers, body);
  }

  /** The notice body: text, the registration (secret masked), period, queue size, workers. */
  cutOffNotice(): string {
    const s = this.deps.settings;
    return goJson({
      text: CUT_OFF_TEXT,
      webhook_registration: storedToJson(this.record, 'XxxxxX', false),
      cut_off_period: formatGoDuration(s.cutOffPeriodMs),
      queue_size: s.queueSize,
      worker_count: s.numWorkers,
    });
  }

  private async postNotice(url: string, headers: Record<string, string>, body: Buffer) {
    try {
      const t = target(url, this.deps.guard);
      if (t.refused) throw new Error(`refusing ${url}: ${t.refused}`);
      const status = await dispatchRequest(this.deps.dispatcher, {
        origin: t.origin,
        path: t.path,
        headers,
        body,
      });
      this.deps.logger.info({ url, status }, 'cut-off notice sent');
    } catch (err) {
      this.deps.logger.error({ err, url }, 'unable to send cut-off notice');
    }
  }

  private notifyIdle(): void {
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const fn of w) fn();
  }

  /** Resolves once nothing is queued or in flight (or after `timeoutMs`). */
  drain(timeoutMs: number): Promise<void> {
    if (this.active === 0 && this.queueLength === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Stops the sender; queued events are dropped with `reason`, in-flight ones finish. */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.dropQueue(reason);
    this.deps.metrics.unwatchSender(this.url, this);
    this.deps.metrics.forgetUrl(this.url);
  }
}
