import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '@xmidt/runtime';
import { caduceusConfigSchema, type CaduceusConfig } from '../src/config.js';
import { verifySignature } from '../src/signature.js';

/** A config for in-process tests: loopback ports 0, memory store, local targets allowed. */
export function testConfig(overrides: Record<string, unknown> = {}): CaduceusConfig {
  const base = {
    primary: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    log: { level: 'silent' },
    store: { type: 'memory' },
    sender: {
      cutOffPeriod: '1s',
      deliveryInterval: '10ms',
      maxDeliveryInterval: '50ms',
      responseHeaderTimeout: '5s',
    },
    webhook: {
      validation: {
        url: { allowLoopback: true, allowIP: true, allowPrivate: true },
        ttl: { max: '1h' },
      },
    },
  };
  return loadConfig({
    service: 'caduceus',
    schema: caduceusConfigSchema,
    env: {},
    overrides: merge(base, overrides),
  });
}

function merge(a: unknown, b: unknown): unknown {
  if (isObj(a) && isObj(b)) {
    const out: Record<string, unknown> = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = merge(a[k], v);
    return out;
  }
  return b === undefined ? a : b;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  signatureOk: boolean;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Requests answered so far (including failures). */
  attempts: number;
  close(): Promise<void>;
}

export interface ReceiverOptions {
  secrets?: string[];
  /** Status for the n-th request (0-based); default 200. */
  status?: (n: number) => number;
  /** Delay before answering, ms. */
  delayMs?: number;
}

/** An HTTP receiver that checks signatures the way wrp-listener does. */
export async function startReceiver(opts: ReceiverOptions = {}): Promise<Receiver> {
  const received: Received[] = [];
  const state = { attempts: 0 };
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const n = state.attempts++;
      const body = Buffer.concat(chunks);
      const status = opts.status ? opts.status(n) : 200;
      const signatureOk = opts.secrets ? verifySignature(req.headers, body, opts.secrets) : true;
      const answer = () => {
        timers.delete(t);
        if (status >= 200 && status < 300) {
          received.push({
            path: req.url ?? '',
            headers: req.headers,
            rawHeaders: req.rawHeaders,
            body,
            signatureOk,
          });
        }
        res.statusCode = opts.secrets && !signatureOk ? 401 : status;
        res.end();
      };
      const t = setTimeout(answer, opts.delayMs ?? 0);
      timers.add(t);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    get attempts() {
      return state.attempts;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
}

export async function http(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array } = {},
): Promise<HttpResult> {
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    ...(init.headers ? { headers: init.headers } : {}),
    ...(init.body !== undefined ? { body: init.body } : {}),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** POSTs a registration. */
export function register(
  base: string,
  body: unknown,
  headers: Record<string, string> = {},
  version = 'v3',
): Promise<HttpResult> {
  return http(`${base}/api/${version}/hook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export function notify(base: string, bytes: Uint8Array, headers: Record<string, string> = {}) {
  return http(`${base}/api/v4/notify`, {
    method: 'POST',
    headers: { 'content-type': 'application/msgpack', ...headers },
    body: bytes,
  });
}

/** The repository root (the directory holding `.ci/`, else the workspace root). */
export function repoRoot(): string {
  return new URL('../../../', import.meta.url).pathname;
}
