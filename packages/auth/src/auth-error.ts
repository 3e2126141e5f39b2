/**
 * Stable error codes of @xmidt/auth. Each code belongs to one of the error classes the original
 * bascule library distinguishes (missing / invalid / bad credentials, unauthorized, unsupported
 * scheme); services map classes to HTTP statuses with {@link authErrorResponse}.
 */
export const AuthErrorCode = {
  /** No Authorization header (or an empty one). */
  Missing: 'auth_missing',
  /** Header not `<scheme> <credentials>`, bad base64, no `user:pass`, token not a compact JWS. */
  Malformed: 'auth_malformed',
  /** Scheme not accepted by this authenticator. */
  UnsupportedScheme: 'auth_unsupported_scheme',
  /** Basic user or password wrong. */
  BadCredentials: 'auth_bad_credentials',
  /** JWT signature does not verify, or the key does not fit the algorithm. */
  Invalid: 'auth_invalid',
  /** JWT `alg` not in the allow-list (always the case for `none` and HMAC). */
  AlgorithmNotAllowed: 'auth_alg_not_allowed',
  /** No key with the token's `kid` exists at the key source. */
  UnknownKid: 'auth_unknown_kid',
  /** The key source could not be reached or answered garbage. */
  KeyUnavailable: 'auth_key_unavailable',
  /** `exp` is in the past (beyond the leeway). */
  Expired: 'auth_expired',
  /** `nbf` or `iat` is in the future (beyond the leeway). */
  NotYetValid: 'auth_not_yet_valid',
  /** A required claim (e.g. `sub`) is missing, or a registered claim has the wrong type. */
  ClaimsInvalid: 'auth_claims_invalid',
  /** Authenticated, but no capability grants this request. */
  Forbidden: 'auth_forbidden',
  /** `allowedResources.allowedPartners` missing or not a non-empty list of strings. */
  PartnersMissing: 'auth_partners_missing',
  /** The WRP message carries no partner ids. */
  PartnersEmpty: 'auth_partners_empty',
  /** The WRP message names partners the caller is not allowed. */
  PartnersForbidden: 'auth_partners_forbidden',
} as const;

export type AuthErrorCode = (typeof AuthErrorCode)[keyof typeof AuthErrorCode];

export class AuthError extends Error {
  readonly code: AuthErrorCode;
  constructor(code: AuthErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuthError';
    this.code = code;
  }
}

export function isAuthError(err: unknown): err is AuthError {
  return err instanceof AuthError;
}
