// Minimal msgpack reader/writer used by the local WRP codec (see ./wrp.ts).
import { WrpError } from './wrp-error.js';

export type MsgValue =
  null | boolean | number | bigint | string | Uint8Array | MsgValue[] | Map<string, MsgValue>;

export interface ReadLimits {
  maxStringLength: number;
  maxEntries: number;
  maxDepth: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class MsgReader {
  private pos = 0;
  private readonly view: DataView;
  constructor(
    private readonly buf: Uint8Array,
    private readonly limits: ReadLimits,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  private need(n: number): number {
    const at = this.pos;
    if (at + n > this.buf.length) throw new WrpError('wrp_malformed', 'unexpected end of msgpack');
    this.pos += n;
    return at;
  }

  private str(n: number): string {
    if (n > this.limits.maxStringLength) throw new WrpError('wrp_too_large', 'string too long');
    const at = this.need(n);
    try {
      return utf8.decode(this.buf.subarray(at, at + n));
    } catch {
      throw new WrpError('wrp_malformed', 'invalid UTF-8 in msgpack string');
    }
  }

  private bin(n: number): Uint8Array {
    const at = this.need(n);
    return this.buf.slice(at, at + n);
  }

  private count(n: number): number {
    if (n > this.limits.maxEntries) throw new WrpError('wrp_too_large', 'too many entries');
    return n;
  }

  read(depth = 0): MsgValue {
    if (depth > this.limits.maxDepth)
      throw new WrpError('wrp_too_large', 'msgpack nested too deep');
    const b = this.buf[this.need(1)] as number;
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b >= 0xa0 && b <= 0xbf) return this.str(b & 0x1f);
    if (b >= 0x90 && b <= 0x9f) return this.array(b & 0x0f, depth);
    if (b >= 0x80 && b <= 0x8f) return this.map(b & 0x0f, depth);
    const v = this.view;
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return this.bin(v.getUint8(this.need(1)));
      case 0xc5:
        return this.bin(v.getUint16(this.need(2)));
      case 0xc6:
        return this.bin(v.getUint32(this.need(4)));
      case 0xc7:
        this.need(v.getUint8(this.need(1)) + 1);
        return null;
      case 0xc8:
        this.need(v.getUint16(this.need(2)) + 1);
        return null;
      case 0xc9:
        this.need(v.getUint32(this.need(4)) + 1);
        return null;
      case 0xca:
        return v.getFloat32(this.need(4));
      case 0xcb:
        return v.getFloat64(this.need(8));
      case 0xcc:
        return v.getUint8(this.need(1));
      case 0xcd:
        return v.getUint16(this.need(2));
      case 0xce:
        return v.getUint32(this.need(4));
      case 0xcf:
        return v.getBigUint64(this.need(8));
      case 0xd0:
        return v.getInt8(this.need(1));
      case 0xd1:
        return v.getInt16(this.need(2));
      case 0xd2:
        return v.getInt32(this.need(4));
      case 0xd3:
        return v.getBigInt64(this.need(8));
      case 0xd4:
        this.need(2);
        return null;
      case 0xd5:
        this.need(3);
        return null;
      case 0xd6:
        this.need(5);
        return null;
      case 0xd7:
        this.need(9);
        return null;
      case 0xd8:
        this.need(17);
        return null;
      case 0xd9:
        return this.str(v.getUint8(this.need(1)));
      case 0xda:
        return this.str(v.getUint16(this.need(2)));
      case 0xdb:
        return this.str(v.getUint32(this.need(4)));
      case 0xdc:
        return this.array(v.getUint16(this.need(2)), depth);
      case 0xdd:
        return this.array(v.getUint32(this.need(4)), depth);
      case 0xde:
        return this.map(v.getUint16(this.need(2)), depth);
      case 0xdf:
        return this.map(v.getUint32(this.need(4)), depth);
      default:
        throw new WrpError('wrp_malformed', `invalid msgpack byte 0x${b.toString(16)}`);
    }
  }

