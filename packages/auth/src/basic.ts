import { createHash, timingSafeEqual } from 'node:crypto';
import { AuthError, AuthErrorCode } from './auth-error.js';
import { parseAuthorization } from './authorization-header.js';
import { LruCache } from './lru-cache.js';
import type { Authenticator, Principal } from './principal.js';

interface Credential {
  user: string;
  digest: Buffer; // sha256 of the whole `user:pass`
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Accepts `user:pass` strings, or (as in the original's `authHeader` config) the base64 of
 * `user:pass`: a string without a colon is taken as base64.
 */
export function normalizeBasicCredential(entry: string): string {
  if (entry.includes(':')) return entry;
  if (!BASE64.test(entry)) throw new TypeError('basic credential is neither user:pass nor base64');
  const decoded = Buffer.from(entry, 'base64').toString('utf8');
  if (!decoded.includes(':')) throw new TypeError('basic credential does not decode to user:pass');
  return decoded;
}

/** Verifies the `user:pass` of a Basic header (no scheme) and returns the principal. */
export interface BasicVerifier {
  verify(credentials: string): Principal;
}

/** Accepted header values remembered, so a caller's every request is not decoded and hashed. */
const ACCEPTED_CACHE_SIZE = 256;
const ACCEPTED_TTL_MS = 10 * 60_000;

export function createBasicVerifier(credentials: readonly string[]): BasicVerifier {
  const table: Credential[] = credentials.map((c) => {
    const pair = normalizeBasicCredential(c);
    return { user: pair.slice(0, pair.indexOf(':')), digest: digest(pair) };
  });
  const accepted = new LruCache<string, Principal>(ACCEPTED_CACHE_SIZE);
  return {
    verify(encoded: string): Principal {
      const known = accepted.get(encoded);
      if (known) return known;
      if (!BASE64.test(encoded) || encoded.length % 4 !== 0) {
        throw new AuthError(AuthErrorCode.Malformed, 'invalid credentials: bad base64');
      }
      const pair = Buffer.from(encoded, 'base64').toString('utf8');
      const colon = pair.indexOf(':');
      if (colon < 0)
        throw new AuthError(AuthErrorCode.Malformed, 'invalid credentials: no user:pass');
      const given = digest(pair);
      // Compare against every entry without stopping early: time does not depend on which matched.
      let match: Credential | undefined;
      for (const c of table) {
        if (timingSafeEqual(c.digest, given) && match === undefined) match = c;
      }
      if (!match) throw new AuthError(AuthErrorCode.BadCredentials, 'bad credentials');
      const principal: Principal = Object.freeze({
        kind: 'basic',
        subject: match.user,
        partnerIds: [],
        capabilities: [],
        claims: {},
      });
      accepted.set(encoded, principal, ACCEPTED_TTL_MS);
      return principal;
    },
  };
}

/** An Authenticator for `Authorization: Basic <base64(user:pass)>` against a fixed list. */
export function createBasicAuthenticator(credentials: readonly string[]): Authenticator {
  const verifier = createBasicVerifier(credentials);
  return {
    async authenticate(authorization: string | undefined): Promise<Principal> {
      const { scheme, credentials: encoded } = parseAuthorization(authorization);
      if (scheme.toLowerCase() !== 'basic') {
        throw new AuthError(
          AuthErrorCode.UnsupportedScheme,
          `Unsupported authorization scheme: ${scheme}`,
        );
      }
      return verifier.verify(encoded);
    },
  };
}
