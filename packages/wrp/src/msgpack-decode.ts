import { isUtf8 } from 'node:buffer';
import { WrpError, malformed, tooLarge } from './errors.js';
import { DEFAULT_LIMITS, type DecodeOptions } from './limits.js';
import { WIRE_KEYS, setEntry, type Message } from './message.js';

// A strict single-pass msgpack reader specialised for WRP: keys are matched on their bytes
// without building strings, every length and count is checked against the remaining input and
// the caller's limits before anything is allocated, and unknown values are skipped in place.
// State is module-level (decoding is synchronous and not re-entrant).

// Node's Buffer has encoding-specific slice methods (what `toString(encoding, start, end)`
// dispatches to); calling them directly skips the dispatch. They are not in @types/node.
interface FastBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

const EMPTY = Buffer.alloc(0) as FastBuffer;
let src: FastBuffer = EMPTY;
let pos = 0;
let end = 0;
let maxStr = 0;
let maxEntries = 0;
let maxMeta = 0;
let maxDepth = 0;
let copyPayload = false;

const F_MSG_TYPE = 0;
const F_SOURCE = 1;
const F_DEST = 2;
const F_TRANSACTION_UUID = 3;
const F_CONTENT_TYPE = 4;
const F_ACCEPT = 5;
const F_STATUS = 6;
const F_RDR = 7;
const F_HEADERS = 8;
const F_METADATA = 9;
const F_PATH = 10;
const F_PAYLOAD = 11;
const F_SERVICE_NAME = 12;
const F_URL = 13;
const F_PARTNER_IDS = 14;
const F_SESSION_ID = 15;
const F_QOS = 16;

// Field numbers above follow WIRE_KEYS' order.
const KEYS: readonly string[] = Object.values(WIRE_KEYS);
const KEY_BYTES: readonly Uint8Array[] = KEYS.map((k) => Buffer.from(k, 'ascii'));

// Candidate fields per key length; keys never exceed 16 bytes.
const BY_LENGTH: readonly (readonly number[])[] = (() => {
  const table: number[][] = Array.from({ length: 17 }, () => []);
  KEYS.forEach((k, i) => table[k.length]?.push(i));
  return table;
})();

const truncated = (): WrpError => malformed('truncated msgpack input');

function need(n: number): void {
  if (n > end - pos) throw truncated();
}

function u8(): number {
  if (pos >= end) throw truncated();
  return src[pos++] as number;
}

function u16(): number {
  if (pos + 2 > end) throw truncated();
  const v = ((src[pos] as number) << 8) | (src[pos + 1] as number);
  pos += 2;
  return v;
}

function u32(): number {
  if (pos + 4 > end) throw truncated();
  const v = src.readUInt32BE(pos);
  pos += 4;
  return v;
}

function fieldOf(start: number, len: number): number {
  if (len > 16) return -1;
  const candidates = BY_LENGTH[len] as readonly number[];
  const s = src;
  outer: for (let c = 0; c < candidates.length; c++) {
    const f = candidates[c] as number;
    const k = KEY_BYTES[f] as Uint8Array;
    for (let i = 0; i < len; i++) {
      if (s[start + i] !== k[i]) continue outer;
    }
    return f;
  }
  return -1;
}

function text(start: number, len: number, what: string): string {
  const s = src;
  const e = start + len;
  for (let i = start; i < e; i++) {
    if ((s[i] as number) >= 0x80) return utf8(start, e, what);
  }
  return s.latin1Slice(start, e);
}

function utf8(start: number, e: number, what: string): string {
  if (!isUtf8(src.subarray(start, e))) throw malformed(`${what} is not valid UTF-8`);
  return src.utf8Slice(start, e);
}

// Metadata keys repeat from message to message ('/boot-time', '/hw-model' …): a small cache
// of recent keys, looked up by their bytes, hands back the same string, so objects built with
// it share their shape and no new key string is made. Keys up to 48 bytes; 64 slots.
const KEY_SLOTS = 64;
const MAX_CACHED_KEY = 48;
const cachedKeyBytes: (Buffer | undefined)[] = new Array<Buffer | undefined>(KEY_SLOTS);
const cachedKeys: string[] = new Array<string>(KEY_SLOTS).fill('');

