import { Agent } from 'undici';
import { EndpointCall } from './endpoint-call.js';
import type { EndpointResult } from './endpoint-call.js';
import type { ScytaleMetrics } from './metrics.js';

export interface FanoutOptions {
  /** Deadline of the whole fan-out; 504 with an empty body when nothing succeeded by then. */
  fanoutTimeoutMs: number;
  /** Deadline of each request to an endpoint; a request timing out counts as 504. */
  clientTimeoutMs: number;
  /** Fan-outs in progress at once; beyond that send() answers 503 at once. */
  concurrency: number;
  /** Largest response body read from an endpoint. */
  maxResponseBytes: number;
  /** Keep-alive connections per endpoint origin. */
  connectionsPerHost: number;
  /** Value of the Authorization header sent to every endpoint (caller credentials never are). */
  authorization?: string;
  metrics?: ScytaleMetrics;
}

export interface OutboundRequest {
  method: 'GET' | 'POST';
  /** Path and query, e.g. `/api/v2/device/send`. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface FanoutResponse {
  status: number;
  /** Headers for the caller: the winner's X-* headers and Content-Type, plus X-Xmidt-Span/-Error. */
  headers: Record<string, string | string[]>;
  body: Buffer;
  /** Why no endpoint answered, when the status is Scytale's own (busy, timeout). */
  reason?: 'busy' | 'timeout';
}

const TEXT = 'text/plain; charset=utf-8';
const EMPTY = Buffer.alloc(0);

/** The caller's view of an endpoint's answer: status, body, Content-Type and X-* headers. */
function passThrough(r: EndpointResult): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(r.headers)) {
    if (value !== undefined && name.startsWith('x-')) out[name] = value;
  }
  const ct = r.headers['content-type'];
  if (ct) out['content-type'] = ct;
  else if (r.body.length > 0) out['content-type'] = 'application/octet-stream';
  return out;
}

