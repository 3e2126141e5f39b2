import { isUtf8 } from 'node:buffer';
import { WrpError, malformed, tooLarge } from './errors.js';
import { resolveLimits, type DecodeLimits, type ResolvedLimits } from './limits.js';
import { setEntry, type Message } from './message.js';

// ------------------------------------------------------------------------------------- encode

const HTML_UNSAFE = /[<>&\u2028\u2029]/g;
const ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** A JSON string literal escaped as Go's encoding/json writes it (HTML-safe). */
function str(value: string): string {
  const json = JSON.stringify(value);
  return HTML_UNSAFE.test(json) ? json.replace(HTML_UNSAFE, (c) => ESCAPES[c] ?? c) : json;
}

function int(value: number, field: string): string {
  if (!Number.isSafeInteger(value))
    throw new WrpError('wrp_invalid', `${field} must be a safe integer`);
  return String(value);
}

/**
 * The JSON form as wrp-go v5 writes it: keys in struct order, empty strings, absent integers
 * and empty lists, metadata and payload omitted, `qos` omitted when 0, metadata keys sorted,
 * payload as standard base64, HTML-safe escaping, and a trailing newline.
 */
export function encodeJson(msg: Message): string {
  const parts: string[] = [`"msg_type":${int(msg.msgType, 'msg_type')}`];
  const text = (key: string, value: string | undefined): void => {
    if (value) parts.push(`"${key}":${str(value)}`);
  };
  const list = (key: string, value: readonly string[] | undefined): void => {
    if (value && value.length > 0) parts.push(`"${key}":[${value.map(str).join(',')}]`);
  };
  text('source', msg.source);
  text('dest', msg.dest);
  text('transaction_uuid', msg.transactionUuid);
  text('content_type', msg.contentType);
  text('accept', msg.accept);
  if (msg.status != null) parts.push(`"status":${int(msg.status, 'status')}`);
  if (msg.rdr != null) parts.push(`"rdr":${int(msg.rdr, 'rdr')}`);
  list('headers', msg.headers);
  if (msg.metadata != null) {
    const keys = Object.keys(msg.metadata).sort();
    if (keys.length > 0) {
      const md = msg.metadata;
      parts.push(`"metadata":{${keys.map((k) => `${str(k)}:${str(md[k] ?? '')}`).join(',')}}`);
    }
  }
  text('path', msg.path);
  if (msg.payload != null && msg.payload.length > 0) {
    const b64 = Buffer.from(msg.payload.buffer, msg.payload.byteOffset, msg.payload.length);
    parts.push(`"payload":"${b64.toString('base64')}"`);
  }
  text('service_name', msg.serviceName);
  text('url', msg.url);
  list('partner_ids', msg.partnerIds);
  text('session_id', msg.sessionId);
  if (msg.qos != null && msg.qos !== 0) parts.push(`"qos":${int(msg.qos, 'qos')}`);
  return `{${parts.join(',')}}\n`;
}

// ------------------------------------------------------------------------------------- decode

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Rejects input nested deeper than the limit before JSON.parse sees it. */
function checkDepth(text: string, maxDepth: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) throw tooLarge(`nesting deeper than ${maxDepth}`);
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
}

type Field =
  | 'msgType'
  | 'source'
  | 'dest'
  | 'transactionUuid'
  | 'contentType'
  | 'accept'
  | 'status'
  | 'rdr'
  | 'headers'
  | 'metadata'
  | 'path'
  | 'payload'
  | 'serviceName'
  | 'url'
  | 'partnerIds'
  | 'sessionId'
  | 'qos';

const FIELDS = new Map<string, Field>([
  ['msg_type', 'msgType'],
  ['source', 'source'],
  ['dest', 'dest'],
  ['transaction_uuid', 'transactionUuid'],
  ['content_type', 'contentType'],
  ['accept', 'accept'],
  ['status', 'status'],
  ['rdr', 'rdr'],
  ['headers', 'headers'],
  ['metadata', 'metadata'],
  ['path', 'path'],
  ['payload', 'payload'],
  ['service_name', 'serviceName'],
  ['url', 'url'],
  ['partner_ids', 'partnerIds'],
  ['session_id', 'sessionId'],
  ['qos', 'qos'],
]);

function checkString(value: unknown, what: string, limits: ResolvedLimits): string {
  if (typeof value !== 'string') throw malformed(`${what} must be a string`);
  if (
    value.length * 3 > limits.maxStringLength &&
    Buffer.byteLength(value) > limits.maxStringLength
  ) {
    throw tooLarge(`${what} is longer than ${limits.maxStringLength} bytes`);
  }
  return value;
}

