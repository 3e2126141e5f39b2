export { AuthError, AuthErrorCode, isAuthError } from './auth-error.js';
export {
  AUTH_STATUS_TABLE,
  authErrorClass,
  authErrorResponse,
  authErrorStatus,
  type AuthErrorClass,
  type AuthErrorResponse,
  type AuthStatusProfile,
} from './status-table.js';
export {
  allowedPartnersOf,
  capabilitiesOf,
  claimAt,
  partnerIdsOf,
  type Authenticator,
  type Principal,
} from './principal.js';
export {
  MAX_AUTHORIZATION_LENGTH,
  parseAuthorization,
  type ParsedAuthorization,
} from './authorization-header.js';
export {
  createBasicAuthenticator,
  createBasicVerifier,
  normalizeBasicCredential,
  type BasicVerifier,
} from './basic.js';
export {
  ASYMMETRIC_ALGORITHMS,
  createJwtAuthenticator,
  createJwtVerifier,
  type JwtVerifier,
  type JwtVerifierOptions,
} from './jwt.js';
export { createAuthenticator, type AuthenticatorConfig } from './combined.js';
export { isSafeKid, type KeyFetchOptions, type KeySource } from './key-source.js';
export { TemplateKeySource } from './template-key-source.js';
export { JwksKeySource } from './jwks-key-source.js';
export {
  keyFromJwk,
  keyFromPem,
  keyFromResponse,
  keysFromJwks,
  type VerificationKey,
} from './key-parse.js';
export {
  authorizeCapabilities,
  checkCapability,
  createCapabilityChecker,
  type CapabilityCheckConfig,
  type CapabilityChecker,
  type CapabilityDecision,
  type CapabilityReason,
  type CapabilityRequest,
  type CheckMode,
} from './capabilities.js';
export {
  checkWrpPartners,
  cleanPartnerId,
  parsePartnerIdsHeader,
  partnerIdsIntersect,
  type PartnerDecision,
} from './partners.js';
export { LruCache } from './lru-cache.js';
export {
  authConfigSchema,
  authenticatorFromConfig,
  jwtConfigSchema,
  type AuthConfig,
  type JwtConfig,
} from './config-schema.js';
