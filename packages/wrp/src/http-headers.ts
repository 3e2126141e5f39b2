import { isUtf8 } from 'node:buffer';
import { OCTET_STREAM_CONTENT_TYPE } from './content-type.js';
import { WrpError, malformed, tooLarge } from './errors.js';
import { resolveLimits, type DecodeLimits, type ResolvedLimits } from './limits.js';
import { setEntry, type Message } from './message.js';
import { messageTypeFromString, messageTypeName } from './message-type.js';

/** Header names of the wrp-go v3 dialect, the one written by {@link encodeHttpHeaders}. */
export const WrpHeader = {
  MessageType: 'X-Xmidt-Message-Type',
  TransactionUuid: 'X-Xmidt-Transaction-Uuid',
  Status: 'X-Xmidt-Status',
  RequestDeliveryResponse: 'X-Xmidt-Request-Delivery-Response',
  Path: 'X-Xmidt-Path',
  Source: 'X-Xmidt-Source',
  Destination: 'X-Webpa-Device-Name',
  Accept: 'X-Xmidt-Accept',
  Metadata: 'X-Xmidt-Metadata',
  PartnerId: 'X-Xmidt-Partner-Id',
  SessionId: 'X-Xmidt-Session-Id',
  Headers: 'X-Xmidt-Headers',
  ServiceName: 'X-Xmidt-Service-Name',
  Url: 'X-Xmidt-Url',
} as const;

export type HttpHeaders = Record<string, string | string[]>;
export type IncomingHttpHeaders = Record<string, string | string[] | undefined>;

// Values must survive an HTTP header line: no control characters other than tab.
const UNSAFE_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;

/**
 * HTTP header values are byte strings (each char one byte, as Node and fetch expose them). Text
 * is carried as its UTF-8 bytes, which is what the Go implementations send and expect.
 */
function toByteString(value: string, what: string): string {
  if (UNSAFE_VALUE.test(value)) {
    throw new WrpError('wrp_invalid', `${what} cannot be carried in an HTTP header`);
  }
  return /[^\x00-\x7f]/.test(value) ? Buffer.from(value, 'utf8').toString('latin1') : value;
}

function fromByteString(value: string, what: string): string {
  if (!/[^\x00-\x7f]/.test(value) || /[^\x00-\xff]/.test(value)) return value;
  const bytes = Buffer.from(value, 'latin1');
  if (!isUtf8(bytes)) throw malformed(`${what} header is not valid UTF-8`);
  return bytes.toString('utf8');
}

/**
 * Writes a message in the wrp-go v3 header form (`X-Xmidt-*`, dest in `X-Webpa-Device-Name`,
 * metadata as `key=value` one header per entry, sorted). The payload travels as the body:
 * `Content-Type` is set (to `contentType`, or `application/octet-stream`) only when the payload
 * is non-empty. `qos` is not carried (no dialect carries it). Values are byte strings (UTF-8).
 * Throws `WrpError('wrp_invalid')` when a value holds a line break or other control character.
 */
export function encodeHttpHeaders(msg: Message): HttpHeaders {
  const h: HttpHeaders = {};
  const one = (name: string, value: string | undefined): void => {
    if (value) h[name] = toByteString(value, name);
  };
  const many = (name: string, values: readonly string[] | undefined): void => {
    if (values && values.length > 0) h[name] = values.map((v) => toByteString(v, name));
  };
  h[WrpHeader.MessageType] = messageTypeName(msg.msgType);
  one(WrpHeader.Source, msg.source);
  one(WrpHeader.Destination, msg.dest);
  one(WrpHeader.TransactionUuid, msg.transactionUuid);
  if (msg.status != null) h[WrpHeader.Status] = String(msg.status);
  if (msg.rdr != null) h[WrpHeader.RequestDeliveryResponse] = String(msg.rdr);
  one(WrpHeader.Accept, msg.accept);
  one(WrpHeader.Path, msg.path);
  if (msg.metadata != null) {
    const md = msg.metadata;
    many(
      WrpHeader.Metadata,
      Object.keys(md)
        .sort()
        .map((k) => `${k}=${md[k] ?? ''}`),
    );
  }
  many(WrpHeader.PartnerId, msg.partnerIds);
  one(WrpHeader.SessionId, msg.sessionId);
  many(WrpHeader.Headers, msg.headers);
  one(WrpHeader.ServiceName, msg.serviceName);
  one(WrpHeader.Url, msg.url);
  if (msg.payload != null && msg.payload.length > 0) {
    h['Content-Type'] = toByteString(msg.contentType || OCTET_STREAM_CONTENT_TYPE, 'Content-Type');
  }
  return h;
}