  private array(n: number, depth: number): MsgValue[] {
    const out: MsgValue[] = [];
    for (let i = this.count(n); i > 0; i--) out.push(this.read(depth + 1));
    return out;
  }

  private map(n: number, depth: number): Map<string, MsgValue> {
    const out = new Map<string, MsgValue>();
    for (let i = this.count(n); i > 0; i--) {
      const k = this.read(depth + 1);
      const val = this.read(depth + 1);
      if (typeof k === 'string') out.set(k, val);
    }
    return out;
  }
}

const utf8enc = new TextEncoder();

export class MsgWriter {
  private buf = Buffer.allocUnsafe(256);
  private pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  mapHeader(n: number): void {
    if (n < 16) this.byte(0x80 | n);
    else if (n < 0x10000) {
      this.byte(0xde);
      this.ensure(2);
      this.buf.writeUInt16BE(n, this.pos);
      this.pos += 2;
    } else {
      this.byte(0xdf);
      this.ensure(4);
      this.buf.writeUInt32BE(n, this.pos);
      this.pos += 4;
    }
  }

  arrayHeader(n: number): void {
    if (n < 16) this.byte(0x90 | n);
    else if (n < 0x10000) {
      this.byte(0xdc);
      this.ensure(2);
      this.buf.writeUInt16BE(n, this.pos);
      this.pos += 2;
    } else {
      this.byte(0xdd);
      this.ensure(4);
      this.buf.writeUInt32BE(n, this.pos);
      this.pos += 4;
    }
  }

  str(s: string): void {
    const bytes = utf8enc.encode(s);
    const n = bytes.length;
    if (n < 32) this.byte(0xa0 | n);
    else if (n < 0x100) {
      this.byte(0xd9);
      this.byte(n);
    } else if (n < 0x10000) {
      this.byte(0xda);
      this.ensure(2);
      this.buf.writeUInt16BE(n, this.pos);
      this.pos += 2;
    } else {
      this.byte(0xdb);
      this.ensure(4);
      this.buf.writeUInt32BE(n, this.pos);
      this.pos += 4;
    }
    this.ensure(n);
    this.buf.set(bytes, this.pos);
    this.pos += n;
  }

  bin(b: Uint8Array): void {
    const n = b.length;
    if (n < 0x100) {
      this.byte(0xc4);
      this.byte(n);
    } else if (n < 0x10000) {
      this.byte(0xc5);
      this.ensure(2);
      this.buf.writeUInt16BE(n, this.pos);
      this.pos += 2;
    } else {
      this.byte(0xc6);
      this.ensure(4);
      this.buf.writeUInt32BE(n, this.pos);
      this.pos += 4;
    }
    this.ensure(n);
    this.buf.set(b, this.pos);
    this.pos += n;
  }

  // Signed integer in the smallest Go-style encoding (fixint, or int8..int64).
  int(v: number): void {
    if (v >= 0 && v <= 0x7f) return this.byte(v);
    if (v < 0 && v >= -32) return this.byte(0x100 + v);
    this.ensure(9);
    if (v >= -0x80 && v <= 0x7f) {
      this.buf[this.pos++] = 0xd0;
      this.buf.writeInt8(v, this.pos);
      this.pos += 1;
    } else if (v >= -0x8000 && v <= 0x7fff) {
      this.buf[this.pos++] = 0xd1;
      this.buf.writeInt16BE(v, this.pos);
      this.pos += 2;
    } else if (v >= -0x80000000 && v <= 0x7fffffff) {
      this.buf[this.pos++] = 0xd2;
      this.buf.writeInt32BE(v, this.pos);
      this.pos += 4;
    } else {
      this.buf[this.pos++] = 0xd3;
      this.buf.writeBigInt64BE(BigInt(Math.trunc(v)), this.pos);
      this.pos += 8;
    }
  }

  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}
