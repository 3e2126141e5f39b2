import { WrpError } from './errors.js';
import { WIRE_KEYS, type Message } from './message.js';

// Encoded messages are carved out of a shared slab, as Node does for small Buffers: each call
// writes after the previous message and returns a view of its own bytes, so no copy is made.
// A message that does not fit moves to a fresh slab; a slab grown for one large message is not
// reused, so small messages never pin a large block.
const SLAB_SIZE = 16 * 1024;

let slab: Buffer = Buffer.allocUnsafeSlow(SLAB_SIZE);
let start = 0;
let pos = 0;

function key(name: string): Uint8Array {
  const bytes = Buffer.from(name, 'ascii');
  const out = new Uint8Array(bytes.length + 1);
  out[0] = 0xa0 | bytes.length;
  out.set(bytes, 1);
  return out;
}

const K_MSG_TYPE = key(WIRE_KEYS.msgType);
const K_SOURCE = key(WIRE_KEYS.source);
const K_DEST = key(WIRE_KEYS.dest);
const K_TRANSACTION_UUID = key(WIRE_KEYS.transactionUuid);
const K_CONTENT_TYPE = key(WIRE_KEYS.contentType);
const K_ACCEPT = key(WIRE_KEYS.accept);
const K_STATUS = key(WIRE_KEYS.status);
const K_RDR = key(WIRE_KEYS.rdr);
const K_HEADERS = key(WIRE_KEYS.headers);
const K_METADATA = key(WIRE_KEYS.metadata);
const K_PATH = key(WIRE_KEYS.path);
const K_PAYLOAD = key(WIRE_KEYS.payload);
const K_SERVICE_NAME = key(WIRE_KEYS.serviceName);
const K_URL = key(WIRE_KEYS.url);
const K_PARTNER_IDS = key(WIRE_KEYS.partnerIds);
const K_SESSION_ID = key(WIRE_KEYS.sessionId);
const K_QOS = key(WIRE_KEYS.qos);

function grow(need: number): void {
  const used = pos - start;
  const size = Math.max(SLAB_SIZE, (used + need) * 2);
  const next = Buffer.allocUnsafeSlow(size);
  slab.copy(next, 0, start, pos);
  slab = next;
  start = 0;
  pos = used;
}

function writeKey(k: Uint8Array): void {
  const n = k.length;
  if (pos + n > slab.length) grow(n);
  const s = slab;
  let p = pos;
  for (let i = 0; i < n; i++) s[p++] = k[i] as number;
  pos = p;
}

function writeString(str: string): void {
  const len = str.length;
  if (len < 32) {
    if (pos + 1 + len * 3 > slab.length) grow(1 + len * 3);
    const s = slab;
    let p = pos + 1;
    let i = 0;
    for (; i < len; i++) {
      const c = str.charCodeAt(i);
      if (c >= 0x80) break;
      s[p++] = c;
    }
    if (i === len) {
      s[pos] = 0xa0 | len;
      pos = p;
      return;
    }
  } else if (len < 128) {
    if (pos + 2 + len * 3 > slab.length) grow(2 + len * 3);
    const s = slab;
    let p = pos + 2;
    let i = 0;
    for (; i < len; i++) {
      const c = str.charCodeAt(i);
      if (c >= 0x80) break;
      s[p++] = c;
    }
    if (i === len) {
      s[pos] = 0xd9;
      s[pos + 1] = len;
      pos = p;
      return;
    }
  }
  writeStringSlow(str);
}

function writeStringSlow(str: string): void {
  const n = Buffer.byteLength(str, 'utf8');
  if (pos + 5 + n > slab.length) grow(5 + n);
  const s = slab;
  if (n < 32) {
    s[pos++] = 0xa0 | n;
  } else if (n < 0x100) {
    s[pos++] = 0xd9;
    s[pos++] = n;
  } else if (n < 0x10000) {
    s[pos++] = 0xda;
    s[pos++] = n >>> 8;
    s[pos++] = n & 0xff;
  } else {
    s[pos++] = 0xdb;
    s.writeUInt32BE(n, pos);
    pos += 4;
  }
  pos += s.write(str, pos, n, 'utf8');
}

