import { AuthError, AuthErrorCode } from './auth-error.js';
import { parseAuthorization } from './authorization-header.js';
import { createBasicVerifier } from './basic.js';
import { createJwtVerifier, type JwtVerifierOptions } from './jwt.js';
import type { Authenticator, Principal } from './principal.js';

export interface AuthenticatorConfig {
  /** Basic credentials (`user:pass`, or base64 of it); absent or empty = Basic not accepted. */
  basic?: readonly string[];
  /** JWT verification; absent = Bearer not accepted. */
  jwt?: JwtVerifierOptions;
}

/**
 * Accepts `Basic` and/or `Bearer` as configured (scheme names compared case-insensitively);
 * any other scheme is auth_unsupported_scheme.
 */
export function createAuthenticator(config: AuthenticatorConfig): Authenticator {
  const basic =
    config.basic && config.basic.length > 0 ? createBasicVerifier(config.basic) : undefined;
  const jwt = config.jwt ? createJwtVerifier(config.jwt) : undefined;
  return {
    async authenticate(authorization: string | undefined): Promise<Principal> {
      const { scheme, credentials } = parseAuthorization(authorization);
      const s = scheme.toLowerCase();
      if (s === 'basic' && basic) return basic.verify(credentials);
      if (s === 'bearer' && jwt) return jwt.verify(credentials);
      throw new AuthError(
        AuthErrorCode.UnsupportedScheme,
        `Unsupported authorization scheme: ${scheme}`,
      );
    },
  };
}
