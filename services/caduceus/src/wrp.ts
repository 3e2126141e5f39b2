// The WRP functions Caduceus uses. Interim local implementation of the subset of the
// @xmidt/wrp contract needed here, until that package exports its codec; then this file
// re-exports it.

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

export class WrpError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

// ------------------------------------------------------------------------------ msgpack encode

class Writer {
  private buf = Buffer.allocUnsafe(256);
  private pos = 0;
  private ensure(n: number) {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  byte(b: number) {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }
  bytes(b: Uint8Array) {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  u16(n: number) {
    this.ensure(2);
    this.buf.writeUInt16BE(n, this.pos);
    this.pos += 2;
  }
  u32(n: number) {
    this.ensure(4);
    this.buf.writeUInt32BE(n, this.pos);
    this.pos += 4;
  }
  /** A type byte followed by a length of 1, 2 or 4 bytes. */
  private sized(len: number, t8: number, t16: number, t32: number) {
    if (len < 256) {
      this.byte(t8);
      this.byte(len);
    } else if (len < 65536) {
      this.byte(t16);
      this.u16(len);
    } else {
      this.byte(t32);
      this.u32(len);
    }
  }
  str(s: string) {
    const b = Buffer.from(s, 'utf8');
    if (b.length < 32) this.byte(0xa0 | b.length);
    else this.sized(b.length, 0xd9, 0xda, 0xdb);
    this.bytes(b);
  }
  bin(b: Uint8Array) {
    this.sized(b.length, 0xc4, 0xc5, 0xc6);
    this.bytes(b);
  }
  int(n: number) {
    if (n >= 0 && n < 128) this.byte(n);
    else if (n < 0 && n >= -32) this.byte(n & 0xff);
    else {
      this.byte(0xd3);
      this.ensure(8);
      this.buf.writeBigInt64BE(BigInt(n), this.pos);
      this.pos += 8;
    }
  }
  mapHeader(n: number) {
    if (n < 16) this.byte(0x80 | n);
    else {
      this.byte(0xde);
      this.u16(n);
    }
  }
  arrayHeader(n: number) {
    if (n < 16) this.byte(0x90 | n);
    else if (n < 65536) {
      this.byte(0xdc);
      this.u16(n);
    } else {
      this.byte(0xdd);
      this.u32(n);
    }
  }
  done(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** WRP as msgpack, wrp-go key order, `msg_type` and `qos` always written, empties omitted. */
export function encodeMsgpack(m: Message): Buffer {
  const entries: [string, (w: Writer) => void][] = [['msg_type', (w) => w.int(m.msgType)]];
  const s = (k: string, v: string | undefined) => {
    if (v) entries.push([k, (w) => w.str(v)]);
  };
  s('source', m.source);
  s('dest', m.dest);
  s('transaction_uuid', m.transactionUuid);
  s('content_type', m.contentType);
  s('accept', m.accept);
  if (m.status !== undefined) entries.push(['status', (w) => w.int(m.status as number)]);
  if (m.rdr !== undefined) entries.push(['rdr', (w) => w.int(m.rdr as number)]);
  const list = (k: string, v: string[] | undefined) => {
    if (v && v.length > 0) {
      entries.push([k, (w) => (w.arrayHeader(v.length), v.forEach((x) => w.str(x)))]);
    }
  };
  list('headers', m.headers);
  if (m.metadata && Object.keys(m.metadata).length > 0) {
    const md = m.metadata;
    const keys = Object.keys(md).sort();
    entries.push([
      'metadata',
      (w) => (w.mapHeader(keys.length), keys.forEach((k) => (w.str(k), w.str(md[k] ?? '')))),
    ]);
  }
  s('path', m.path);
  if (m.payload && m.payload.length > 0) {
    const p = m.payload;
    entries.push(['payload', (w) => w.bin(p)]);
  }
  s('service_name', m.serviceName);
  s('url', m.url);
  list('partner_ids', m.partnerIds);
  s('session_id', m.sessionId);
  entries.push(['qos', (w) => w.int(m.qos ?? 0)]);
  const w = new Writer();
  w.mapHeader(entries.length);
  for (const [k, f] of entries) {
    w.str(k);
    f(w);
  }
  return w.done();
}

// ------------------------------------------------------------------------------ msgpack decode

const utf8 = new TextDecoder('utf-8', { fatal: true });
const MAX_DEPTH = 8;

class Reader {
  pos = 0;
  constructor(private readonly b: Uint8Array) {}
  private need(n: number) {
    if (this.pos + n > this.b.length) throw new WrpError('wrp_malformed', 'unexpected end of data');
  }
  private u8(): number {
    this.need(1);
    return this.b[this.pos++] as number;
  }
  private view(n: number): DataView {
    this.need(n);
    const v = new DataView(this.b.buffer, this.b.byteOffset + this.pos, n);
    this.pos += n;
    return v;
  }
  private raw(n: number): Uint8Array {
    this.need(n);
    const r = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return r;
  }
  private text(n: number): string {
    const bytes = this.raw(n);
    try {
      return utf8.decode(bytes);
    } catch {
      throw new WrpError('wrp_invalid_utf8', 'Strings must be UTF-8');
    }
  }
  value(depth = 0): unknown {
    if (depth > MAX_DEPTH) throw new WrpError('wrp_malformed', 'nesting too deep');
    const t = this.u8();
    if (t < 0x80) return t;
    if (t >= 0xe0) return t - 256;
    if ((t & 0xf0) === 0x80) return this.map(t & 0x0f, depth);
    if ((t & 0xf0) === 0x90) return this.array(t & 0x0f, depth);
    if ((t & 0xe0) === 0xa0) return this.text(t & 0x1f);
    switch (t) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return this.raw(this.u8());
      case 0xc5:
        return this.raw(this.view(2).getUint16(0));
      case 0xc6:
        return this.raw(this.view(4).getUint32(0));
      case 0xca:
        return this.view(4).getFloat32(0);
      case 0xcb:
        return this.view(8).getFloat64(0);
      case 0xcc:
        return this.u8();
      case 0xcd:
        return this.view(2).getUint16(0);
      case 0xce:
        return this.view(4).getUint32(0);
      case 0xcf:
        return Number(this.view(8).getBigUint64(0));
      case 0xd0:
        return this.view(1).getInt8(0);
      case 0xd1:
        return this.view(2).getInt16(0);
      case 0xd2:
        return this.view(4).getInt32(0);
      case 0xd3:
        return Number(this.view(8).getBigInt64(0));
      case 0xd9:
        return this.text(this.u8());
      case 0xda:
        return this.text(this.view(2).getUint16(0));
      case 0xdb:
        return this.text(this.view(4).getUint32(0));
      case 0xdc:
        return this.array(this.view(2).getUint16(0), depth);
      case 0xdd:
        return this.array(this.view(4).getUint32(0), depth);
      case 0xde:
        return this.map(this.view(2).getUint16(0), depth);
      case 0xdf:
        return this.map(this.view(4).getUint32(0), depth);
      default:
        throw new WrpError('wrp_malformed', `unsupported msgpack type 0x${t.toString(16)}`);
    }
  }
  private array(n: number, depth: number): unknown[] {
    if (n > this.b.length - this.pos) throw new WrpError('wrp_malformed', 'array too long');
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) out.push(this.value(depth + 1));
    return out;
  }
  private map(n: number, depth: number): Map<unknown, unknown> {
    if (n > this.b.length - this.pos) throw new WrpError('wrp_malformed', 'map too long');
    const out = new Map<unknown, unknown>();
    for (let i = 0; i < n; i++) out.set(this.value(depth + 1), this.value(depth + 1));
    return out;
  }
}

function asString(v: unknown, key: string): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) {
    try {
      return utf8.decode(v);
    } catch {
      throw new WrpError('wrp_invalid_utf8', 'Strings must be UTF-8');
    }
  }
  throw new WrpError('wrp_malformed', `${key} must be a string`);
}

