import { Agent } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
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

interface EndpointResult {
  url: string;
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  error?: string;
  /** ISO 8601 time the request started. */
  started: string;
  durationMs: number;
}

const TEXT = 'text/plain; charset=utf-8';
const EMPTY = Buffer.alloc(0);

class ResponseTooLarge extends Error {
  readonly code = 'fanout_response_too_large';
}

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

/** Reads a response body of at most `max` bytes; a longer one is destroyed (ResponseTooLarge). */
function readBounded(body: Readable, max: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        body.destroy();
        reject(new ResponseTooLarge('response body too large'));
        return;
      }
      chunks.push(chunk);
    });
    body.once('error', reject);
    body.once('end', () => {
      if (chunks.length === 0) resolve(EMPTY);
      else if (chunks.length === 1) resolve(chunks[0] as Buffer);
      else resolve(Buffer.concat(chunks, size));
    });
  });
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
    const stopTimer = metrics?.fanoutDuration.startTimer();
    try {
      const res = await this.#race(urls, req);
      stopTimer?.({ code: String(res.status) });
      return res;
    } finally {
      this.#inFlight--;
      metrics?.fanoutInFlight.dec();
    }
  }

  /**
   * One AbortController and at most two timers per fan-out, whatever the number of endpoints:
   * the client timeout starts with the fan-out, so one timer covers every endpoint request, and
   * the controller is aborted only when something is still outstanding (losers, timeouts). A
   * successful single-endpoint fan-out never aborts (an abort builds an exception and runs
   * every listener, which cost more than the rest of the round trip's fan-out work).
   */
  #race(urls: readonly string[], req: OutboundRequest): Promise<FanoutResponse> {
    const all = new AbortController();
    const headers: Record<string, string> = { ...req.headers };
    if (this.#opts.authorization) headers.authorization = this.#opts.authorization;
    const { fanoutTimeoutMs, clientTimeoutMs } = this.#opts;
    return new Promise<FanoutResponse>((resolve) => {
      let settled = false;
      let pending = urls.length;
      let best: EndpointResult | undefined;
      const spans: string[] = [];
      const errors: string[] = [];
      const finish = (res: FanoutResponse): void => {
        settled = true;
        clearTimeout(timer);
        if (clientTimer !== undefined) clearTimeout(clientTimer);
        // cancel whatever is still outstanding (losers, hung endpoints)
        if (pending > 0) all.abort(SETTLED);
        if (spans.length) res.headers['x-xmidt-span'] = spans;
        if (errors.length) res.headers['x-xmidt-error'] = errors;
        resolve(res);
      };
      const timer = setTimeout(() => {
        if (settled) return;
        // nothing below 400 in time: the timeout answer wins, empty body
        finish({ status: 504, headers: {}, body: EMPTY, reason: 'timeout' });
      }, fanoutTimeoutMs);
      // every endpoint request started now: their common deadline; each counts as 504
      const clientTimer =
        clientTimeoutMs < fanoutTimeoutMs
          ? setTimeout(() => {
              if (!settled && pending > 0) all.abort(clientTimeoutReason());
            }, clientTimeoutMs)
          : undefined;
      for (const url of urls) {
        void this.#one(url, req, headers, all.signal).then((r) => {
          this.#opts.metrics?.endpointRequests.labels(String(r.status)).inc();
          if (settled) return;
          spans.push(`${quote(r.url)},${quote(r.started)},${quote(`${r.durationMs}ms`)}`);
          if (r.error !== undefined) errors.push(`${quote(r.url)},,${quote(r.error)}`);
          pending--;
          if (r.status < 400) {
            finish({ status: r.status, headers: passThrough(r), body: r.body });
            return;
          }
          if (!best || r.status > best.status) best = r;
          if (pending === 0)
            finish({ status: best.status, headers: passThrough(best), body: best.body });
        });
      }
    });
  }

  async #one(
    url: string,
    req: OutboundRequest,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<EndpointResult> {
    const started = new Date().toISOString();
    const t0 = performance.now();
    try {
      const res = await this.#agent.request({
        origin: url,
        path: req.path,
        method: req.method,
        headers,
        body: req.body ?? null,
        signal,
      });
      const body = await readBounded(res.body, this.#opts.maxResponseBytes);
      return {
        url,
        status: res.statusCode,
        headers: res.headers,
        body,
        started,
        durationMs: Math.round(performance.now() - t0),
      };
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      const code = (err as { code?: unknown } | null)?.code;
      const timedOut =
        signal.aborted ||
        code === 'UND_ERR_HEADERS_TIMEOUT' ||
        code === 'UND_ERR_BODY_TIMEOUT' ||
        code === 'UND_ERR_CONNECT_TIMEOUT';
      const status = err instanceof ResponseTooLarge ? 502 : timedOut ? 504 : 503;
      return {
        url,
        status,
        headers: { 'content-type': TEXT },
        body: Buffer.from(`${url}: ${text}`),
        error: text,
        started,
        durationMs: Math.round(performance.now() - t0),
      };
    }
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}