// Spellings read for each field, in order of preference: wrp-go v3 (`X-Xmidt-`, deprecated
// `X-Midt-`) and the newer wrphttp (`X-Xmidt-`, `X-Midt-`, `Xmidt-`).
const spellings = (f: string, ...extra: string[]): string[] => [
  ...extra,
  `x-xmidt-${f}`,
  `x-midt-${f}`,
  `xmidt-${f}`,
];
const H_TYPE = spellings('message-type', 'x-xmidt-message-type', 'x-midt-msg-type');
const H_TRANSACTION = spellings('transaction-uuid');
const H_STATUS = spellings('status');
const H_RDR = spellings('request-delivery-response');
const H_PATH = spellings('path');
const H_SOURCE = spellings('source');
const H_DEST = spellings('destination', 'x-webpa-device-name');
const H_ACCEPT = spellings('accept');
const H_METADATA = spellings('metadata');
const H_PARTNER = spellings('partner-id');
const H_SESSION = spellings('session-id');
const H_HEADERS = spellings('headers');
const H_SERVICE = spellings('service-name');
const H_URL = spellings('url');
const H_CONTENT_TYPE = spellings('content-type');

type Lookup = Map<string, string[]>;

function lowerCased(headers: IncomingHttpHeaders): Lookup {
  const out: Lookup = new Map();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    const list = out.get(key) ?? [];
    if (Array.isArray(value)) list.push(...value.map(String));
    else list.push(String(value));
    out.set(key, list);
  }
  return out;
}

/** Whether a request carries a WRP message in header form (a message-type header is present). */
export function hasWrpHeaders(headers: IncomingHttpHeaders): boolean {
  const h = lowerCased(headers);
  return H_TYPE.some((n) => (h.get(n) ?? []).some((v) => v !== ''));
}

function first(h: Lookup, names: readonly string[], limits: ResolvedLimits): string | undefined {
  for (const n of names) {
    for (const v of h.get(n) ?? []) {
      if (v === '') continue;
      if (v.length > limits.maxStringLength) {
        throw tooLarge(`${n} is longer than ${limits.maxStringLength} bytes`);
      }
      return fromByteString(v, n);
    }
  }
  return undefined;
}

/** Every comma-separated item of every value of every spelling, trimmed, empties dropped. */
function items(
  h: Lookup,
  names: readonly string[],
  limits: ResolvedLimits,
  max: number,
): string[] | undefined {
  let out: string[] | undefined;
  for (const n of names) {
    for (const v of h.get(n) ?? []) {
      if (v.length > limits.maxStringLength * Math.max(1, max)) {
        throw tooLarge(`${n} is too long`);
      }
      for (const part of v.split(',')) {
        const item = part.trim();
        if (item === '') continue;
        if (item.length > limits.maxStringLength) {
          throw tooLarge(`${n} item is longer than ${limits.maxStringLength} bytes`);
        }
        out ??= [];
        if (out.length >= max) throw tooLarge(`${n} has more than ${max} entries`);
        out.push(fromByteString(item, n));
      }
    }
  }
  return out;
}

function integer(h: Lookup, names: readonly string[], limits: ResolvedLimits): number | undefined {
  const v = first(h, names, limits);
  if (v === undefined) return undefined;
  const n = /^[+-]?\d{1,16}$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw malformed(`${names[0]} header is not an integer: ${v}`);
  return n === 0 ? 0 : n; // no -0
}

/**
 * Reads metadata items. `key=value` (v3): key trimmed, value after the first `=` with any
 * further `=` removed; a bare `key` has an empty value. `key:value` (newer wrphttp): split on
 * the first `:`, both sides trimmed. Whichever separator comes first decides.
 */