function checkInt(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw malformed(`${what} must be an integer`);
  }
  return value === 0 ? 0 : value; // no -0
}

function checkList(value: unknown, what: string, limits: ResolvedLimits): string[] {
  if (!Array.isArray(value)) throw malformed(`${what} must be an array of strings`);
  if (value.length > limits.maxEntries) {
    throw tooLarge(`${what} has more than ${limits.maxEntries} entries`);
  }
  return value.map((v: unknown) => checkString(v, what, limits));
}

function checkMetadata(value: unknown, limits: ResolvedLimits): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed('metadata must be an object');
  }
  const keys = Object.keys(value);
  const max = Math.min(limits.maxMetadataEntries, limits.maxEntries);
  if (keys.length > max) throw tooLarge(`metadata has more than ${max} entries`);
  const out: Record<string, string> = {};
  const source = value as Record<string, unknown>;
  for (const k of keys) {
    checkString(k, 'metadata key', limits);
    const v = source[k];
    setEntry(out, k, v === null ? '' : checkString(v, 'metadata value', limits));
  }
  return out;
}

function fromObject(obj: Record<string, unknown>, limits: ResolvedLimits): Message {
  const keys = Object.keys(obj);
  if (keys.length > limits.maxEntries) {
    throw tooLarge(`message has more than ${limits.maxEntries} keys`);
  }
  const m: Partial<Record<Field, unknown>> = {};
  for (const key of keys) {
    // Go's encoding/json matches keys case-insensitively
    const field = FIELDS.get(key) ?? FIELDS.get(key.toLowerCase());
    if (field === undefined) continue;
    const value = obj[key];
    if (value === null) {
      delete m[field];
      continue;
    }
    switch (field) {
      case 'msgType':
      case 'status':
      case 'rdr':
      case 'qos':
        m[field] = checkInt(value, key);
        break;
      case 'headers':
      case 'partnerIds':
        m[field] = checkList(value, key, limits);
        break;
      case 'metadata':
        m.metadata = checkMetadata(value, limits);
        break;
      case 'payload': {
        if (typeof value !== 'string' || !BASE64.test(value)) {
          throw malformed('payload must be a base64 string');
        }
        m.payload = Buffer.from(value, 'base64');
        break;
      }
      default:
        m[field] = checkString(value, key, limits);
    }
  }
  if (m.msgType === undefined) throw malformed('msg_type is missing');
  const msg: Message = { msgType: m.msgType as number };
  for (const [, field] of FIELDS) {
    if (field === 'msgType') continue;
    const v = m[field];
    if (v === undefined || v === '') continue;
    if (
      (field === 'headers' || field === 'partnerIds' || field === 'payload') &&
      (v as { length: number }).length === 0
    )
      continue;
    if (field === 'metadata' && Object.keys(v as object).length === 0) continue;
    (msg as unknown as Record<string, unknown>)[field] = v;
  }
  return msg;
}

/**
 * Decodes the JSON form (wrp-go v5, and v3's which adds `qos: 0`, `spans` and `include_spans`,
 * both ignored). Keys match case-insensitively as in Go; unknown keys are ignored; `null` means
 * absent. Throws only {@link WrpError} (`wrp_malformed`, `wrp_too_large`). Does not validate.
 */
export function decodeJson(input: string | Uint8Array, limits?: DecodeLimits): Message {
  const l = resolveLimits(limits);
  let text: string;
  if (typeof input === 'string') {
    if (input.length > l.maxBytes && Buffer.byteLength(input) > l.maxBytes) {
      throw tooLarge(`message exceeds the limit of ${l.maxBytes} bytes`);
    }
    text = input;
  } else if (input instanceof Uint8Array) {
    if (input.length > l.maxBytes)
      throw tooLarge(`message exceeds the limit of ${l.maxBytes} bytes`);
    if (!isUtf8(input)) throw malformed('JSON input is not valid UTF-8');
    text = Buffer.from(input.buffer, input.byteOffset, input.length).toString('utf8');
  } else {
    throw malformed('input must be a string or a Uint8Array');
  }
  checkDepth(text, l.maxDepth);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw malformed('invalid JSON', err);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw malformed('a WRP message must be a JSON object');
  }
  return fromObject(parsed as Record<string, unknown>, l);
}