function asInt(v: unknown, key: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  throw new WrpError('wrp_malformed', `${key} must be an integer`);
}

function asStrings(v: unknown, key: string): string[] {
  if (!Array.isArray(v)) throw new WrpError('wrp_malformed', `${key} must be an array`);
  return v.map((x) => asString(x, key));
}

/** Decodes a msgpack WRP message; throws WrpError. */
export function decodeMsgpack(bytes: Uint8Array): Message {
  const r = new Reader(bytes);
  const top = r.value();
  if (r.pos !== bytes.length) throw new WrpError('wrp_malformed', 'trailing bytes');
  if (!(top instanceof Map)) throw new WrpError('wrp_malformed', 'not a map');
  const m: Message = { msgType: 0 };
  let sawType = false;
  for (const [k, v] of top) {
    if (typeof k !== 'string') throw new WrpError('wrp_malformed', 'map key is not a string');
    if (v === null) continue;
    switch (k) {
      case 'msg_type':
        m.msgType = asInt(v, k);
        sawType = true;
        break;
      case 'source':
        m.source = asString(v, k);
        break;
      case 'dest':
        m.dest = asString(v, k);
        break;
      case 'transaction_uuid':
        m.transactionUuid = asString(v, k);
        break;
      case 'content_type':
        m.contentType = asString(v, k);
        break;
      case 'accept':
        m.accept = asString(v, k);
        break;
      case 'status':
        m.status = asInt(v, k);
        break;
      case 'rdr':
        m.rdr = asInt(v, k);
        break;
      case 'headers':
        m.headers = asStrings(v, k);
        break;
      case 'metadata': {
        if (!(v instanceof Map)) throw new WrpError('wrp_malformed', 'metadata must be a map');
        const md: Record<string, string> = {};
        for (const [mk, mv] of v) md[asString(mk, k)] = asString(mv, k);
        m.metadata = md;
        break;
      }
      case 'path':
        m.path = asString(v, k);
        break;
      case 'payload':
        if (typeof v === 'string') m.payload = Buffer.from(v, 'utf8');
        else if (v instanceof Uint8Array) m.payload = Buffer.from(v);
        else throw new WrpError('wrp_malformed', 'payload must be bytes');
        break;
      case 'service_name':
        m.serviceName = asString(v, k);
        break;
      case 'url':
        m.url = asString(v, k);
        break;
      case 'partner_ids':
        m.partnerIds = asStrings(v, k);
        break;
      case 'session_id':
        m.sessionId = asString(v, k);
        break;
      case 'qos':
        m.qos = asInt(v, k);
        break;
      default:
        break;
    }
  }
  if (!sawType) throw new WrpError('wrp_malformed', 'msg_type missing');
  return m;
}