const NEEDS_ESCAPE = /["\\\r\n]/;

function quote(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  return `"${s.replace(/["\\]/g, '\\$&').replace(/[\r\n]/g, ' ')}"`;
}

/** Why the losers of a settled fan-out are cancelled (their results are ignored). */
const SETTLED = new Error('fan-out settled');

/** The reason endpoint requests still outstanding at the client timeout are aborted with. */
function clientTimeoutReason(): Error {
  return new DOMException('The operation was aborted due to timeout', 'TimeoutError');
}

/**
 * Sends one request to several endpoints at once (one Talaria per datacenter). The first answer
 * below 400 wins at once and the others are cancelled; otherwise the highest status wins (the
 * first received among equals). Transport failures count as 503, timeouts as 504.
 */
export class Fanout {
  readonly #agent: Agent;
  readonly #opts: FanoutOptions;
  #inFlight = 0;

  constructor(opts: FanoutOptions) {
    this.#opts = opts;
    this.#agent = new Agent({
      connections: opts.connectionsPerHost,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 120_000,
      headersTimeout: opts.clientTimeoutMs,
      bodyTimeout: opts.clientTimeoutMs,
      connect: { timeout: Math.min(opts.clientTimeoutMs, 10_000) },
    });
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  async send(urls: readonly string[], req: OutboundRequest): Promise<FanoutResponse> {
    const metrics = this.#opts.metrics;
    if (urls.length === 0) {
      return {
        status: 500,
        headers: { 'content-type': TEXT, 'x-xmidt-error': 'no fanout URLs' },
        body: EMPTY,
      };
    }
    if (this.#inFlight >= this.#opts.concurrency) {
      metrics?.fanoutRejected.inc();
      return {
        status: 503,
        headers: { 'content-type': TEXT, 'x-xmidt-error': 'fanout concurrency limit reached' },
        body: EMPTY,
        reason: 'busy',
      };
    }
    this.#inFlight++;
    metrics?.fanoutInFlight.inc();
    const started = metrics ? performance.now() : 0;
    try {
      const res = await this.#race(urls, req);
      metrics?.fanoutDuration.observe(codeLabels(res.status), (performance.now() - started) / 1000);
      return res;
    } finally {
      this.#inFlight--;
      metrics?.fanoutInFlight.dec();
    }
  }

  /**
   * At most two timers per fan-out, whatever the number of endpoints: the client timeout starts
   * with the fan-out, so one timer covers every endpoint request. Requests go through undici's
   * dispatch interface (EndpointCall): no AbortController or response stream per request, and
   * only what is still outstanding is cancelled (losers, timeouts).
   */
  #race(urls: readonly string[], req: OutboundRequest): Promise<FanoutResponse> {
    const headers: Record<string, string> = { ...req.headers };
    if (this.#opts.authorization) headers.authorization = this.#opts.authorization;
    const { fanoutTimeoutMs, clientTimeoutMs, maxResponseBytes } = this.#opts;
    const calls = urls.map((url) => new EndpointCall(url, maxResponseBytes));
    return new Promise<FanoutResponse>((resolve) => {
      const race = new Race(calls, resolve, this.#opts.metrics);
      race.timer = setTimeout(onFanoutTimeout, fanoutTimeoutMs, race);
      // every endpoint request started now: their common deadline; each counts as 504
      if (clientTimeoutMs < fanoutTimeoutMs)
        race.clientTimer = setTimeout(onClientTimeout, clientTimeoutMs, race);
      for (const call of calls) {
        void call.result.then((r) => race.onResult(r));
        try {
          this.#agent.dispatch(
            {
              origin: call.url,
              path: req.path,
              method: req.method,
              headers,
              body: req.body ?? null,
            },
            call,
          );
        } catch (err) {
          call.onResponseError(undefined, err instanceof Error ? err : new Error(String(err)));
        }
      }
    });
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

/** Label objects by status code (a handful), so an observation does not allocate one. */
const CODE_LABELS = new Map<number, { code: string }>();

function codeLabels(status: number): { code: string } {
  let l = CODE_LABELS.get(status);
  if (!l) {
    l = { code: String(status) };
    if (CODE_LABELS.size < 64) CODE_LABELS.set(status, l);
  }
  return l;
}

/** Counter children by status code for the endpoint answers. */
const endpointCounters = new WeakMap<ScytaleMetrics, Map<number, { inc(): void }>>();

function countEndpointAnswer(metrics: ScytaleMetrics, status: number): void {
  let byCode = endpointCounters.get(metrics);
  if (!byCode) {
    byCode = new Map();
    endpointCounters.set(metrics, byCode);
  }
  let c = byCode.get(status);
  if (!c) {
    c = metrics.endpointRequests.labels(String(status));
    if (byCode.size < 64) byCode.set(status, c);
  }
  c.inc();
}

/**
 * The state of one fan-out: the first answer below 400 wins at once; otherwise the highest
 * status once every endpoint has answered; the fan-out timeout answers 504. At most two timers,
 * whatever the number of endpoints: the client timeout starts with the fan-out, so one timer
 * covers every endpoint request. An object with methods rather than closures per fan-out.
 */
class Race {
  settled = false;
  pending: number;
  best: EndpointResult | undefined;
  readonly spans: string[] = [];
  readonly errors: string[] = [];
  timer: NodeJS.Timeout | undefined;
  clientTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly calls: EndpointCall[],
    private readonly resolve: (res: FanoutResponse) => void,
    private readonly metrics: ScytaleMetrics | undefined,
  ) {
    this.pending = calls.length;
  }

  cancel(reason: Error, timedOut: boolean): void {
    for (const c of this.calls) c.abort(reason, timedOut);
  }

  finish(res: FanoutResponse): void {
    this.settled = true;
    clearTimeout(this.timer);
    if (this.clientTimer !== undefined) clearTimeout(this.clientTimer);
    // cancel whatever is still outstanding (losers, hung endpoints)
    if (this.pending > 0) this.cancel(SETTLED, false);
    if (this.spans.length) res.headers['x-xmidt-span'] = this.spans;
    if (this.errors.length) res.headers['x-xmidt-error'] = this.errors;
    this.resolve(res);
  }

  onResult(r: EndpointResult): void {
    if (this.metrics) countEndpointAnswer(this.metrics, r.status);
    if (this.settled) return;
    this.spans.push(`${quote(r.url)},${quote(r.started)},${quote(`${r.durationMs}ms`)}`);
    if (r.error !== undefined) this.errors.push(`${quote(r.url)},,${quote(r.error)}`);
    this.pending--;
    if (r.status < 400) {
      this.finish({ status: r.status, headers: passThrough(r), body: r.body });
      return;
    }
    const best = !this.best || r.status > this.best.status ? r : this.best;
    this.best = best;
    if (this.pending === 0)
      this.finish({ status: best.status, headers: passThrough(best), body: best.body });
  }
}

function onFanoutTimeout(race: Race): void {
  if (race.settled) return;
  // nothing below 400 in time: the timeout answer wins, empty body
  race.finish({ status: 504, headers: {}, body: EMPTY, reason: 'timeout' });
}

function onClientTimeout(race: Race): void {
  if (!race.settled) race.cancel(clientTimeoutReason(), true);
}
