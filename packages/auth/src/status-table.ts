import { AuthErrorCode, type AuthError } from './auth-error.js';

/** The error classes of the original (bascule) that decide the HTTP status. */
export type AuthErrorClass =
  'missing' | 'invalid' | 'bad' | 'unsupported' | 'unauthorized' | 'request';

const CLASS_OF: Record<AuthErrorCode, AuthErrorClass> = {
  auth_missing: 'missing',
  auth_malformed: 'invalid',
  auth_invalid: 'invalid',
  auth_alg_not_allowed: 'invalid',
  auth_unknown_kid: 'invalid',
  auth_key_unavailable: 'invalid',
  auth_claims_invalid: 'invalid',
  auth_bad_credentials: 'bad',
  auth_expired: 'bad',
  auth_not_yet_valid: 'bad',
  auth_unsupported_scheme: 'unsupported',
  auth_forbidden: 'unauthorized',
  auth_partners_missing: 'unauthorized',
  auth_partners_forbidden: 'unauthorized',
  auth_partners_empty: 'request',
};

export function authErrorClass(code: AuthErrorCode): AuthErrorClass {
  return CLASS_OF[code];
}

/**
 * Which status each service answers, per API version. Rows are error classes (see
 * {@link authErrorClass}); the values follow the original servers, except where noted in
 * docs/compatibility.md (Scytale's 500s for client errors are 401/403 here).
 */
export const AUTH_STATUS_TABLE = {
  //                 missing invalid bad  unsupported unauthorized request
  'talaria-v3': {
    missing: 401,
    invalid: 400,
    bad: 401,
    unsupported: 403,
    unauthorized: 403,
    request: 400,
  },
  'talaria-v2': {
    missing: 403,
    invalid: 400,
    bad: 403,
    unsupported: 403,
    unauthorized: 403,
    request: 400,
  },
  'scytale-v3': {
    missing: 401,
    invalid: 400,
    bad: 401,
    unsupported: 401,
    unauthorized: 403,
    request: 400,
  },
  'scytale-v2': {
    missing: 403,
    invalid: 400,
    bad: 403,
    unsupported: 403,
    unauthorized: 403,
    request: 400,
  },
  'caduceus-v4': {
    missing: 401,
    invalid: 401,
    bad: 401,
    unsupported: 401,
    unauthorized: 403,
    request: 400,
  },
  'caduceus-v3': {
    missing: 403,
    invalid: 403,
    bad: 403,
    unsupported: 403,
    unauthorized: 403,
    request: 400,
  },
  /** bascule's default coder: missing/bad/unsupported 401, invalid 400, unauthorized 403. */
  default: {
    missing: 401,
    invalid: 400,
    bad: 401,
    unsupported: 401,
    unauthorized: 403,
    request: 400,
  },
} as const satisfies Record<string, Record<AuthErrorClass, number>>;

export type AuthStatusProfile = keyof typeof AUTH_STATUS_TABLE;

const BODY_OF: Record<AuthErrorClass, string> = {
  missing: 'missing credentials',
  invalid: 'invalid credentials',
  bad: 'bad credentials',
  unsupported: 'Unsupported authorization scheme',
  unauthorized: 'unauthorized',
  request: 'bad request',
};

export interface AuthErrorResponse {
  status: number;
  headers: Record<string, string>;
  /** text/plain body ('' for Caduceus v4, which answers with an empty body). */
  body: string;
}

/** The HTTP answer a service gives for an AuthError under the given profile. */
export function authErrorStatus(
  code: AuthErrorCode,
  profile: AuthStatusProfile = 'default',
): number {
  // Caduceus' legacy API answers 400 only for a malformed header.
  if (profile === 'caduceus-v3' && code === AuthErrorCode.Malformed) return 400;
  return AUTH_STATUS_TABLE[profile][CLASS_OF[code]];
}

export function authErrorResponse(
  err: AuthError,
  profile: AuthStatusProfile = 'default',
): AuthErrorResponse {
  const cls = CLASS_OF[err.code];
  const status = authErrorStatus(err.code, profile);
  const headers: Record<string, string> = {};
  if (profile === 'caduceus-v4') {
    if (status === 401) headers['www-authenticate'] = 'Bearer';
    return { status, headers, body: '' };
  }
  headers['content-type'] = 'text/plain; charset=utf-8';
  let body = BODY_OF[cls];
  if (cls === 'unsupported' || cls === 'request' || cls === 'unauthorized')
    body = err.message || body;
  return { status, headers, body };
}
