import { AuthError, AuthErrorCode } from './auth-error.js';

/** Longest Authorization header value accepted (a JWT with many claims fits easily). */
export const MAX_AUTHORIZATION_LENGTH = 16 * 1024;

export interface ParsedAuthorization {
  /** Scheme as sent (compare case-insensitively). */
  scheme: string;
  credentials: string;
}

/**
 * Splits `<scheme> <credentials>`: exactly one space, no surrounding blanks (the original's
 * parser). Throws auth_missing for an absent/empty header, auth_malformed otherwise.
 */
export function parseAuthorization(header: string | undefined): ParsedAuthorization {
  if (header === undefined || header === '') {
    throw new AuthError(AuthErrorCode.Missing, 'missing credentials');
  }
  if (header.length > MAX_AUTHORIZATION_LENGTH) {
    throw new AuthError(AuthErrorCode.Malformed, 'authorization header too long');
  }
  const sp = header.indexOf(' ');
  if (sp <= 0) throw new AuthError(AuthErrorCode.Malformed, 'malformed authorization header');
  const scheme = header.slice(0, sp);
  const credentials = header.slice(sp + 1);
  if (credentials === '' || credentials.trim() !== credentials || credentials.startsWith(' ')) {
    throw new AuthError(AuthErrorCode.Malformed, 'malformed authorization header');
  }
  return { scheme, credentials };
}
