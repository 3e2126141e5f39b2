import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

/**
 * `n` bytes from the CSPRNG as base64url, drawn from a pooled buffer refilled 4 KiB at a time
 * (one OpenSSL call per few hundred tokens instead of one per token).
 */
export function randomBase64Url(n: number): string {
  if (n > POOL_SIZE) return randomFillSync(Buffer.allocUnsafe(n)).toString('base64url');
  if (offset + n > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const out = pool.toString('base64url', offset, offset + n);
  offset += n;
  return out;
}
