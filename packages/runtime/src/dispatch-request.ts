import type { Dispatcher } from 'undici';

export interface DispatchRequestOptions {
  /** Needed unless the dispatcher is a Pool or Client of one origin. */
  origin?: string;
  path: string;
  /** Default POST. */
  method?: Dispatcher.HttpMethod;
  headers: string[] | Record<string, string>;
  body: Buffer;
  /** Response bytes read before the connection is dropped (the body is discarded). */
  maxResponseBytes?: number;
}

class ResponseTooLarge extends Error {
  readonly code = 'response_too_large';
}

/**
 * The dispatch handler of one request: keeps the status, counts and discards the body. A class
 * (one object per request, methods on the prototype) rather than five closures.
 */
class StatusOnly implements Dispatcher.DispatchHandler {
  private status = 0;
  private read = 0;
  private tooLarge = false;
  private abort: ((err?: Error) => void) | undefined;

  constructor(
    private readonly limit: number,
    private readonly resolve: (status: number) => void,
    private readonly reject: (err: Error) => void,
  ) {}

  // the classic handler interface: what every undici 7 dispatcher accepts
  onConnect(abort: (err?: Error) => void): void {
    this.abort = abort;
  }

  onHeaders(statusCode: number): boolean {
    this.status = statusCode;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.read += chunk.length;
    if (this.read > this.limit) {
      this.tooLarge = true;
      this.abort?.(new ResponseTooLarge('response body too large'));
      return false;
    }
    return true;
  }

  onComplete(): void {
    this.resolve(this.status);
  }

  onError(err: Error): void {
    // the answer is known even when its body is cut short
    if (this.tooLarge && this.status !== 0) this.resolve(this.status);
    else this.reject(err);
  }
}

/**
 * One request (a POST by default) through an undici dispatcher, resolving with the status
 * code once the response has been read and discarded: the dispatch handler API, so no body
 * stream is made per response. An answer longer than `maxResponseBytes` is cut short but its
 * status still counts. Rejects with the transport error (undici error codes).
 */
export function dispatchRequest(
  dispatcher: Dispatcher,
  opts: DispatchRequestOptions,
): Promise<number> {
  const limit = opts.maxResponseBytes ?? 64 * 1024;
  return new Promise<number>((resolve, reject) => {
    // One fixed shape for every call (an absent origin stays undefined: a Pool or Client uses
    // its own), so undici's reads of it stay monomorphic. Timeouts are the dispatcher's.
    dispatcher.dispatch(
      {
        origin: opts.origin,
        path: opts.path,
        method: opts.method ?? 'POST',
        headers: opts.headers,
        body: opts.body,
      },
      new StatusOnly(limit, resolve, reject),
    );
  });
}
