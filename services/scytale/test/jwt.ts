import { createHmac, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

const part = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

/**
 * A compact JWS made by hand, for tokens an issuer would never produce (expired, `alg: none`,
 * HMAC keyed with a public key). RS256 with a private key, HS256 with a secret, or none.
 */
export function compactJws(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  key: { rs256: KeyObject } | { hs256: string } | 'none',
): string {
  const input = `${part(header)}.${part(claims)}`;
  if (key === 'none') return `${input}.`;
  const sig =
    'rs256' in key
      ? sign('sha256', Buffer.from(input), key.rs256)
      : createHmac('sha256', key.hs256).update(input).digest();
  return `${input}.${sig.toString('base64url')}`;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
