import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';

/** A verification key and, when its publisher said so, the one algorithm it is for. */
export interface VerificationKey {
  key: KeyObject;
  alg?: string;
  kid?: string;
}

export const MAX_JWKS_KEYS = 64;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A public key from a JWK object; symmetric (`oct`) keys are refused. */
export function keyFromJwk(jwk: Record<string, unknown>): VerificationKey {
  if (jwk['kty'] === 'oct' || typeof jwk['kty'] !== 'string') {
    throw new TypeError('only asymmetric public keys are accepted');
  }
  // Keep only public members: a JWK that carries private parts is still read as its public half.
  const pub: Record<string, unknown> = {};
  for (const m of ['kty', 'n', 'e', 'crv', 'x', 'y']) if (m in jwk) pub[m] = jwk[m];
  const key = createPublicKey({ key: pub as JsonWebKey, format: 'jwk' });
  const out: VerificationKey = { key };
  if (typeof jwk['alg'] === 'string') out.alg = jwk['alg'];
  if (typeof jwk['kid'] === 'string') out.kid = jwk['kid'];
  return out;
}

/** A public key from PEM (SPKI "PUBLIC KEY", PKCS#1 "RSA PUBLIC KEY", or an X.509 certificate). */
export function keyFromPem(pem: string): VerificationKey {
  const key = createPublicKey(pem);
  return { key };
}

/** Every usable key of a JWK set (at most {@link MAX_JWKS_KEYS}; unusable entries skipped). */
export function keysFromJwks(doc: unknown): VerificationKey[] {
  if (!isObject(doc) || !Array.isArray(doc['keys'])) throw new TypeError('not a JWK set');
  const out: VerificationKey[] = [];
  for (const k of doc['keys'].slice(0, MAX_JWKS_KEYS)) {
    if (!isObject(k)) continue;
    if (k['use'] !== undefined && k['use'] !== 'sig') continue;
    try {
      out.push(keyFromJwk(k));
    } catch {
      // skip keys we cannot use (unknown kty, symmetric, bad encoding)
    }
  }
  return out;
}

/**
 * Reads a key-server answer the way the original's key fetcher does: by Content-Type
 * (`application/x-pem-file`, `application/json`, `application/jwk+json`, `application/jwk-set+json`),
 * falling back to sniffing the body. A set yields the key with the wanted kid, or its only key.
 */
export function keyFromResponse(
  contentType: string,
  body: Buffer,
  kid: string,
): VerificationKey | undefined {
  const text = body.toString('utf8');
  const trimmed = text.trimStart();
  const isPem = contentType.includes('pem') || trimmed.startsWith('-----BEGIN');
  if (isPem) return keyFromPem(text);
  const doc: unknown = JSON.parse(text);
  if (isObject(doc) && Array.isArray(doc['keys'])) {
    const keys = keysFromJwks(doc);
    if (keys.length === 1) return keys[0];
    return keys.find((k) => k.kid === kid);
  }
  if (!isObject(doc)) throw new TypeError('key document is not a JSON object');
  return keyFromJwk(doc);
}
