// Local stand-in for the parts of @xmidt/wrp Talaria uses, with the same names and signatures
// as the package contract. Replaced by a re-export once the package ships its code.
import { MsgReader, MsgWriter } from './msgpack.js';
import type { MsgValue } from './msgpack.js';
import { WrpError } from './wrp-error.js';

export { WrpError };

export const MessageType = {
  Authorization: 2,
  SimpleRequestResponse: 3,
  SimpleEvent: 4,
  Create: 5,
  Retrieve: 6,
  Update: 7,
  Delete: 8,
  ServiceRegistration: 9,
  ServiceAlive: 10,
  Unknown: 11,
} as const;

export const MSGPACK_CONTENT_TYPE = 'application/msgpack';
export const JSON_CONTENT_TYPE = 'application/json';

export interface Message {
  msgType: number;
  source?: string;
  dest?: string;
  transactionUuid?: string;
  contentType?: string;
  accept?: string;
  status?: number;
  rdr?: number;
  headers?: string[];
  metadata?: Record<string, string>;
  path?: string;
  payload?: Uint8Array;
  serviceName?: string;
  url?: string;
  partnerIds?: string[];
  sessionId?: string;
  qos?: number;
}

export interface DecodeLimits {
  maxBytes?: number;
  maxStringLength?: number;
  maxEntries?: number;
  maxMetadataEntries?: number;
  maxDepth?: number;
}

const STRING_FIELDS: ReadonlyArray<[string, keyof Message]> = [
  ['source', 'source'],
  ['dest', 'dest'],
  ['transaction_uuid', 'transactionUuid'],
  ['content_type', 'contentType'],
  ['accept', 'accept'],
  ['path', 'path'],
  ['service_name', 'serviceName'],
  ['url', 'url'],
  ['session_id', 'sessionId'],
];

function toInt(v: MsgValue | unknown, key: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  throw new WrpError('wrp_malformed', `${key}: expected an integer`);
}

function toStringArray(v: MsgValue | unknown, key: string, max: number): string[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw new WrpError('wrp_malformed', `${key}: expected an array`);
  if (v.length > max) throw new WrpError('wrp_too_large', `${key}: too many entries`);
  return v.map((x) => {
    if (typeof x !== 'string') throw new WrpError('wrp_malformed', `${key}: expected strings`);
    return x;
  });
}

function fromFields(
  get: (k: string) => unknown,
  has: (k: string) => boolean,
  lim: Required<DecodeLimits>,
): Message {
  if (!has('msg_type')) throw new WrpError('wrp_malformed', 'msg_type missing');
  const msg: Message = { msgType: toInt(get('msg_type'), 'msg_type') };
  const out = msg as unknown as Record<string, unknown>;
  for (const [wire, field] of STRING_FIELDS) {
    const v = get(wire);
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') throw new WrpError('wrp_malformed', `${wire}: expected a string`);
    if (v !== '') out[field] = v;
  }
  for (const [wire, field] of [
    ['status', 'status'],
    ['rdr', 'rdr'],
    ['qos', 'qos'],
  ] as const) {
    const v = get(wire);
    if (v !== undefined && v !== null) msg[field] = toInt(v, wire);
  }
  if (has('headers')) msg.headers = toStringArray(get('headers'), 'headers', lim.maxEntries);
  if (has('partner_ids'))
    msg.partnerIds = toStringArray(get('partner_ids'), 'partner_ids', lim.maxEntries);
  const md = get('metadata');
  if (md !== undefined && md !== null) {
    const entries: [string, unknown][] =
      md instanceof Map
        ? [...(md as Map<string, unknown>).entries()]
        : typeof md === 'object' && !Array.isArray(md)
          ? Object.entries(md as Record<string, unknown>)
          : (() => {
              throw new WrpError('wrp_malformed', 'metadata: expected a map');
            })();
    if (entries.length > lim.maxMetadataEntries)
      throw new WrpError('wrp_too_large', 'metadata: too many entries');
    const m: Record<string, string> = {};
    for (const [k, val] of entries) {
      if (typeof val !== 'string')
        throw new WrpError('wrp_malformed', 'metadata: expected strings');
      m[k] = val;
    }
    msg.metadata = m;
  }
  const p = get('payload');
  if (p !== undefined && p !== null) {
    if (p instanceof Uint8Array) msg.payload = p;
    else if (typeof p === 'string') msg.payload = Buffer.from(p, 'utf8');
    else throw new WrpError('wrp_malformed', 'payload: expected bin or str');
  }
  return msg;
}

function limitsOf(l?: DecodeLimits): Required<DecodeLimits> {
  return {
    maxBytes: l?.maxBytes ?? 16 * 1024 * 1024,
    maxStringLength: l?.maxStringLength ?? 16 * 1024 * 1024,
    maxEntries: l?.maxEntries ?? 10_000,
    maxMetadataEntries: l?.maxMetadataEntries ?? 1_000,
    maxDepth: l?.maxDepth ?? 16,
  };
}

export function decodeMsgpack(bytes: Uint8Array, limits?: DecodeLimits): Message {
  const lim = limitsOf(limits);
  if (bytes.length > lim.maxBytes) throw new WrpError('wrp_too_large', 'message too large');
  if (bytes.length === 0) throw new WrpError('wrp_malformed', 'empty message');
  const top = new MsgReader(bytes, lim).read();
  if (!(top instanceof Map)) throw new WrpError('wrp_malformed', 'WRP message must be a map');
  return fromFields(
    (k) => top.get(k),
    (k) => top.has(k),
    lim,
  );
}

