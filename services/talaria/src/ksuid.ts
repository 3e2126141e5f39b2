import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const EPOCH = 1_400_000_000;
const LENGTH = 27; // 62^27 > 2^160: every KSUID fits in 27 base62 digits

// Random bytes are drawn from a pool refilled 4 KiB at a time: one system call per 256 ids.
const pool = Buffer.alloc(4096);
let poolPos = pool.length;

/** The KSUID of a timestamp (seconds since the Unix epoch) and 16 random bytes. */
export function ksuidOf(unixSeconds: number, random: Uint8Array): string {
  // 160 bits as five 32-bit words, most significant first, divided by 62 digit by digit
  const words = [(unixSeconds - EPOCH) >>> 0, 0, 0, 0, 0];
  for (let i = 0; i < 4; i++) {
    const o = i * 4;
    words[i + 1] =
      (((random[o] ?? 0) << 24) |
        ((random[o + 1] ?? 0) << 16) |
        ((random[o + 2] ?? 0) << 8) |
        (random[o + 3] ?? 0)) >>>
      0;
  }
  const digits = new Array<string>(LENGTH);
  for (let d = LENGTH - 1; d >= 0; d--) {
    let rem = 0;
    for (let j = 0; j < 5; j++) {
      const cur = rem * 0x1_0000_0000 + (words[j] as number); // < 62 * 2^32: exact in a double
      const q = Math.floor(cur / 62);
      words[j] = q;
      rem = cur - q * 62;
    }
    digits[d] = ALPHABET[rem] as string;
  }
  return digits.join('');
}

/** A KSUID: 4-byte timestamp + 16 random bytes, 27 characters of base62 (session ids). */
export function ksuid(now = Date.now()): string {
  if (poolPos + 16 > pool.length) {
    randomFillSync(pool);
    poolPos = 0;
  }
  const random = pool.subarray(poolPos, poolPos + 16);
  poolPos += 16;
  return ksuidOf(Math.floor(now / 1000), random);
}