// ------------------------------------------------------------------------------ HTTP headers

const TYPE_NAMES: Record<number, string> = {
  2: 'Auth',
  3: 'SimpleRequestResponse',
  4: 'SimpleEvent',
  5: 'Create',
  6: 'Retrieve',
  7: 'Update',
  8: 'Delete',
  9: 'ServiceRegistration',
  10: 'ServiceAlive',
  11: 'Unknown',
};

/** The wrp-go v3 header dialect (payload goes in the body). */
export function encodeHttpHeaders(m: Message): Record<string, string | string[]> {
  const h: Record<string, string | string[]> = {};
  h['X-Xmidt-Message-Type'] = TYPE_NAMES[m.msgType] ?? 'Unknown';
  if (m.source) h['X-Xmidt-Source'] = m.source;
  if (m.dest) h['X-Webpa-Device-Name'] = m.dest;
  if (m.transactionUuid) h['X-Xmidt-Transaction-Uuid'] = m.transactionUuid;
  if (m.status !== undefined) h['X-Xmidt-Status'] = String(m.status);
  if (m.rdr !== undefined) h['X-Xmidt-Request-Delivery-Response'] = String(m.rdr);
  if (m.accept) h['X-Xmidt-Accept'] = m.accept;
  if (m.path) h['X-Xmidt-Path'] = m.path;
  if (m.metadata && Object.keys(m.metadata).length > 0) {
    h['X-Xmidt-Metadata'] = Object.entries(m.metadata).map(([k, v]) => `${k}=${v}`);
  }
  if (m.partnerIds && m.partnerIds.length > 0) h['X-Xmidt-Partner-Id'] = [...m.partnerIds];
  if (m.sessionId) h['X-Xmidt-Session-Id'] = m.sessionId;
  if (m.headers && m.headers.length > 0) h['X-Xmidt-Headers'] = [...m.headers];
  if (m.serviceName) h['X-Xmidt-Service-Name'] = m.serviceName;
  if (m.url) h['X-Xmidt-Url'] = m.url;
  return h;
}

const DEVICE_ID = /^(mac|uuid|dns|serial):([^/]+)(\/[^/]+)?/i;

/** Canonical device id (`mac:112233445566`); throws WrpError('locator_invalid'). */
export function parseDeviceId(text: string): string {
  const m = DEVICE_ID.exec(text);
  if (!m || !m[1] || !m[2]) throw new WrpError('locator_invalid', 'invalid device id');
  const prefix = m[1].toLowerCase();
  let id = m[2];
  if (prefix === 'mac') {
    id = id.replace(/[:\-.,]/g, '').toLowerCase();
    if (!/^[0-9a-f]{12}$/.test(id)) throw new WrpError('locator_invalid', 'invalid mac address');
  }
  return `${prefix}:${id}`;
}