// Signed integer widths as wrp-go v5 (msgp AppendInt64) writes them.
function writeInt(v: number, field: string): void {
  if (pos + 9 > slab.length) grow(9);
  const s = slab;
  if (v >= 0) {
    if (v <= 0x7f) {
      s[pos++] = v;
      return;
    }
    if (v <= 0x7fff) {
      s[pos++] = 0xd1;
      s[pos++] = v >>> 8;
      s[pos++] = v & 0xff;
      return;
    }
    if (v <= 0x7fffffff) {
      s[pos++] = 0xd2;
      s.writeInt32BE(v, pos);
      pos += 4;
      return;
    }
  } else {
    if (v >= -32) {
      s[pos++] = v & 0xff;
      return;
    }
    if (v >= -0x80) {
      s[pos++] = 0xd0;
      s[pos++] = v & 0xff;
      return;
    }
    if (v >= -0x8000) {
      s[pos++] = 0xd1;
      s[pos++] = (v >> 8) & 0xff;
      s[pos++] = v & 0xff;
      return;
    }
    if (v >= -0x80000000) {
      s[pos++] = 0xd2;
      s.writeInt32BE(v, pos);
      pos += 4;
      return;
    }
  }
  if (!Number.isSafeInteger(v)) {
    throw new WrpError('wrp_invalid', `${field} must be a safe integer`);
  }
  s[pos++] = 0xd3;
  s.writeBigInt64BE(BigInt(v), pos);
  pos += 8;
}

function checkInt(v: number, field: string): void {
  if (!Number.isSafeInteger(v)) {
    throw new WrpError('wrp_invalid', `${field} must be a safe integer`);
  }
}

function writeArrayHeader(n: number): void {
  if (pos + 5 > slab.length) grow(5);
  const s = slab;
  if (n < 16) {
    s[pos++] = 0x90 | n;
  } else if (n < 0x10000) {
    s[pos++] = 0xdc;
    s[pos++] = n >>> 8;
    s[pos++] = n & 0xff;
  } else {
    s[pos++] = 0xdd;
    s.writeUInt32BE(n, pos);
    pos += 4;
  }
}

function writeMapHeader(n: number): void {
  if (pos + 5 > slab.length) grow(5);
  const s = slab;
  if (n < 16) {
    s[pos++] = 0x80 | n;
  } else if (n < 0x10000) {
    s[pos++] = 0xde;
    s[pos++] = n >>> 8;
    s[pos++] = n & 0xff;
  } else {
    s[pos++] = 0xdf;
    s.writeUInt32BE(n, pos);
    pos += 4;
  }
}

function writeStrings(list: readonly string[], field: string): void {
  const n = list.length;
  writeArrayHeader(n);
  for (let i = 0; i < n; i++) {
    const v = list[i];
    if (typeof v !== 'string')
      throw new WrpError('wrp_invalid', `${field} entries must be strings`);
    writeString(v);
  }
}

function writeMetadata(md: Record<string, string>): void {
  const keys = Object.keys(md);
  const n = keys.length;
  for (let i = 1; i < n; i++) {
    if ((keys[i - 1] as string) > (keys[i] as string)) {
      keys.sort();
      break;
    }
  }
  writeMapHeader(n);
  for (let i = 0; i < n; i++) {
    const k = keys[i] as string;
    const v = md[k];
    if (typeof v !== 'string') throw new WrpError('wrp_invalid', 'metadata values must be strings');
    writeString(k);
    writeString(v);
  }
}

function writeBin(b: Uint8Array): void {
  const n = b.length;
  if (pos + 5 + n > slab.length) grow(5 + n);
  const s = slab;
  if (n < 0x100) {
    s[pos++] = 0xc4;
    s[pos++] = n;
  } else if (n < 0x10000) {
    s[pos++] = 0xc5;
    s[pos++] = n >>> 8;
    s[pos++] = n & 0xff;
  } else {
    s[pos++] = 0xc6;
    s.writeUInt32BE(n, pos);
    pos += 4;
  }
  if (n > 24) {
    s.set(b, pos);
    pos += n;
  } else {
    let p = pos;
    for (let i = 0; i < n; i++) s[p++] = b[i] as number;
    pos = p;
  }
}

