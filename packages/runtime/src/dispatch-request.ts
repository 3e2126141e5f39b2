import type { Dispatcher } from 'undici';

export interface DispatchRequestOptions {
  /** Needed unless the dispatcher is a Pool or Client of one origin. */
  origin?: string;
  path: string;
  /** Default POST. */
  method?: Dispatcher.HttpMethod;
  headers: string[] | Record<string, string>;
  body: Buffer;
  /** Header and body timeouts; default: the dispatcher's own. */
  timeoutMs?: number;
  /** Response bytes read before the connection is dropped (the body is discarded). */
  maxResponseBytes?: number;
}

class ResponseTooLarge extends Error {
  readonly code = 'response_too_large';
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
    let status = 0;
    let read = 0;
    let tooLarge = false;
    let abort: ((err?: Error) => void) | undefined;
    dispatcher.dispatch(
      {
        ...(opts.origin === undefined ? {} : { origin: opts.origin }),
        path: opts.path,
        method: opts.method ?? 'POST',
        headers: opts.headers,
        body: opts.body,
        ...(opts.timeoutMs === undefined
          ? {}
          : { headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs }),
      },
      {
        // the classic handler interface: what every undici 7 dispatcher accepts
        onConnect(abortFn) {
          abort = abortFn;
        },
        onHeaders(statusCode) {
          status = statusCode;
          return true;
        },
        onData(chunk) {
          read += chunk.length;
          if (read > limit) {
            tooLarge = true;
            abort?.(new ResponseTooLarge('response body too large'));
            return false;
          }
          return true;
        },
        onComplete() {
          resolve(status);
        },
        onError(err) {
          // the answer is known even when its body is cut short
          if (tooLarge && status !== 0) resolve(status);
          else reject(err);
        },
      },
    );
  });
}
