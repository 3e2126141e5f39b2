// A small msgpack codec for the benchmark's WRP frames: maps with string keys, strings, integers,
// floats, booleans, nil, arrays and bin. WRP on the wire is a msgpack map keyed by the field
// names (`msg_type`, `source`, `dest`, `transaction_uuid`, `payload` as bin, ...).

export type WireValue =
  null | boolean | number | string | Uint8Array | WireValue[] | { [key: string]: WireValue };

export type WireMap = { [key: string]: WireValue };

class Writer {
  private buf = Buffer.allocUnsafe(256);
  private pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  u16(n: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(n, this.pos);
    this.pos += 2;
  }

  u32(n: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(n, this.pos);
    this.pos += 4;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  value(v: WireValue): void {
    if (v === null) return this.byte(0xc0);
    if (v === true) return this.byte(0xc3);
    if (v === false) return this.byte(0xc2);
    if (typeof v === 'number') return this.number(v);
    if (typeof v === 'string') {
      const b = Buffer.from(v, 'utf8');
      if (b.length < 32) this.byte(0xa0 | b.length);
      else this.sized(b.length, 0xd9);
      return this.bytes(b);
    }
    if (v instanceof Uint8Array) {
      this.sized(v.length, 0xc4);
      return this.bytes(v);
    }
    if (Array.isArray(v)) {
      this.header(v.length, 0x90, 0xdc);
      for (const x of v) this.value(x);
      return;
    }
    const keys = Object.keys(v);
    this.header(keys.length, 0x80, 0xde);
    for (const k of keys) {
      this.value(k);
      this.value(v[k] as WireValue);
    }
  }

  /** str8/16/32 or bin8/16/32 header: `first` is the 8-bit variant's type byte. */
  private sized(n: number, first: number): void {
    if (n < 0x100) {
      this.byte(first);
      this.byte(n);
    } else if (n < 0x10000) {
      this.byte(first + 1);
      this.u16(n);
    } else {
      this.byte(first + 2);
      this.u32(n);
    }
  }

  /** Array or map header: fixarray/fixmap, else the 16- or 32-bit form. */
  private header(n: number, fix: number, wide: number): void {
    if (n < 16) {
      this.byte(fix | n);
    } else if (n < 0x10000) {
      this.byte(wide);
      this.u16(n);
    } else {
      this.byte(wide + 1);
      this.u32(n);
    }
  }

  private number(n: number): void {
    if (Number.isInteger(n) && n >= 0 && n <= 0xffffffff) {
      if (n < 0x80) return this.byte(n);
      if (n < 0x100) {
        this.byte(0xcc);
        return this.byte(n);
      }
      if (n < 0x10000) {
        this.byte(0xcd);
        return this.u16(n);
      }
      this.byte(0xce);
      return this.u32(n);
    }
    if (Number.isInteger(n) && n < 0 && n >= -0x80000000) {
      if (n >= -32) return this.byte(n & 0xff);
      this.ensure(5);
      this.buf[this.pos++] = 0xd2;
      this.buf.writeInt32BE(n, this.pos);
      this.pos += 4;
      return;
    }
    this.ensure(9);
    this.buf[this.pos++] = 0xcb;
    this.buf.writeDoubleBE(n, this.pos);
    this.pos += 8;
  }

  done(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

export function encode(v: WireValue): Buffer {
  const w = new Writer();
  w.value(v);
  return w.done();
}

class Reader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  private take(n: number): number {
    const at = this.pos;
    if (at + n > this.buf.length) throw new Error('msgpack: unexpected end');
    this.pos += n;
    return at;
  }

  private str(n: number): string {
    const at = this.take(n);
    return this.buf.toString('utf8', at, at + n);
  }

  private bin(n: number): Uint8Array {
    const at = this.take(n);
    return this.buf.subarray(at, at + n);
  }

  private arr(n: number, depth: number): WireValue[] {
    const out: WireValue[] = [];
    for (let i = 0; i < n; i++) out.push(this.value(depth + 1));
    return out;
  }

  private map(n: number, depth: number): WireMap {
    const out: WireMap = {};
    for (let i = 0; i < n; i++) {
      const k = this.value(depth + 1);
      out[String(k)] = this.value(depth + 1);
    }
    return out;
  }

  value(depth = 0): WireValue {
    if (depth > 32) throw new Error('msgpack: too deep');
    const b = this.buf[this.take(1)] as number;
    if (b < 0x80) return b;
    if (b >= 0xe0) return b - 0x100;
    if ((b & 0xe0) === 0xa0) return this.str(b & 0x1f);
    if ((b & 0xf0) === 0x90) return this.arr(b & 0x0f, depth);
    if ((b & 0xf0) === 0x80) return this.map(b & 0x0f, depth);
    const u8 = (): number => this.buf.readUInt8(this.take(1));
    const u16 = (): number => this.buf.readUInt16BE(this.take(2));
    const u32 = (): number => this.buf.readUInt32BE(this.take(4));
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return this.bin(u8());
      case 0xc5:
        return this.bin(u16());
      case 0xc6:
        return this.bin(u32());
      case 0xca:
        return this.buf.readFloatBE(this.take(4));
      case 0xcb:
        return this.buf.readDoubleBE(this.take(8));
      case 0xcc:
        return u8();
      case 0xcd:
        return u16();
      case 0xce:
        return u32();
      case 0xcf:
        return Number(this.buf.readBigUInt64BE(this.take(8)));
      case 0xd0:
        return this.buf.readInt8(this.take(1));
      case 0xd1:
        return this.buf.readInt16BE(this.take(2));
      case 0xd2:
        return this.buf.readInt32BE(this.take(4));
      case 0xd3:
        return Number(this.buf.readBigInt64BE(this.take(8)));
      case 0xd9:
        return this.str(u8());
      case 0xda:
        return this.str(u16());
      case 0xdb:
        return this.str(u32());
      case 0xdc:
        return this.arr(u16(), depth);
      case 0xdd:
        return this.arr(u32(), depth);
      case 0xde:
        return this.map(u16(), depth);
      case 0xdf:
        return this.map(u32(), depth);
      default:
        throw new Error(`msgpack: unsupported type 0x${b.toString(16)}`);
    }
  }
}

export function decode(buf: Buffer): WireValue {
  return new Reader(buf).value();
}

/** Decodes a frame that must be a map (a WRP message); undefined otherwise. */
export function decodeMap(buf: Buffer): WireMap | undefined {
  try {
    const v = decode(buf);
    return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)
      ? v
      : undefined;
  } catch {
    return undefined;
  }
}
