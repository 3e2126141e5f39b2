import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header Caduceus signs deliveries with. */
export const SIGNATURE_HEADER = 'X-Webpa-Signature';

/** `sha1=<lowercase hex HMAC-SHA1(secret, body)>`, the value of X-Webpa-Signature. */
export function signBody(secret: string, body: Uint8Array): string {
  return `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`;
}

/**
 * Verifies a delivery the way wrp-listener does: the values of `Xmidt-Signature` if present,
 * else of `X-Webpa-Signature`; each `<alg>=<hex>`; HMAC of the body with each accepted secret,
 * compared in constant time. Only sha1 and sha256 are known here.
 */
export function verifySignature(
  headers: Record<string, string | string[] | undefined>,
  body: Uint8Array,
  secrets: readonly string[],
): boolean {
  const pick = (name: string): string[] => {
    const v = headers[name];
    if (v === undefined) return [];
    return (Array.isArray(v) ? v : [v]).flatMap((x) => x.split(','));
  };
  let values = pick('xmidt-signature');
  if (values.length === 0) values = pick('x-webpa-signature');
  for (const raw of values) {
    if (raw.trim() === '') continue;
    const parts = raw.split('=');
    if (parts.length !== 2) return false;
    const alg = (parts[0] ?? '').trim().toLowerCase();
    const hex = (parts[1] ?? '').trim();
    if (alg === '' || hex === '') return false;
    if (alg !== 'sha1' && alg !== 'sha256') continue;
    if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) return false;
    const given = Buffer.from(hex, 'hex');
    for (const secret of secrets) {
      const want = createHmac(alg, secret).update(body).digest();
      if (want.length === given.length && timingSafeEqual(want, given)) return true;
    }
    return false;
  }
  return false;
}
