import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const EPOCH = 1_400_000_000;

/** A KSUID: 4-byte timestamp + 16 random bytes, 27 characters of base62 (session ids). */
export function ksuid(now = Date.now()): string {
  const bytes = Buffer.alloc(20);
  bytes.writeUInt32BE((Math.floor(now / 1000) - EPOCH) >>> 0, 0);
  randomBytes(16).copy(bytes, 4);
  let n = BigInt('0x' + bytes.toString('hex'));
  let out = '';
  while (n > 0n) {
    out = ALPHABET[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out.padStart(27, '0');
}