function cachedText(start: number, len: number, what: string): string {
  const s = src;
  if (len === 0 || len > MAX_CACHED_KEY) return text(start, len, what);
  const slot =
    (len * 31 + (s[start] as number) * 7 + (s[start + len - 1] as number)) & (KEY_SLOTS - 1);
  const known = cachedKeyBytes[slot];
  if (known !== undefined && known.length === len) {
    let i = 0;
    while (i < len && known[i] === s[start + i]) i++;
    if (i === len) return cachedKeys[slot] as string;
  }
  const str = text(start, len, what);
  cachedKeyBytes[slot] = Buffer.from(s.subarray(start, start + len));
  cachedKeys[slot] = str;
  return str;
}

/** Reads a str or bin value as text; `undefined` for nil. */
function readText(what: string, cache = false): string | undefined {
  const b = u8();
  let len: number;
  if ((b & 0xe0) === 0xa0) len = b & 0x1f;
  else if (b === 0xd9 || b === 0xc4) len = u8();
  else if (b === 0xda || b === 0xc5) len = u16();
  else if (b === 0xdb || b === 0xc6) len = u32();
  else if (b === 0xc0) return undefined;
  else throw malformed(`${what} must be a string`);
  if (len > maxStr) throw tooLarge(`${what} is longer than ${maxStr} bytes`);
  need(len);
  const start = pos;
  pos += len;
  return cache ? cachedText(start, len, what) : text(start, len, what);
}

/** Reads an integer of any msgpack width; `undefined` for nil. */
function readInt(what: string): number | undefined {
  const b = u8();
  if (b < 0x80) return b;
  if (b >= 0xe0) return b - 0x100;
  let v: number;
  switch (b) {
    case 0xc0:
      return undefined;
    case 0xcc:
      return u8();
    case 0xcd:
      return u16();
    case 0xce:
      return u32();
    case 0xcf:
      need(8);
      v = src.readUInt32BE(pos) * 0x100000000 + src.readUInt32BE(pos + 4);
      pos += 8;
      break;
    case 0xd0:
      need(1);
      return src.readInt8(pos++);
    case 0xd1:
      need(2);
      v = src.readInt16BE(pos);
      pos += 2;
      return v;
    case 0xd2:
      need(4);
      v = src.readInt32BE(pos);
      pos += 4;
      return v;
    case 0xd3:
      need(8);
      v = src.readInt32BE(pos) * 0x100000000 + src.readUInt32BE(pos + 4);
      pos += 8;
      break;
    default:
      throw malformed(`${what} must be an integer`);
  }
  if (!Number.isSafeInteger(v)) throw malformed(`${what} is out of range`);
  return v;
}

function readPayload(): Uint8Array | undefined {
  const b = u8();
  let len: number;
  if (b === 0xc4 || b === 0xd9) len = u8();
  else if (b === 0xc5 || b === 0xda) len = u16();
  else if (b === 0xc6 || b === 0xdb) len = u32();
  else if ((b & 0xe0) === 0xa0) len = b & 0x1f;
  else if (b === 0xc0) return undefined;
  else throw malformed('payload must be bin or str');
  need(len);
  const start = pos;
  pos += len;
  // a Buffer (so `toString()` and friends work), sharing the input's memory unless asked not to
  const view = src.subarray(start, pos);
  return copyPayload ? Buffer.from(view) : view;
}

function checkContainer(n: number, minBytesEach: number, what: string, limit: number): void {
  if (n > limit) throw tooLarge(`${what} has more than ${limit} entries`);
  if (n * minBytesEach > end - pos) throw truncated();
}

function readList(what: string): string[] | undefined {
  const b = u8();
  let n: number;
  if ((b & 0xf0) === 0x90) n = b & 0x0f;
  else if (b === 0xdc) n = u16();
  else if (b === 0xdd) n = u32();
  else if (b === 0xc0) return undefined;
  else {
    // a lone string stands for a one-element list (as legacy wrp-c accepts)
    pos--;
    const one = readText(what);
    return one === undefined ? undefined : [one];
  }
  if (maxDepth < 2) throw tooLarge(`nesting deeper than ${maxDepth}`);
  checkContainer(n, 1, what, maxEntries);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const v = readText(what);
    if (v === undefined) throw malformed(`${what} entries must be strings`);
    out.push(v);
  }
  return out;
}

