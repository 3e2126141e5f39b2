import { constants, verify as verifySignature, type KeyObject } from 'node:crypto';
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

/** How one JWS algorithm is checked with node:crypto (RFC 7518 §3). */
interface AlgorithmSpec {
  /** Digest for crypto.verify; null for EdDSA (the curve fixes it). */
  digest: string | null;
  /** asymmetricKeyType values of a usable key. */
  keyTypes: readonly string[];
  /** ECDSA: the key's named curve. */
  curve?: string;
  /** RSASSA-PSS: salt length (the digest's size). */
  pssSalt?: number;
}

const RSA = ['rsa'];
const ALGORITHM_SPECS: Readonly<Record<string, AlgorithmSpec>> = {
  RS256: { digest: 'sha256', keyTypes: RSA },
  RS384: { digest: 'sha384', keyTypes: RSA },
  RS512: { digest: 'sha512', keyTypes: RSA },
  PS256: { digest: 'sha256', keyTypes: ['rsa', 'rsa-pss'], pssSalt: 32 },
  PS384: { digest: 'sha384', keyTypes: ['rsa', 'rsa-pss'], pssSalt: 48 },
  PS512: { digest: 'sha512', keyTypes: ['rsa', 'rsa-pss'], pssSalt: 64 },
  ES256: { digest: 'sha256', keyTypes: ['ec'], curve: 'prime256v1' },
  ES384: { digest: 'sha384', keyTypes: ['ec'], curve: 'secp384r1' },
  ES512: { digest: 'sha512', keyTypes: ['ec'], curve: 'secp521r1' },
  EdDSA: { digest: null, keyTypes: ['ed25519', 'ed448'] },
};
/** Shortest RSA modulus accepted for RS and PS algorithms (RFC 7518 §3.3, §3.5). */
const MIN_RSA_BITS = 2048;
/** Header parameters this verifier understands when a token lists them in `crit`. */
const UNDERSTOOD_CRIT = new Set(['b64']);

/**
 * Checks the signature of a compact JWS with the key, synchronously (node:crypto one-shot
 * verify: a device connect storm verifies thousands of tokens a second, and WebCrypto's
 * per-call job and promise cost several times the RSA verification itself). Returns the
 * payload bytes. Throws AuthError: malformed `crit`/`b64` -> auth_malformed; a key that does
 * not fit the algorithm, or a signature that does not verify -> auth_invalid.
 */
/**
 * Checks the key against the alg and the signature against the key, and returns the payload
 * bytes. The signature itself is checked on the libuv thread pool, so that a storm of connects
 * spreads its RSA/EC arithmetic over every core instead of the event loop's.
 */
async function checkSignature(
  parts: string[],
  header: Record<string, unknown>,
  alg: string,
  key: KeyObject,
): Promise<Buffer> {
  const spec = ALGORITHM_SPECS[alg];
  if (!spec)
    throw new AuthError(AuthErrorCode.AlgorithmNotAllowed, `algorithm ${alg} is not allowed`);
  const crit = header['crit'];
  if (crit !== undefined) {
    if (
      !Array.isArray(crit) ||
      crit.length === 0 ||
      !crit.every((c) => typeof c === 'string' && UNDERSTOOD_CRIT.has(c) && c in header)
    ) {
      throw new AuthError(
        AuthErrorCode.Malformed,
        'token has critical header parameters not understood',
      );
    }
  }
  const b64 = header['b64'];
  if (b64 !== undefined && typeof b64 !== 'boolean') {
    throw new AuthError(AuthErrorCode.Malformed, 'token b64 header is not a boolean');
  }
  const encoded = b64 !== false || !(Array.isArray(crit) && crit.includes('b64'));
  const type = key.asymmetricKeyType ?? '';
  const details = key.asymmetricKeyDetails;
  if (key.type !== 'public' && key.type !== 'private') {
    throw new AuthError(AuthErrorCode.Invalid, `key is not usable for ${alg}`);
  }
  if (!spec.keyTypes.includes(type)) {
    throw new AuthError(AuthErrorCode.Invalid, `a ${type} key is not usable for ${alg}`);
  }
  if (spec.curve !== undefined && details?.namedCurve !== spec.curve) {
    throw new AuthError(
      AuthErrorCode.Invalid,
      `key curve ${details?.namedCurve} is not for ${alg}`,
    );
  }
  if (type.startsWith('rsa') && (details?.modulusLength ?? 0) < MIN_RSA_BITS) {
    throw new AuthError(
      AuthErrorCode.Invalid,
      `RSA keys for ${alg} must be ${MIN_RSA_BITS} bits or longer`,
    );
  }
  const [h = '', p = '', s = ''] = parts;
  const signingInput = Buffer.from(`${h}.${p}`, 'latin1');
  const signature = Buffer.from(s, 'base64url');
  const ok = await new Promise<boolean>((resolve, reject) => {
    const done = (err: Error | null, valid: boolean): void => {
      if (err)
        reject(
          new AuthError(AuthErrorCode.Invalid, 'token signature does not verify', { cause: err }),
        );
      else resolve(valid);
    };
    try {
      verifySignature(
        spec.digest,
        signingInput,
        spec.pssSalt !== undefined
          ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: spec.pssSalt }
          : spec.curve !== undefined
            ? { key, dsaEncoding: 'ieee-p1363' }
            : key,
        signature,
        done,
      );
    } catch (err) {
      done(err as Error, false);
    }
  });
  if (!ok) throw new AuthError(AuthErrorCode.Invalid, 'token signature does not verify');
  return encoded ? Buffer.from(p, 'base64url') : Buffer.from(p, 'latin1');
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
      const payloadBytes = await checkSignature(parts, header, alg, vk.key);
      let claims: unknown;
      try {
        claims = JSON.parse(payloadBytes.toString('utf8'));
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
