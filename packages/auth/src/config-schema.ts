import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { createAuthenticator } from './combined.js';
import type { Authenticator } from './principal.js';

/**
 * Bearer JWT verification as every service configures it: keys fetched by `kid` from a
 * Themis key URL template (`http://themis:6500/keys/{kid}`) or from a JWK set.
 */
export const jwtConfigSchema = Type.Object({
  keysUrl: Type.Optional(Type.String({ description: 'key URL template with {kid}' })),
  jwksUrl: Type.Optional(Type.String({ description: 'JWK set URL' })),
  algorithms: Type.Optional(
    Type.Array(Type.String(), { description: "allowed alg values; default ['RS256']" }),
  ),
  leewaySeconds: Type.Optional(
    Type.Number({ minimum: 0, maximum: 3600, description: 'clock-skew tolerance' }),
  ),
});
export type JwtConfig = Static<typeof jwtConfigSchema>;

/** The caller authentication block shared by every service's YAML (`auth:`). */
export const authConfigSchema = Type.Object(
  {
    /** `user:pass` (or base64 of it, as the original's `authHeader`) accepted as Basic. */
    basic: Type.Array(Type.String(), { default: [] }),
    /** Bearer JWT verification; absent = Bearer not accepted. */
    jwt: Type.Optional(jwtConfigSchema),
  },
  { default: {} },
);
export type AuthConfig = Static<typeof authConfigSchema>;

/** The authenticator an `auth:` block describes, or undefined when it accepts nothing. */
export function authenticatorFromConfig(config: AuthConfig): Authenticator | undefined {
  if (config.basic.length === 0 && !config.jwt) return undefined;
  return createAuthenticator({
    basic: config.basic,
    ...(config.jwt ? { jwt: config.jwt } : {}),
  });
}