function readMetadataValue(): string {
  const b = src[pos];
  if (b === 0xc0) {
    pos++;
    return '';
  }
  if (b === 0xc2 || b === 0xc3) {
    pos++;
    return b === 0xc3 ? 'true' : 'false';
  }
  if (b !== undefined && (b < 0x80 || b >= 0xe0 || (b >= 0xcc && b <= 0xd3))) {
    return String(readInt('metadata value'));
  }
  return readText('metadata value') as string;
}

function readMetadata(): Record<string, string> | undefined {
  const b = u8();
  let n: number;
  if ((b & 0xf0) === 0x80) n = b & 0x0f;
  else if (b === 0xde) n = u16();
  else if (b === 0xdf) n = u32();
  else if (b === 0xc0) return undefined;
  else throw malformed('metadata must be a map');
  if (maxDepth < 2) throw tooLarge(`nesting deeper than ${maxDepth}`);
  checkContainer(n, 2, 'metadata', Math.min(maxMeta, maxEntries));
  const out: Record<string, string> = {};
  for (let i = 0; i < n; i++) {
    const k = readText('metadata key', true);
    if (k === undefined) throw malformed('metadata keys must be strings');
    setEntry(out, k, readMetadataValue());
  }
  return out;
}

function skip(depth: number): void {
  const b = u8();
  if (b < 0x80 || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) return;
  if (b < 0x90) return skipMap(b & 0x0f, depth);
  if (b < 0xa0) return skipArray(b & 0x0f, depth);
  if (b < 0xc0) return advance(b & 0x1f);
  switch (b) {
    case 0xc4:
    case 0xd9:
      return advance(u8());
    case 0xc5:
    case 0xda:
      return advance(u16());
    case 0xc6:
    case 0xdb:
      return advance(u32());
    case 0xc7:
      return advance(u8() + 1);
    case 0xc8:
      return advance(u16() + 1);
    case 0xc9:
      return advance(u32() + 1);
    case 0xcc:
    case 0xd0:
      return advance(1);
    case 0xcd:
    case 0xd1:
    case 0xd4:
      return advance(2);
    case 0xd5:
      return advance(3);
    case 0xca:
    case 0xce:
    case 0xd2:
      return advance(4);
    case 0xd6:
      return advance(5);
    case 0xcb:
    case 0xcf:
    case 0xd3:
      return advance(8);
    case 0xd7:
      return advance(9);
    case 0xd8:
      return advance(17);
    case 0xdc:
      return skipArray(u16(), depth);
    case 0xdd:
      return skipArray(u32(), depth);
    case 0xde:
      return skipMap(u16(), depth);
    case 0xdf:
      return skipMap(u32(), depth);
    default:
      throw malformed('invalid msgpack type byte 0xc1');
  }
}

function advance(n: number): void {
  need(n);
  pos += n;
}

function skipArray(n: number, depth: number): void {
  if (depth > maxDepth) throw tooLarge(`nesting deeper than ${maxDepth}`);
  checkContainer(n, 1, 'array', maxEntries);
  for (let i = 0; i < n; i++) skip(depth + 1);
}

function skipMap(n: number, depth: number): void {
  if (depth > maxDepth) throw tooLarge(`nesting deeper than ${maxDepth}`);
  checkContainer(n, 2, 'map', maxEntries);
  for (let i = 0; i < 2 * n; i++) skip(depth + 1);
}

