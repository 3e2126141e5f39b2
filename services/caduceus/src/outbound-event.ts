import { encodeHttpHeaders, encodeMsgpack, parseDeviceId, type Message } from '@xmidt/wrp';
import { eventString, eventType } from './matcher.js';
import { signBody } from './signature.js';

/** Header values of one delivery; keys are lower-case. */
export type HeaderMap = Record<string, string | string[]>;

/**
 * One accepted event on its way to the webhooks: the (fixed) WRP plus what every delivery of
 * it shares, computed once (the msgpack re-encoding and the WRP headers).
 */
export class OutboundEvent {
  /** `dest` without `event:` (what `events` regexes are matched against). */
  readonly event: string;
  /** Metric label: first segment after `event:` or `unknown`. */
  readonly eventType: string;
  private msgpack: Buffer | undefined;
  private headers: HeaderMap | undefined;
  private flat: string[] | undefined;
  private signatures: { body: Buffer; secret: string; sig: string }[] | undefined;

  constructor(readonly msg: Message) {
    this.event = eventString(msg.dest);
    this.eventType = eventType(msg.dest);
  }

  /** The whole WRP, msgpack (for `wrp`, `application/msgpack`, `application/wrp` webhooks). */
  msgpackBody(): Buffer {
    this.msgpack ??= encodeMsgpack(this.msg);
    return this.msgpack;
  }

  /**
   * X-Webpa-Signature of `body` (one of this event's two bodies) under `secret`, memoised for
   * webhooks that share a secret (a short list compared by identity: no key is built).
   */
  signature(secret: string, body: Buffer): string {
    const memo = (this.signatures ??= []);
    for (const s of memo) if (s.body === body && s.secret === secret) return s.sig;
    const sig = signBody(secret, body);
    if (memo.length < 64) memo.push({ body, secret, sig });
    return sig;
  }

  /** The raw payload (every other content type). */
  payloadBody(): Buffer {
    const p = this.msg.payload;
    if (!p) return Buffer.alloc(0);
    return Buffer.isBuffer(p) ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength);
  }

  /**
   * The headers every delivery carries, in the original's order of setting: the WRP fields
   * (`X-Xmidt-*`), then `X-Webpa-Event`, `-Transaction-Id`, `-Device-Id`, `-Device-Name`
   * (canonical device id, overriding the WRP destination), `-Source`, `-Destination`.
   */
  commonHeaders(): HeaderMap {
    if (this.headers) return this.headers;
    const h: HeaderMap = {};
    // Values a peer sent must not be able to break the header block: control characters are
    // dropped before the WRP header encoder (which refuses them) sees the message.
    for (const [k, v] of Object.entries(encodeHttpHeaders(headerSafe(this.msg)))) {
      const key = k.toLowerCase();
      if (key === 'content-type' || key === 'content-length') continue;
      h[key] = v;
    }
    let deviceId = '';
    try {
      deviceId = this.msg.source ? parseDeviceId(this.msg.source) : '';
    } catch {
      deviceId = '';
    }
    h['x-webpa-event'] = byteString(this.event);
    h['x-webpa-transaction-id'] = byteString(this.msg.transactionUuid ?? '');
    h['x-webpa-device-id'] = byteString(deviceId);
    h['x-webpa-device-name'] = byteString(deviceId);
    h['x-webpa-source'] = byteString(this.msg.source ?? '');
    h['x-webpa-destination'] = byteString(this.msg.dest ?? '');
    this.headers = h;
    return h;
  }

  /** commonHeaders() as a flat `[name, value, name, value, ...]` list (cheapest for undici). */
  headerList(): string[] {
    if (this.flat) return this.flat;
    const out: string[] = [];
    for (const [k, v] of Object.entries(this.commonHeaders())) {
      if (Array.isArray(v)) for (const x of v) out.push(k, x);
      else out.push(k, v);
    }
    this.flat = out;
    return out;
  }
}

const UNSAFE = /[\0-\x08\x0a-\x1f\x7f]/;
const UNSAFE_ALL = /[\0-\x08\x0a-\x1f\x7f]/g;
const NON_ASCII = /[^\x00-\x7f]/;

function clean(v: string): string {
  return UNSAFE.test(v) ? v.replace(UNSAFE_ALL, '') : v;
}

function cleanOpt(v: string | undefined): string | undefined {
  return v === undefined ? undefined : clean(v);
}

/** HTTP header text as the original sends it: the UTF-8 bytes, one char per byte. */
function byteString(v: string): string {
  const c = clean(v);
  return NON_ASCII.test(c) ? Buffer.from(c, 'utf8').toString('latin1') : c;
}

const unsafe = (v: string | undefined): boolean => v !== undefined && UNSAFE.test(v);

/** Whether any header-borne string of the message holds a control character. */
function needsCleaning(m: Message): boolean {
  if (
    unsafe(m.source) ||
    unsafe(m.dest) ||
    unsafe(m.transactionUuid) ||
    unsafe(m.accept) ||
    unsafe(m.path) ||
    unsafe(m.sessionId) ||
    unsafe(m.serviceName) ||
    unsafe(m.url) ||
    unsafe(m.contentType)
  )
    return true;
  if (m.headers?.some(unsafe) || m.partnerIds?.some(unsafe)) return true;
  if (m.metadata) {
    for (const k of Object.keys(m.metadata)) if (unsafe(k) || unsafe(m.metadata[k])) return true;
  }
  return false;
}

/**
 * The message itself when its header-borne strings hold no control characters (the usual
 * case), else a copy without them.
 */
function headerSafe(m: Message): Message {
  if (!needsCleaning(m)) return m;
  const out: Message = { ...m };
  out.source = cleanOpt(m.source);
  out.dest = cleanOpt(m.dest);
  out.transactionUuid = cleanOpt(m.transactionUuid);
  out.accept = cleanOpt(m.accept);
  out.path = cleanOpt(m.path);
  out.sessionId = cleanOpt(m.sessionId);
  out.serviceName = cleanOpt(m.serviceName);
  out.url = cleanOpt(m.url);
  out.contentType = cleanOpt(m.contentType);
  if (m.headers) out.headers = m.headers.map(clean);
  if (m.partnerIds) out.partnerIds = m.partnerIds.map(clean);
  if (m.metadata) {
    const md: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.metadata)) {
      Object.defineProperty(md, clean(k), {
        value: clean(v),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    out.metadata = md;
  }
  for (const k of Object.keys(out) as (keyof Message)[]) if (out[k] === undefined) delete out[k];
  return out;
}
