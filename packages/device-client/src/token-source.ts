import { randomUUID } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { DEFAULT_WEBPA_PROTOCOL, macDigits, type DeviceInfo } from './device-info.js';
import { DeviceClientError } from './errors.js';

/** Where and how to fetch the device token (Themis `GET /issue`). */
export interface TokenOptions {
  /** Token server URL, e.g. `https://themis:6501/issue` (Parodus `--token-server-url`). */
  url: string;
  /** PEM client certificate (Parodus `--client-cert-path`: one file with cert and key). */
  cert?: string | Buffer;
  /** PEM private key; defaults to `cert` (a combined file). */
  key?: string | Buffer;
  /** PEM CA bundle (`--ssl-cert-path`); system CAs when absent. */
  ca?: string | Buffer;
  /** Per-request timeout, ms (Parodus: 25 s). */
  timeoutMs?: number;
  /** Attempts per fetch before going on without a token (Parodus: 3). */
  attempts?: number;
  /** Largest accepted token body in bytes (default 8192). */
  maxBytes?: number;
  /** Refetch once this fraction of the token's lifetime (iat..exp) has passed (default 0.9). */
  refreshFraction?: number;
}

export interface Token {
  value: string;
  /** When to fetch a new one (ms since epoch); Infinity when the token carries no `exp`. */
  refreshAt: number;
}

export type TokenFetchResult = { ok: true; token: Token } | { ok: false; reason: string };

/** Reads `iat`/`exp` from a JWT without verifying it (the device only needs to know when to refetch). */
export function tokenRefreshAt(jwt: string, fetchedAt: number, fraction = 0.9): number {
  const part = jwt.split('.')[1];
  if (part === undefined) return Infinity;
  try {
    const claims: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (typeof claims !== 'object' || claims === null) return Infinity;
    const { exp, iat } = claims as { exp?: unknown; iat?: unknown };
    if (typeof exp !== 'number' || !Number.isFinite(exp)) return Infinity;
    const expMs = exp * 1000;
    const startMs = typeof iat === 'number' && Number.isFinite(iat) ? iat * 1000 : fetchedAt;
    return startMs + Math.max(0, expMs - startMs) * fraction;
  } catch {
    return Infinity;
  }
}

/** The `X-Midt-*` request headers Parodus sends to the token server. */
export function tokenRequestHeaders(
  info: DeviceInfo,
  reconnectReason: string,
): Record<string, string> {
  return {
    'X-Midt-Mac-Address': macDigits(info.hwMac),
    'X-Midt-Serial-Number': info.hwSerialNumber ?? '',
    'X-Midt-Uuid': randomUUID(),
    'X-Midt-Partner-Id': info.partnerId ?? '',
    'X-Midt-Hardware-Model': info.hwModel ?? '',
    'X-Midt-Hardware-Manufacturer': info.hwManufacturer ?? '',
    'X-Midt-Firmware-Name': info.fwName ?? '',
    'X-Midt-Protocol': info.webpaProtocol ?? DEFAULT_WEBPA_PROTOCOL,
    'X-Midt-Interface-Used': info.interfaceUsed ?? '',
    'X-Midt-Last-Reboot-Reason': info.hwLastRebootReason ?? '',
    'X-Midt-Last-Reconnect-Reason': reconnectReason,
    'X-Midt-Boot-Retry-Wait': String(Math.trunc(info.bootTimeRetryWait ?? 0)),
  };
}

function fetchOnce(
  options: TokenOptions,
  headers: Record<string, string>,
  signal: AbortSignal | undefined,
): Promise<{ ok: true; value: string } | { ok: false; reason: string }> {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch (cause) {
    throw new DeviceClientError('device_client_invalid_url', `invalid token URL ${options.url}`, {
      cause,
    });
  }
  const maxBytes = options.maxBytes ?? 8192;
  const timeoutMs = options.timeoutMs ?? 25_000;
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: { ok: true; value: string } | { ok: false; reason: string }): void => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    const onResponse = (res: IncomingMessage): void => {
      if (res.statusCode !== 200) {
        res.resume();
        done({ ok: false, reason: `token_http_${res.statusCode ?? 0}` });
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          req.destroy();
          done({ ok: false, reason: 'token_too_large' });
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        const value = Buffer.concat(chunks).toString('utf8').trim();
        if (value === '') done({ ok: false, reason: 'token_empty' });
        else done({ ok: true, value });
      });
      res.on('error', () => done({ ok: false, reason: 'token_network' }));
    };
    const common = { method: 'GET', headers, timeout: timeoutMs };
    const req =
      url.protocol === 'https:'
        ? httpsRequest(
            url,
            {
              ...common,
              ...(options.cert !== undefined
                ? { cert: options.cert, key: options.key ?? options.cert }
                : {}),
              ...(options.ca !== undefined ? { ca: options.ca } : {}),
            },
            onResponse,
          )
        : httpRequest(url, common, onResponse);
    req.on('timeout', () => {
      req.destroy();
      done({ ok: false, reason: 'token_timeout' });
    });
    req.on('error', () => done({ ok: false, reason: 'token_network' }));
    if (signal !== undefined) {
      const onAbort = (): void => {
        req.destroy();
        done({ ok: false, reason: 'aborted' });
      };
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        req.on('close', () => signal.removeEventListener('abort', onAbort));
      }
    }
    req.end();
  });
}

/**
 * Fetches a device token: GET with the `X-Midt-*` headers, HTTP 200, the raw body is the JWT.
 * Tries `attempts` times (Parodus: 3) and reports the last failure.
 */
export async function fetchToken(
  options: TokenOptions,
  info: DeviceInfo,
  reconnectReason: string,
  signal?: AbortSignal,
): Promise<TokenFetchResult> {
  const attempts = Math.max(1, options.attempts ?? 3);
  let reason = 'token_failed';
  for (let i = 0; i < attempts && signal?.aborted !== true; i++) {
    const r = await fetchOnce(options, tokenRequestHeaders(info, reconnectReason), signal);
    if (r.ok) {
      const now = Date.now();
      return {
        ok: true,
        token: { value: r.value, refreshAt: tokenRefreshAt(r.value, now, options.refreshFraction) },
      };
    }
    reason = r.reason;
  }
  return { ok: false, reason };
}
