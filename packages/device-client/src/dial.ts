import WebSocket from 'ws';

/** TLS settings for wss connections (Parodus: `--ssl-cert-path`, mTLS cert and key). */
export interface DialTls {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Verify the server certificate and host name (default true). */
  rejectUnauthorized?: boolean;
}

export interface DialOptions {
  headers: Record<string, string>;
  handshakeTimeoutMs: number;
  maxPayload: number;
  tls?: DialTls;
  family?: 4 | 6;
  /**
   * Called synchronously when the socket opens, before any message can be emitted: attach
   * message, ping and close handlers here.
   */
  onOpen?: (ws: WebSocket) => void;
  /** Aborting gives up the handshake at once. */
  signal?: AbortSignal;
}

export type DialResult =
  { ok: true; ws: WebSocket } | { ok: false; reason: string; status?: number; location?: string };

function failureReason(err: Error | undefined): string {
  if (err === undefined) return 'closed';
  const code = (err as { code?: unknown }).code;
  if (code === 'ECONNREFUSED') return 'connect_refused';
  if (code === 'ECONNRESET') return 'connect_reset';
  if (code === 'ETIMEDOUT' || /timed out/i.test(err.message)) return 'handshake_timeout';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'dns';
  if (typeof code === 'string' && code.startsWith('ERR_TLS')) return 'tls';
  if (typeof code === 'string' && /CERT|SSL/.test(code)) return 'tls';
  return 'network';
}

/**
 * One websocket opening handshake. Resolves with the open socket, or with why it failed: the
 * HTTP status and `Location` of a non-101 answer, or a network reason. Never rejects.
 */
export function dial(url: URL, options: DialOptions): Promise<DialResult> {
  return new Promise((resolve) => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, {
        headers: options.headers,
        handshakeTimeout: options.handshakeTimeoutMs,
        maxPayload: options.maxPayload,
        perMessageDeflate: false,
        followRedirects: false,
        ...(options.family !== undefined ? { family: options.family } : {}),
        ...(options.tls ?? {}),
      });
    } catch {
      resolve({ ok: false, reason: 'invalid_url' });
      return;
    }
    ws.binaryType = 'nodebuffer';
    const signal = options.signal;
    const onAbort = (): void => ws.terminate();
    if (signal !== undefined) {
      if (signal.aborted) queueMicrotask(onAbort);
      else signal.addEventListener('abort', onAbort, { once: true });
    }
    let status: number | undefined;
    let location: string | undefined;
    let error: Error | undefined;
    const onOpen = (): void => {
      signal?.removeEventListener('abort', onAbort);
      ws.off('unexpected-response', onUnexpected);
      ws.off('error', onError);
      ws.off('close', onClose);
      options.onOpen?.(ws);
      resolve({ ok: true, ws });
    };
    const onUnexpected = (
      _req: unknown,
      res: {
        statusCode?: number;
        headers: Record<string, string | string[] | undefined>;
        resume(): void;
      },
    ): void => {
      status = res.statusCode ?? 0;
      const loc = res.headers['location'];
      location = Array.isArray(loc) ? loc[0] : loc;
      res.resume();
      ws.terminate();
    };
    const onError = (err: Error): void => {
      error ??= err;
    };
    const onClose = (): void => {
      signal?.removeEventListener('abort', onAbort);
      ws.off('open', onOpen);
      if (signal?.aborted === true) {
        resolve({ ok: false, reason: 'aborted' });
        return;
      }
      if (status !== undefined) {
        resolve({
          ok: false,
          reason: `http_${status}`,
          status,
          ...(location !== undefined ? { location } : {}),
        });
      } else {
        resolve({ ok: false, reason: failureReason(error) });
      }
    };
    ws.once('open', onOpen);
    ws.on('unexpected-response', onUnexpected);
    ws.on('error', onError);
    ws.once('close', onClose);
  });
}