function readMessage(): Message {
  const b = u8();
  let n: number;
  if ((b & 0xf0) === 0x80) n = b & 0x0f;
  else if (b === 0xde) n = u16();
  else if (b === 0xdf) n = u32();
  else throw malformed('a WRP message must be a msgpack map');
  if (maxDepth < 1) throw tooLarge(`nesting deeper than ${maxDepth}`);
  checkContainer(n, 2, 'message', maxEntries);

  let msgType: number | undefined;
  let source: string | undefined;
  let dest: string | undefined;
  let transactionUuid: string | undefined;
  let contentType: string | undefined;
  let accept: string | undefined;
  let status: number | undefined;
  let rdr: number | undefined;
  let headers: string[] | undefined;
  let metadata: Record<string, string> | undefined;
  let path: string | undefined;
  let payload: Uint8Array | undefined;
  let serviceName: string | undefined;
  let url: string | undefined;
  let partnerIds: string[] | undefined;
  let sessionId: string | undefined;
  let qos: number | undefined;

  for (let i = 0; i < n; i++) {
    const kb = u8();
    let klen: number;
    if ((kb & 0xe0) === 0xa0) klen = kb & 0x1f;
    else if (kb === 0xd9 || kb === 0xc4) klen = u8();
    else if (kb === 0xda || kb === 0xc5) klen = u16();
    else if (kb === 0xdb || kb === 0xc6) klen = u32();
    else throw malformed('message keys must be strings');
    need(klen);
    const ks = pos;
    pos += klen;
    switch (fieldOf(ks, klen)) {
      case F_MSG_TYPE:
        msgType = readInt('msg_type');
        if (msgType === undefined) throw malformed('msg_type must be an integer');
        break;
      case F_SOURCE:
        source = readText('source');
        break;
      case F_DEST:
        dest = readText('dest');
        break;
      case F_TRANSACTION_UUID:
        transactionUuid = readText('transaction_uuid');
        break;
      case F_CONTENT_TYPE:
        contentType = readText('content_type');
        break;
      case F_ACCEPT:
        accept = readText('accept');
        break;
      case F_STATUS:
        status = readInt('status');
        break;
      case F_RDR:
        rdr = readInt('rdr');
        break;
      case F_HEADERS:
        headers = readList('headers');
        break;
      case F_METADATA:
        metadata = readMetadata();
        break;
      case F_PATH:
        path = readText('path');
        break;
      case F_PAYLOAD:
        payload = readPayload();
        break;
      case F_SERVICE_NAME:
        serviceName = readText('service_name');
        break;
      case F_URL:
        url = readText('url');
        break;
      case F_PARTNER_IDS:
        partnerIds = readList('partner_ids');
        break;
      case F_SESSION_ID:
        sessionId = readText('session_id');
        break;
      case F_QOS:
        qos = readInt('qos');
        break;
      default:
        skip(2);
    }
  }
  if (msgType === undefined) throw malformed('msg_type is missing');

  const msg: Message = { msgType };
  if (source) msg.source = source;
  if (dest) msg.dest = dest;
  if (transactionUuid) msg.transactionUuid = transactionUuid;
  if (contentType) msg.contentType = contentType;
  if (accept) msg.accept = accept;
  if (status !== undefined) msg.status = status;
  if (rdr !== undefined) msg.rdr = rdr;
  if (headers !== undefined) msg.headers = headers;
  if (metadata !== undefined) msg.metadata = metadata;
  if (path) msg.path = path;
  if (payload !== undefined) msg.payload = payload;
  if (serviceName) msg.serviceName = serviceName;
  if (url) msg.url = url;
  if (partnerIds !== undefined) msg.partnerIds = partnerIds;
  if (sessionId) msg.sessionId = sessionId;
  if (qos !== undefined) msg.qos = qos;
  return msg;
}

/**
 * Decodes one msgpack-encoded WRP message. Accepts every layout the original implementations
 * write: any key order, signed or unsigned integers of any width, payload as bin or str,
 * duplicate keys (the last wins), unknown keys (skipped). Bytes after the message map are ignored,
 * as wrp-go does. Does not validate (see `validateMessage`).
 *
 * Throws only {@link WrpError}: `wrp_malformed` for input that is not a WRP message (including
 * strings that are not valid UTF-8), `wrp_too_large` when a limit is exceeded.
 */
export function decodeMsgpack(bytes: Uint8Array, options?: DecodeOptions): Message {
  if (!(bytes instanceof Uint8Array)) throw malformed('input must be a Uint8Array');
  const o = options ?? DEFAULT_LIMITS;
  const maxBytes = o.maxBytes ?? DEFAULT_LIMITS.maxBytes;
  maxStr = o.maxStringLength ?? DEFAULT_LIMITS.maxStringLength;
  maxEntries = o.maxEntries ?? DEFAULT_LIMITS.maxEntries;
  maxMeta = o.maxMetadataEntries ?? DEFAULT_LIMITS.maxMetadataEntries;
  maxDepth = o.maxDepth ?? DEFAULT_LIMITS.maxDepth;
  copyPayload = o.copyPayload === true;
  if (bytes.length > maxBytes) {
    throw tooLarge(`message of ${bytes.length} bytes exceeds the limit of ${maxBytes}`);
  }
  src = (
    Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
  ) as FastBuffer;
  pos = 0;
  end = src.length;
  try {
    return readMessage();
  } catch (err) {
    if (err instanceof WrpError) throw err;
    throw malformed('malformed msgpack input', err);
  } finally {
    src = EMPTY;
  }
}
