import { compactVerify, errors as joseErrors } from 'jose';
import { AuthError, AuthErrorCode } from './auth-error.js';
import { parseAuthorization } from './authorization-header.js';
import { JwksKeySource } from './jwks-key-source.js';
import type { KeyFetchOptions, KeySource } from './key-source.js';
import { capabilitiesOf, partnerIdsOf, type Authenticator, type Principal } from './principal.js';
import { TemplateKeySource } from './template-key-source.js';

/** Asymmetric JWS algorithms a verifier may allow. `none` and HMAC are never accepted. */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

export interface JwtVerifierOptions extends KeyFetchOptions {
  /** Key URL template with `{kid}` (or `{keyID}`), e.g. `http://themis:6500/keys/{kid}`. */
  keysUrl?: string;
  /** JWK set URL, e.g. `http://themis:6500/.well-known/jwks.json`. */
  jwksUrl?: string;
  /** Any other key source (takes precedence over the URLs). */
  keySource?: KeySource;
  /** Allowed `alg` values. Default ['RS256']. Only {@link ASYMMETRIC_ALGORITHMS} may be listed. */
  algorithms?: readonly string[];
  /** Clock-skew tolerance in seconds for exp/nbf/iat; widens the validity window. Default 0. */
  leewaySeconds?: number;
  /** kid used when the token has none. Default 'current' (the original's default). */
  defaultKid?: string;
  /** Refuse tokens without a kid (Scytale's rule). Default false. */
  requireKid?: boolean;
  /** Claims tried in order for the principal's subject; one must be a non-empty string. Default ['sub']. */
  subjectClaims?: readonly string[];
  /** Refuse tokens without `exp`. Default false (the original accepts them). */
  requireExp?: boolean;
}

export interface JwtVerifier {
  /** Verifies a compact JWS (no scheme) and returns its principal; throws AuthError. */
  verify(token: string): Promise<Principal>;
}

const MAX_TOKEN_LENGTH = 16 * 1024;
const B64URL = /^[A-Za-z0-9_-]*$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function decodeJsonPart(part: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new AuthError(AuthErrorCode.Malformed, `token ${what} is not JSON`);
  }
  if (!isObject(v)) throw new AuthError(AuthErrorCode.Malformed, `token ${what} is not an object`);
  return v;
}

function numericClaim(claims: Record<string, unknown>, name: string): number | undefined {
  const v = claims[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new AuthError(AuthErrorCode.ClaimsInvalid, `claim ${name} is not a number`);
  }
  return v;
}

