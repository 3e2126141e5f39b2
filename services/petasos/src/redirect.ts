import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HashRing } from '@xmidt/hashring';
import { parseDeviceId } from '@xmidt/wrp';
import type { PetasosMetrics } from './metrics.js';

/** Texts of the original's plain-text errors (Go's http.Error appends a newline). */
export const MISSING_DEVICE_NAME = 'missing device name header\n';
export const INVALID_DEVICE_NAME = 'invalid device name\n';
export const NO_INSTANCES = 'There are no instances available\n';

export const DEVICE_NAME_HEADER = 'x-webpa-device-name';

export interface IdentityHeaders {
  server: string;
  build: string;
  region: string;
  flavor: string;
  /** When the service started; sent as X-Petasos-Start-Time in RFC 822 form, UTC. */
  startTime: Date;
}

export interface RedirectHandlerOptions {
  /** The ring to hash on (this datacenter's); undefined when no instance is known. */
  ring(): HashRing | undefined;
  identity: IdentityHeaders;
  metrics: PetasosMetrics;
  /** True while the service drains: answers then carry `Connection: close`. */
  closing(): boolean;
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** Go's time.RFC822 layout (`02 Jan 06 15:04 MST`) in UTC. */
export function formatRfc822(d: Date): string {
  return `${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${two(d.getUTCFullYear() % 100)} ${two(
    d.getUTCHours(),
  )}:${two(d.getUTCMinutes())} UTC`;
}

const NON_ASCII = /[^\x00-\x7f]/;

/** Percent-encodes non-ASCII bytes, as Go's http.Redirect does for the Location header. */
function escapeNonAscii(s: string): string {
  if (!NON_ASCII.test(s)) return s;
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    out += byte < 0x80 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase()}`;
  }
  return out;
}

const HTML_SPECIAL = /[&<>"']/;

function escapeHtml(s: string): string {
  if (!HTML_SPECIAL.test(s)) return s;
  return s.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&#34;' : '&#39;',
  );
}

/** The request target with every trailing `/` removed (query included, as the original does). */
function trimTrailingSlashes(target: string): string {
  let end = target.length;
  while (end > 0 && target.charCodeAt(end - 1) === 47) end--;
  return end === target.length ? target : target.slice(0, end);
}

/**
 * Petasos' whole primary handler: every path and method. Hashes the `X-Webpa-Device-Name`
 * device id on the ring and answers 307 to `owner + request target`; 400 / 500 as text.
 */
export function createRedirectHandler(opts: RedirectHandlerOptions): RequestHandler {
  const { metrics, identity } = opts;
  const fixed = [
    'X-Petasos-Build',
    identity.build,
    'X-Petasos-Flavor',
    identity.flavor,
    'X-Petasos-Region',
    identity.region,
    'X-Petasos-Server',
    identity.server,
    'X-Petasos-Start-Time',
    formatRfc822(identity.startTime),
  ];
  const errorHeaders = [
    ...fixed,
    'Content-Type',
    'text/plain; charset=utf-8',
    'X-Content-Type-Options',
    'nosniff',
  ];
  const htmlHeaders = [...fixed, 'Content-Type', 'text/html; charset=utf-8'];

  const fail = (res: ServerResponse, status: number, body: string): void => {
    const headers = [...errorHeaders, 'Content-Length', String(Buffer.byteLength(body))];
    if (opts.closing()) headers.push('Connection', 'close');
    res.writeHead(status, headers);
    res.end(body);
  };

  return (req, res) => {
    const raw = req.headers[DEVICE_NAME_HEADER];
    let name = typeof raw === 'string' ? raw : raw?.[0];
    // node reads header bytes as latin1; the device id is hashed as the UTF-8 bytes sent
    if (name !== undefined && NON_ASCII.test(name))
      name = Buffer.from(name, 'latin1').toString('utf8');
    if (name === undefined || name === '') {
      metrics.outcome.missing_device_name.inc();
      fail(res, 400, MISSING_DEVICE_NAME);
      return;
    }
    let key: string;
    try {
      key = parseDeviceId(name);
    } catch {
      metrics.outcome.invalid_device_name.inc();
      fail(res, 400, INVALID_DEVICE_NAME);
      return;
    }
    const owner = opts.ring()?.get(key);
    if (owner === undefined) {
      metrics.outcome.no_instances.inc();
      fail(res, 500, NO_INSTANCES);
      return;
    }
    const location = escapeNonAscii(owner + trimTrailingSlashes(req.url ?? ''));
    const method = req.method;
    const body =
      method === 'GET' ? `<a href="${escapeHtml(location)}">Temporary Redirect</a>.\n\n` : '';
    const headers = (method === 'GET' || method === 'HEAD' ? htmlHeaders : fixed).concat(
      'Location',
      location,
      'Content-Length',
      String(Buffer.byteLength(body)),
    );
    if (opts.closing()) headers.push('Connection', 'close');
    metrics.outcome.redirected.inc();
    res.writeHead(307, headers);
    res.end(body);
  };
}
