import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { pino } from 'pino';
import { loadConfig } from '@xmidt/runtime';
import { decodeMsgpack, encodeMsgpack } from '@xmidt/wrp';
import type { Message } from '@xmidt/wrp';
import { talariaConfigSchema } from '../src/config.js';
import type { TalariaConfig } from '../src/config.js';
import { createTalaria } from '../src/service.js';
import type { Talaria, TalariaOptions } from '../src/service.js';

export const silent = pino({ level: 'silent' });

export function testConfig(overrides: Record<string, unknown> = {}): TalariaConfig {
  const base = {
    primary: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    inbound: { devicesCacheTtl: '0s' },
  };
  return loadConfig({
    service: 'talaria',
    schema: talariaConfigSchema,
    env: {},
    overrides: deepMerge(base, overrides),
  }) as TalariaConfig;
}

function deepMerge(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] =
      typeof v === 'object' &&
      v !== null &&
      !Array.isArray(v) &&
      typeof cur === 'object' &&
      cur !== null
        ? deepMerge(cur as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

export interface Running {
  talaria: Talaria;
  base: string;
  admin: string;
  ws: string;
  stop(): Promise<void>;
}

export async function startTalaria(
  overrides: Record<string, unknown> = {},
  opts: TalariaOptions = {},
): Promise<Running> {
  const talaria = createTalaria(testConfig(overrides), { logger: silent, ...opts });
  const { primaryPort, adminPort } = await talaria.start();
  const host = (overrides.primary as { host?: string } | undefined)?.host ?? '127.0.0.1';
  return {
    talaria,
    base: `http://${host}:${primaryPort}`,
    admin: `http://127.0.0.1:${adminPort}`,
    ws: `ws://${host}:${primaryPort}`,
    stop: () => talaria.stop(),
  };
}

export function convey(obj: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(obj)).toString('base64');
}

export const PARODUS_CONVEY = convey({
  'hw-model': 'TestModel',
  'hw-serial-number': 'SN123',
  'hw-manufacturer': 'TestMfr',
  'fw-name': 'fw-1.0',
  'boot-time': 1700000000,
  'webpa-protocol': 'PARODUS-2.0-v1.1.5',
  'hw-last-reboot-reason': 'unknown',
  'webpa-last-reconnect-reason': 'webpa_process_starts',
});

/** A websocket client playing Parodus: its headers, binary WRP frames, pong on ping. */
export class FakeDevice {
  readonly messages: Message[] = [];
  readonly pings: Buffer[] = [];
  closeCode: number | undefined;
  closeReason = '';
  private waiters: Array<() => void> = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.messages.push(decodeMsgpack(data));
      this.notify();
    });
    ws.on('ping', (data: Buffer) => {
      this.pings.push(data);
      this.notify();
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      this.notify();
    });
    ws.on('error', () => undefined);
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  async until<T>(fn: () => T | undefined, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = fn();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > deadline) throw new Error('timed out waiting on device');
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  send(msg: Message): void {
    this.ws.send(encodeMsgpack(msg), { binary: true });
  }

  closed(): Promise<number> {
    return this.until(() => this.closeCode);
  }

  close(): Promise<number> {
    this.ws.close(1000, 'parodus_stopping');
    return this.closed();
  }
}

export interface ConnectOptions {
  headers?: Record<string, string>;
  path?: string;
  convey?: string | null;
}

export async function connectDevice(
  wsBase: string,
  name: string,
  opts: ConnectOptions = {},
): Promise<FakeDevice> {
  const host = new URL(wsBase).hostname;
  const headers: Record<string, string> = {
    Host: host, // Parodus sends the host without a port
    Origin: `http://${host}`,
    'X-WebPA-Device-Name': name,
    'X-WebPA-Device-Protocols': 'wrp-0.11,getset-0.1',
    'User-Agent': 'PARODUS-2.0-v1.1.5 (fw-1.0; TestModel/TestMfr;)',
    ...(opts.headers ?? {}),
  };
  const c = opts.convey === undefined ? PARODUS_CONVEY : opts.convey;
  if (c !== null) headers['X-WebPA-Convey'] = c;
  const ws = new WebSocket(wsBase + (opts.path ?? '/api/v2/device'), {
    headers,
    followRedirects: false,
  });
  const device = new FakeDevice(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) =>
      reject(
        Object.assign(new Error(`status ${res.statusCode}`), {
          status: res.statusCode,
          headers: res.headers,
        }),
      ),
    );
    ws.once('error', reject);
  });
  return device;
}

/** Attempts a connect that must fail; returns the HTTP status, headers and body. */
export async function rejectedConnect(
  wsBase: string,
  headers: Record<string, string | undefined>,
  path = '/api/v2/device',
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) clean[k] = v;
  const ws = new WebSocket(wsBase + path, { headers: clean, followRedirects: false });
  ws.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('connection unexpectedly accepted'));
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
  });
}

/** An HTTP endpoint playing Caduceus: collects msgpack events; answers `statuses` first, then 202. */
export class EventReceiver {
  readonly events: Message[] = [];
  readonly requests: Array<{ headers: IncomingHttpHeaders; at: number }> = [];
  statuses: number[] = [];
  private server: Server;
  url = '';

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests.push({ headers: req.headers, at: Date.now() });
        const status = this.statuses.shift() ?? 202;
        if (status === 202) this.events.push(decodeMsgpack(Buffer.concat(chunks)));
        res.statusCode = status;
        res.end();
      });
    });
  }

  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    const addr = this.server.address();
    this.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/api/v4/notify`;
    return this.url;
  }

  async waitFor(pred: (m: Message) => boolean, timeoutMs = 5000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.events.find(pred);
      if (m) return m;
      if (Date.now() > deadline) throw new Error('timed out waiting for an event');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

export async function waitUntil(fn: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const BASIC = 'Basic ' + Buffer.from('user:pass').toString('base64');

export async function metricValue(base: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(name + (labels ? `{` : '')) && (labels === '' || line.includes(labels))) {
      if (!labels && !(line.startsWith(name + ' ') || line.startsWith(name + '{'))) continue;
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}