export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  const algorithms = [...(options.algorithms ?? ['RS256'])];
  for (const a of algorithms) {
    if (!(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(a)) {
      throw new TypeError(`algorithm ${a} may not be allowed (asymmetric JWS algorithms only)`);
    }
  }
  const leeway = options.leewaySeconds ?? 0;
  if (!(leeway >= 0)) throw new TypeError('leewaySeconds must be >= 0');
  const source: KeySource | undefined =
    options.keySource ??
    (options.jwksUrl
      ? new JwksKeySource(options.jwksUrl, options)
      : options.keysUrl
        ? new TemplateKeySource(options.keysUrl, options)
        : undefined);
  if (!source) throw new TypeError('a JWT verifier needs keysUrl, jwksUrl or keySource');
  const defaultKid = options.defaultKid ?? 'current';
  const subjectClaims = options.subjectClaims ?? ['sub'];

  return {
    async verify(token: string): Promise<Principal> {
      if (token.length > MAX_TOKEN_LENGTH)
        throw new AuthError(AuthErrorCode.Malformed, 'token too long');
      const parts = token.split('.');
      if (parts.length !== 3 || !parts.every((p) => B64URL.test(p)) || parts[0] === '') {
        throw new AuthError(AuthErrorCode.Malformed, 'token is not a compact JWS');
      }
      const header = decodeJsonPart(parts[0] ?? '', 'header');
      const alg = header['alg'];
      if (typeof alg !== 'string') throw new AuthError(AuthErrorCode.Malformed, 'token has no alg');
      if (!algorithms.includes(alg)) {
        throw new AuthError(AuthErrorCode.AlgorithmNotAllowed, `algorithm ${alg} is not allowed`);
      }
      const rawKid = header['kid'];
      if (rawKid !== undefined && typeof rawKid !== 'string') {
        throw new AuthError(AuthErrorCode.Malformed, 'token kid is not a string');
      }
      if (rawKid === undefined && options.requireKid) {
        throw new AuthError(AuthErrorCode.Invalid, 'token has no kid');
      }
      const kid = rawKid ?? defaultKid;
      const vk = await source.getKey(kid);
      if (vk.alg !== undefined && vk.alg !== alg) {
        throw new AuthError(
          AuthErrorCode.Invalid,
          `key ${kid} is for ${vk.alg}, token says ${alg}`,
        );
      }
      let payloadBytes: Uint8Array;
      try {
        ({ payload: payloadBytes } = await compactVerify(token, vk.key, { algorithms }));
      } catch (err) {
        if (err instanceof joseErrors.JOSEAlgNotAllowed) {
          throw new AuthError(AuthErrorCode.AlgorithmNotAllowed, 'algorithm not allowed', {
            cause: err,
          });
        }
        if (err instanceof joseErrors.JWSInvalid) {
          throw new AuthError(AuthErrorCode.Malformed, 'token is not a valid JWS', { cause: err });
        }
        throw new AuthError(AuthErrorCode.Invalid, 'token signature does not verify', {
          cause: err,
        });
      }
      let claims: unknown;
      try {
        claims = JSON.parse(Buffer.from(payloadBytes).toString('utf8'));
      } catch {
        throw new AuthError(AuthErrorCode.Malformed, 'token payload is not JSON');
      }
      if (!isObject(claims))
        throw new AuthError(AuthErrorCode.Malformed, 'token payload is not an object');

      const now = Math.floor(Date.now() / 1000);
      const exp = numericClaim(claims, 'exp');
      const nbf = numericClaim(claims, 'nbf');
      const iat = numericClaim(claims, 'iat');
      if (exp === undefined && options.requireExp) {
        throw new AuthError(AuthErrorCode.ClaimsInvalid, 'token has no exp');
      }
      if (exp !== undefined && now > exp + leeway)
        throw new AuthError(AuthErrorCode.Expired, 'token is expired');
      if (nbf !== undefined && now < nbf - leeway) {
        throw new AuthError(AuthErrorCode.NotYetValid, 'token is not valid yet');
      }
      if (iat !== undefined && now < iat - leeway) {
        throw new AuthError(AuthErrorCode.NotYetValid, 'token was issued in the future');
      }
      let subject: string | undefined;
      for (const name of subjectClaims) {
        const v = claims[name];
        if (typeof v === 'string' && v !== '') {
          subject = v;
          break;
        }
      }
      if (subject === undefined) {
        throw new AuthError(
          AuthErrorCode.ClaimsInvalid,
          `token has no ${subjectClaims.join('/')} claim`,
        );
      }
      return {
        kind: 'jwt',
        subject,
        partnerIds: partnerIdsOf(claims),
        capabilities: capabilitiesOf(claims),
        claims,
      };
    },
  };
}

/** An Authenticator for `Authorization: Bearer <jwt>`. */
export function createJwtAuthenticator(options: JwtVerifierOptions): Authenticator & JwtVerifier {
  const verifier = createJwtVerifier(options);
  return {
    verify: (token) => verifier.verify(token),
    async authenticate(authorization: string | undefined): Promise<Principal> {
      const { scheme, credentials } = parseAuthorization(authorization);
      if (scheme.toLowerCase() !== 'bearer') {
        throw new AuthError(
          AuthErrorCode.UnsupportedScheme,
          `Unsupported authorization scheme: ${scheme}`,
        );
      }
      return verifier.verify(credentials);
    },
  };
}
