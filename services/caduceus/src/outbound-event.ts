import { encodeHttpHeaders, encodeMsgpack, parseDeviceId, type Message } from '@xmidt/wrp';
import { eventString, eventType } from './matcher.js';
import { signBody } from './signature.js';

/**
 * Header lists kept per event and body kind, one per secret (bounded: they live as long as the
 * event waits in some queue).
 */
const MAX_LISTS = 16;

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
  private payload: Buffer | undefined;
  private headers: HeaderMap | undefined;
  private flat: string[] | undefined;
  /** Delivery header lists of the msgpack body (0) and of the payload body (1), by secret. */
  private readonly lists: [Map<string, string[]> | undefined, Map<string, string[]> | undefined] = [
    undefined,
    undefined,
  ];

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
   * The whole header list of one delivery: the common headers, `Content-Type` (msgpack for a
   * `wrp` body, else the WRP's own) and, with a secret, `X-Webpa-Signature` of the body. The
   * list is built once per body kind and secret and shared by the deliveries that use it
   * (webhooks that share a secret share one HMAC); nobody may change it.
   */
  deliveryHeaders(wrpBody: boolean, secret: string): string[] {
    const kind = wrpBody ? 0 : 1;
    const lists = (this.lists[kind] ??= new Map());
    let list = lists.get(secret);
    if (list) return list;
    let base = lists.get('');
    if (!base) {
      const contentType = wrpBody
        ? 'application/msgpack'
        : this.msg.contentType || 'application/json';
      base = this.headerList().concat('content-type', contentType);
      lists.set('', base);
    }
    if (secret === '') return base;
    // the unsigned list copied (cheaper than building it again), then the signature
    list = base.slice();
    list.push('x-webpa-signature', signBody(secret, this.body(wrpBody)));
    if (lists.size < MAX_LISTS) lists.set(secret, list);
    return list;
  }

  /** The body of a delivery: the whole WRP as msgpack, or the raw payload. */
  body(wrpBody: boolean): Buffer {
    return wrpBody ? this.msgpackBody() : this.payloadBody();
  }

  /** The raw payload (every other content type). */
  payloadBody(): Buffer {
    if (this.payload) return this.payload;
    const p = this.msg.payload;
    this.payload = !p
      ? Buffer.alloc(0)
      : Buffer.isBuffer(p)
        ? p
        : Buffer.from(p.buffer, p.byteOffset, p.byteLength);
    return this.payload;
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