/**
 * Encodes a message to msgpack exactly as wrp-go v5 does: keys in its fixed order, `msg_type`
 * and `qos` always written, empty strings omitted, integers in signed widths, payload as bin.
 * Metadata keys are written sorted so the output is deterministic. Lists, metadata and payload
 * are written when defined, even if empty (`90`, `80`, `c4 00`), as v5 does for non-nil values.
 *
 * The returned Buffer may share its underlying memory with other encoded messages (like Node's
 * pooled Buffers); copy it before transferring its ArrayBuffer.
 */
export function encodeMsgpack(msg: Message): Buffer {
  const {
    msgType,
    source,
    dest,
    transactionUuid,
    contentType,
    accept,
    status,
    rdr,
    headers,
    metadata,
    path,
    payload,
    serviceName,
    url,
    partnerIds,
    sessionId,
  } = msg;
  const qos = msg.qos ?? 0;
  checkInt(msgType, 'msg_type');
  checkInt(qos, 'qos');

  let n = 2;
  if (source) n++;
  if (dest) n++;
  if (transactionUuid) n++;
  if (contentType) n++;
  if (accept) n++;
  if (status != null) {
    checkInt(status, 'status');
    n++;
  }
  if (rdr != null) {
    checkInt(rdr, 'rdr');
    n++;
  }
  if (headers != null) n++;
  if (metadata != null) n++;
  if (path) n++;
  if (payload != null) n++;
  if (serviceName) n++;
  if (url) n++;
  if (partnerIds != null) n++;
  if (sessionId) n++;

  if (slab.length - pos < 64) {
    slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
    pos = 0;
  }
  start = pos;
  try {
    writeMapHeader(n);
    writeKey(K_MSG_TYPE);
    writeInt(msgType, 'msg_type');
    if (source) {
      writeKey(K_SOURCE);
      writeString(source);
    }
    if (dest) {
      writeKey(K_DEST);
      writeString(dest);
    }
    if (transactionUuid) {
      writeKey(K_TRANSACTION_UUID);
      writeString(transactionUuid);
    }
    if (contentType) {
      writeKey(K_CONTENT_TYPE);
      writeString(contentType);
    }
    if (accept) {
      writeKey(K_ACCEPT);
      writeString(accept);
    }
    if (status != null) {
      writeKey(K_STATUS);
      writeInt(status, 'status');
    }
    if (rdr != null) {
      writeKey(K_RDR);
      writeInt(rdr, 'rdr');
    }
    if (headers != null) {
      writeKey(K_HEADERS);
      writeStrings(headers, 'headers');
    }
    if (metadata != null) {
      writeKey(K_METADATA);
      writeMetadata(metadata);
    }
    if (path) {
      writeKey(K_PATH);
      writeString(path);
    }
    if (payload != null) {
      writeKey(K_PAYLOAD);
      writeBin(payload);
    }
    if (serviceName) {
      writeKey(K_SERVICE_NAME);
      writeString(serviceName);
    }
    if (url) {
      writeKey(K_URL);
      writeString(url);
    }
    if (partnerIds != null) {
      writeKey(K_PARTNER_IDS);
      writeStrings(partnerIds, 'partner_ids');
    }
    if (sessionId) {
      writeKey(K_SESSION_ID);
      writeString(sessionId);
    }
    writeKey(K_QOS);
    writeInt(qos, 'qos');
  } catch (err) {
    pos = start;
    if (err instanceof WrpError) throw err;
    throw new WrpError('wrp_invalid', 'message cannot be encoded', { cause: err });
  }

  const out = slab.subarray(start, pos);
  if (slab.length > SLAB_SIZE) {
    // grown for one large message: hand it over whole and start a fresh slab next time
    slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
    pos = 0;
  } else {
    pos = (pos + 7) & ~7;
  }
  return out;
}
