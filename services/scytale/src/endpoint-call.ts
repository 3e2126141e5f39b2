import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';

/** One endpoint's answer, or Scytale's own status for a failure (503, 504, 502). */
export interface EndpointResult {
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

export class ResponseTooLarge extends Error {
  readonly code = 'fanout_response_too_large';
}

/** Errors of undici's own deadlines (connect, headers, body): the request timed out. */
const TIMEOUT_CODES: ReadonlySet<unknown> = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * One request to one endpoint, driven through undici's dispatch interface: the answer is
 * collected straight from the parser's callbacks (no response stream, no AbortSignal), bounded
 * by `maxBytes`. `result` settles exactly once: with the answer, with the failure, or at once
 * when `abort` is called (the request is then cancelled on its connection, or as soon as it gets
 * one when it is still queued).
 */
export class EndpointCall implements Dispatcher.DispatchHandler {
  readonly result: Promise<EndpointResult>;
  #resolve!: (r: EndpointResult) => void;
  #controller: Dispatcher.DispatchController | undefined;
  #abortReason: Error | undefined;
  #done = false;
  #status = 0;
  #headers: IncomingHttpHeaders = {};
  #chunks: Buffer[] = [];
  #size = 0;
  readonly #started = new Date().toISOString();
  readonly #t0 = performance.now();

  constructor(
    readonly url: string,
    private readonly maxBytes: number,
  ) {
    this.result = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  get done(): boolean {
    return this.#done;
  }

  /** Cancels the request; its result is `reason` as a failure (504 when `timedOut`). */
  abort(reason: Error, timedOut: boolean): void {
    if (this.#done) return;
    this.#abortReason = reason;
    // settle first: undici reports the abort back through onResponseError synchronously
    this.#fail(reason, timedOut);
    this.#controller?.abort(reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#abortReason) controller.abort(this.#abortReason);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
  ): void {
    this.#status = statusCode;
    this.#headers = headers;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#done) return;
    this.#size += chunk.length;
    if (this.#size > this.maxBytes) {
      const err = new ResponseTooLarge('response body too large');
      this.#fail(err, false);
      controller.abort(err);
      return;
    }
    this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.#done) return;
    this.#done = true;
    const chunks = this.#chunks;
    const body =
      chunks.length === 0
        ? EMPTY
        : chunks.length === 1
          ? (chunks[0] as Buffer)
          : Buffer.concat(chunks, this.#size);
    this.#resolve(this.#finish(this.#status, this.#headers, body));
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, err: Error): void {
    const code = (err as { code?: unknown }).code;
    this.#fail(err, TIMEOUT_CODES.has(code));
  }

  #fail(err: Error, timedOut: boolean): void {
    if (this.#done) return;
    this.#done = true;
    this.#chunks = [];
    const text = err.message;
    const status = err instanceof ResponseTooLarge ? 502 : timedOut ? 504 : 503;
    this.#resolve(
      this.#finish(status, { 'content-type': TEXT }, Buffer.from(`${this.url}: ${text}`), text),
    );
  }

  #finish(
    status: number,
    headers: IncomingHttpHeaders,
    body: Buffer,
    error?: string,
  ): EndpointResult {
    const r: EndpointResult = {
      url: this.url,
      status,
      headers,
      body,
      started: this.#started,
      durationMs: Math.round(performance.now() - this.#t0),
    };
    if (error !== undefined) r.error = error;
    return r;
  }
}