function metadataOf(list: readonly string[] | undefined): Record<string, string> | undefined {
  if (list === undefined) return undefined;
  const md: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    const colon = item.indexOf(':');
    if (colon >= 0 && (eq < 0 || colon < eq)) {
      setEntry(md, item.slice(0, colon).trim(), item.slice(colon + 1).trim());
    } else if (eq >= 0) {
      setEntry(
        md,
        item.slice(0, eq).trim(),
        item
          .slice(eq + 1)
          .split('=')
          .join(''),
      );
    } else {
      setEntry(md, item, '');
    }
  }
  return md;
}

/**
 * Reads a message from the HTTP header form: the wrp-go v3 dialect and the newer wrphttp one
 * (`Xmidt-*` spellings, `X-Xmidt-Destination`, `key:value` metadata, `X-Xmidt-Content-Type`).
 * Header names are matched case-insensitively; list headers are split on `,` (Node joins
 * repeated headers that way). The body is the payload: an empty body gives no payload; otherwise
 * `contentType` is `X-Xmidt-Content-Type`, else the HTTP `Content-Type`, else
 * `application/octet-stream`. Throws only {@link WrpError}. Does not validate.
 */
export function decodeHttpHeaders(
  headers: IncomingHttpHeaders,
  body: Uint8Array,
  limits?: DecodeLimits,
): Message {
  const l = resolveLimits(limits);
  if (body.length > l.maxBytes) throw tooLarge(`body exceeds the limit of ${l.maxBytes} bytes`);
  const h = lowerCased(headers);
  const typeText = first(h, H_TYPE, l);
  if (typeText === undefined) throw malformed(`missing ${WrpHeader.MessageType} header`);
  const msgType = messageTypeFromString(typeText);
  if (msgType === undefined) throw malformed(`unknown message type: ${typeText}`);

  const msg: Message = { msgType };
  const set = (field: keyof Message, value: string | undefined): void => {
    if (value) (msg as unknown as Record<string, unknown>)[field] = value;
  };
  set('source', first(h, H_SOURCE, l));
  set('dest', first(h, H_DEST, l));
  set('transactionUuid', first(h, H_TRANSACTION, l));
  const wrpContentType = first(h, H_CONTENT_TYPE, l);
  set('accept', first(h, H_ACCEPT, l));
  const status = integer(h, H_STATUS, l);
  if (status !== undefined) msg.status = status;
  const rdr = integer(h, H_RDR, l);
  if (rdr !== undefined) msg.rdr = rdr;
  const hdrs = items(h, H_HEADERS, l, l.maxEntries);
  if (hdrs !== undefined) msg.headers = hdrs;
  const md = metadataOf(items(h, H_METADATA, l, Math.min(l.maxEntries, l.maxMetadataEntries)));
  if (md !== undefined) msg.metadata = md;
  set('path', first(h, H_PATH, l));
  if (body.length > 0) msg.payload = body;
  set('serviceName', first(h, H_SERVICE, l));
  set('url', first(h, H_URL, l));
  const partners = items(h, H_PARTNER, l, l.maxEntries);
  if (partners !== undefined) msg.partnerIds = partners;
  set('sessionId', first(h, H_SESSION, l));

  if (wrpContentType !== undefined) {
    msg.contentType = wrpContentType;
  } else if (body.length > 0) {
    const httpType = first(h, ['content-type'], l);
    // in the newer dialect a `style` media type names the form, not the payload
    if (httpType === undefined) msg.contentType = OCTET_STREAM_CONTENT_TYPE;
    else if (!/;\s*style=/i.test(httpType)) msg.contentType = httpType;
  }
  return reorder(msg);
}

const ORDER: readonly (keyof Message)[] = [
  'msgType',
  'source',
  'dest',
  'transactionUuid',
  'contentType',
  'accept',
  'status',
  'rdr',
  'headers',
  'metadata',
  'path',
  'payload',
  'serviceName',
  'url',
  'partnerIds',
  'sessionId',
  'qos',
];

function reorder(msg: Message): Message {
  const out: Message = { msgType: msg.msgType };
  for (const k of ORDER) {
    const v = msg[k];
    if (v !== undefined && k !== 'msgType') (out as unknown as Record<string, unknown>)[k] = v;
  }
  return out;
}