export function encodeMsgpack(msg: Message): Buffer {
  const w = new MsgWriter();
  const s = (v: string | undefined): v is string => v !== undefined && v !== '';
  let n = 2;
  const flags = [
    s(msg.source),
    s(msg.dest),
    s(msg.transactionUuid),
    s(msg.contentType),
    s(msg.accept),
    msg.status !== undefined,
    msg.rdr !== undefined,
    msg.headers !== undefined,
    msg.metadata !== undefined,
    s(msg.path),
    msg.payload !== undefined,
    s(msg.serviceName),
    s(msg.url),
    msg.partnerIds !== undefined,
    s(msg.sessionId),
  ];
  for (const f of flags) if (f) n++;
  w.mapHeader(n);
  w.str('msg_type');
  w.int(msg.msgType);
  const strField = (key: string, v: string | undefined): void => {
    if (s(v)) {
      w.str(key);
      w.str(v);
    }
  };
  strField('source', msg.source);
  strField('dest', msg.dest);
  strField('transaction_uuid', msg.transactionUuid);
  strField('content_type', msg.contentType);
  strField('accept', msg.accept);
  if (msg.status !== undefined) {
    w.str('status');
    w.int(msg.status);
  }
  if (msg.rdr !== undefined) {
    w.str('rdr');
    w.int(msg.rdr);
  }
  if (msg.headers !== undefined) {
    w.str('headers');
    w.arrayHeader(msg.headers.length);
    for (const h of msg.headers) w.str(h);
  }
  if (msg.metadata !== undefined) {
    const keys = Object.keys(msg.metadata).sort();
    w.str('metadata');
    w.mapHeader(keys.length);
    for (const k of keys) {
      w.str(k);
      w.str(msg.metadata[k] ?? '');
    }
  }
  strField('path', msg.path);
  if (msg.payload !== undefined) {
    w.str('payload');
    w.bin(msg.payload);
  }
  strField('service_name', msg.serviceName);
  strField('url', msg.url);
  if (msg.partnerIds !== undefined) {
    w.str('partner_ids');
    w.arrayHeader(msg.partnerIds.length);
    for (const p of msg.partnerIds) w.str(p);
  }
  strField('session_id', msg.sessionId);
  w.str('qos');
  w.int(msg.qos ?? 0);
  return w.finish();
}

export function encodeJson(msg: Message): string {
  const o: Record<string, unknown> = { msg_type: msg.msgType };
  for (const [wire, field] of STRING_FIELDS) {
    const v = msg[field];
    if (typeof v === 'string' && v !== '') o[wire] = v;
  }
  if (msg.status !== undefined) o.status = msg.status;
  if (msg.rdr !== undefined) o.rdr = msg.rdr;
  if (msg.headers?.length) o.headers = msg.headers;
  if (msg.metadata && Object.keys(msg.metadata).length) {
    const m: Record<string, string> = {};
    for (const k of Object.keys(msg.metadata).sort()) m[k] = msg.metadata[k] ?? '';
    o.metadata = m;
  }
  if (msg.payload?.length) o.payload = Buffer.from(msg.payload).toString('base64');
  if (msg.partnerIds?.length) o.partner_ids = msg.partnerIds;
  if (msg.qos) o.qos = msg.qos;
  return JSON.stringify(o);
}

export function decodeJson(text: string | Uint8Array, limits?: DecodeLimits): Message {
  const lim = limitsOf(limits);
  const str = typeof text === 'string' ? text : Buffer.from(text).toString('utf8');
  if (str.length > lim.maxBytes) throw new WrpError('wrp_too_large', 'message too large');
  let parsed: unknown;
  try {
    parsed = JSON.parse(str);
  } catch {
    throw new WrpError('wrp_malformed', 'invalid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new WrpError('wrp_malformed', 'WRP message must be an object');
  const obj = parsed as Record<string, unknown>;
  const payload = obj.payload;
  return fromFields(
    (k) =>
      k === 'payload' && typeof payload === 'string' ? Buffer.from(payload, 'base64') : obj[k],
    (k) => Object.prototype.hasOwnProperty.call(obj, k),
    lim,
  );
}

const ID_PATTERN = /^(mac|uuid|dns|serial):([^/]+)(\/[^/]*)?/i;

export function parseDeviceId(text: string): string {
  const m = ID_PATTERN.exec(text);
  if (!m) throw new WrpError('id_invalid', 'invalid device name');
  const prefix = (m[1] as string).toLowerCase();
  let body = m[2] as string;
  if (prefix === 'mac') {
    body = body.replace(/[:\-.,]/g, '').toLowerCase();
    if (!/^[0-9a-f]{12}$/.test(body)) throw new WrpError('id_invalid', 'invalid device name');
  }
  return `${prefix}:${body}`;
}

export function validateMessage(msg: Message): void {
  if (!Number.isInteger(msg.msgType) || msg.msgType < 2 || msg.msgType > 11)
    throw new WrpError('wrp_invalid', 'invalid message type');
  if (msg.qos !== undefined && (msg.qos < 0 || msg.qos > 99))
    throw new WrpError('wrp_invalid', 'invalid qos');
}
