// MurmurHash3 x64_128 with seed 0, first 64-bit half (h1), as spaolacci/murmur3 `Sum64` computes
// it. 64-bit words are kept as pairs of unsigned 32-bit halves so that hashing allocates nothing:
// the helpers below leave their result in the scratch pair `R` (high word, low word).

// 0x87c37b91114253d5
const C1H = 0x87c37b91 | 0;
const C1L = 0x114253d5;
// 0x4cf5ad432745937f
const C2H = 0x4cf5ad43;
const C2L = 0x2745937f;
// 0xff51afd7ed558ccd
const F1H = 0xff51afd7 | 0;
const F1L = 0xed558ccd | 0;
// 0xc4ceb9fe1a85ec53
const F2H = 0xc4ceb9fe | 0;
const F2L = 0x1a85ec53;

// Every word is carried as a signed int32 (`| 0`), never as an unsigned value above 2^31: an
// int32 stays a small integer when passed between functions, where a larger number would be
// boxed on the heap. Results of the helpers land in the typed-array pair `R`, which never boxes.
const R = new Int32Array(2);

/**
 * (ah:al) * (bh:bl) mod 2^64. The low words' full 64-bit product is formed from 16-bit partial
 * products (each exact in a double); the cross terms only reach the high word (Math.imul).
 */
function mul64(ah: number, al: number, bh: number, bl: number): void {
  const a0 = al & 0xffff;
  const a1 = al >>> 16;
  const b0 = bl & 0xffff;
  const b1 = bl >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  const hi = a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  R[0] = hi + Math.imul(ah, bl) + Math.imul(al, bh);
  R[1] = Math.imul(al, bl);
}

function add64(ah: number, al: number, bh: number, bl: number): void {
  const lo = (al >>> 0) + (bl >>> 0);
  R[1] = lo;
  R[0] = ah + bh + (lo > 0xffffffff ? 1 : 0);
}

/** Rotate left by r, 0 < r < 64, r !== 32. */
function rotl64(h: number, l: number, r: number): void {
  if (r > 32) {
    const t = h;
    h = l;
    l = t;
    r -= 32;
  }
  R[0] = (h << r) | (l >>> (32 - r));
  R[1] = (l << r) | (h >>> (32 - r));
}

/** fmix64: k ^= k >> 33; k *= F1; k ^= k >> 33; k *= F2; k ^= k >> 33. */
function fmix64(h: number, l: number): void {
  l ^= h >>> 1;
  mul64(h, l, F1H, F1L);
  h = R[0]!;
  l = R[1]! ^ (h >>> 1);
  mul64(h, l, F2H, F2L);
  h = R[0]!;
  l = R[1]! ^ (h >>> 1);
  R[0] = h;
  R[1] = l;
}

/** Little-endian 32-bit word of `data` at `i` (bytes beyond `length` are never read here). */
function word(data: Uint8Array, i: number): number {
  return (
    (data[i] as number) |
    ((data[i + 1] as number) << 8) |
    ((data[i + 2] as number) << 16) |
    ((data[i + 3] as number) << 24) |
    0
  );
}

/**
 * Hashes `data[0..length)` and writes the first 64-bit half of the 128-bit result to
 * `out[0]` (high 32 bits) and `out[1]` (low 32 bits). Allocates nothing.
 */
export function murmur3Hash64Into(data: Uint8Array, length: number, out: Uint32Array): void {
  let h1h = 0;
  let h1l = 0;
  let h2h = 0;
  let h2l = 0;
  let k1h = 0;
  let k1l = 0;
  let k2h = 0;
  let k2l = 0;
  const blockEnd = length - (length % 16);
  for (let i = 0; i < blockEnd; i += 16) {
    k1l = word(data, i);
    k1h = word(data, i + 4);
    k2l = word(data, i + 8);
    k2h = word(data, i + 12);

    mul64(k1h, k1l, C1H, C1L);
    rotl64(R[0]!, R[1]!, 31);
    mul64(R[0]!, R[1]!, C2H, C2L);
    h1h ^= R[0]!;
    h1l ^= R[1]!;
    rotl64(h1h, h1l, 27);
    add64(R[0]!, R[1]!, h2h, h2l);
    mul64(R[0]!, R[1]!, 0, 5);
    add64(R[0]!, R[1]!, 0, 0x52dce729);
    h1h = R[0]!;
    h1l = R[1]!;

    mul64(k2h, k2l, C2H, C2L);
    rotl64(R[0]!, R[1]!, 33);
    mul64(R[0]!, R[1]!, C1H, C1L);
    h2h ^= R[0]!;
    h2l ^= R[1]!;
    rotl64(h2h, h2l, 31);
    add64(R[0]!, R[1]!, h1h, h1l);
    mul64(R[0]!, R[1]!, 0, 5);
    add64(R[0]!, R[1]!, 0, 0x38495ab5);
    h2h = R[0]!;
    h2l = R[1]!;
  }

  const tail = length - blockEnd;
  if (tail > 8) {
    k2h = 0;
    k2l = 0;
    for (let j = tail - 1; j >= 8; j--) {
      const b = data[blockEnd + j] as number;
      if (j >= 12) k2h |= b << ((j - 12) * 8);
      else k2l |= b << ((j - 8) * 8);
    }
    mul64(k2h, k2l, C2H, C2L);
    rotl64(R[0]!, R[1]!, 33);
    mul64(R[0]!, R[1]!, C1H, C1L);
    h2h ^= R[0]!;
    h2l ^= R[1]!;
  }
  if (tail > 0) {
    k1h = 0;
    k1l = 0;
    const top = tail > 8 ? 8 : tail;
    for (let j = top - 1; j >= 0; j--) {
      const b = data[blockEnd + j] as number;
      if (j >= 4) k1h |= b << ((j - 4) * 8);
      else k1l |= b << (j * 8);
    }
    mul64(k1h, k1l, C1H, C1L);
    rotl64(R[0]!, R[1]!, 31);
    mul64(R[0]!, R[1]!, C2H, C2L);
    h1h ^= R[0]!;
    h1l ^= R[1]!;
  }

  // length as a 64-bit value (lengths beyond 2^32 cannot occur here)
  h1l ^= length;
  h2l ^= length;

  add64(h1h, h1l, h2h, h2l);
  h1h = R[0]!;
  h1l = R[1]!;
  add64(h2h, h2l, h1h, h1l);
  h2h = R[0]!;
  h2l = R[1]!;

  fmix64(h1h, h1l);
  h1h = R[0]!;
  h1l = R[1]!;
  fmix64(h2h, h2l);
  h2h = R[0]!;
  h2l = R[1]!;

  add64(h1h, h1l, h2h, h2l);
  out[0] = R[0]!;
  out[1] = R[1]!;
}

const encoder = new TextEncoder();
const result = new Uint32Array(2);

/**
 * murmur3 `Sum64` (x64_128, seed 0, first half) of a string's UTF-8 bytes or of raw bytes, as an
 * unsigned bigint. Convenient for tests and tools; ring lookups use the allocation-free path.
 */
export function murmur3Sum64(data: string | Uint8Array): bigint {
  const bytes = typeof data === 'string' ? encoder.encode(data) : data;
  murmur3Hash64Into(bytes, bytes.length, result);
  return (BigInt(result[0] as number) << 32n) | BigInt(result[1] as number);
}
