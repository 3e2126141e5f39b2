export { themisConfigSchema, DEFAULT_CLAIMS, type ThemisConfig } from './config.js';
export { createThemis, type Themis, type ThemisOptions, type ThemisPorts } from './service.js';
export { KeyStore, type KeyStoreOptions } from './key-store.js';
export {
  ClaimsBuilder,
  type ClaimEntry,
  type ClaimsOptions,
  type ClaimsRequest,
  type PartnerIdConfig,
} from './claims.js';
export {
  TokenSigner,
  canonicalJson,
  resolveSignerMode,
  type SignerMode,
  type SigningKey,
  type TokenSignerOptions,
} from './signer.js';
export {
  TrustEvaluator,
  DEFAULT_TRUST,
  parsePemBundle,
  type TrustLevels,
  type TrustResult,
} from './trust.js';
export { SIGNING_ALGORITHMS, generatePrivateKey, type SigningAlgorithm } from './algorithms.js';
export { ThemisError, THEMIS_ERROR_STATUS, type ThemisErrorCode } from './errors.js';
export { publicJwk, publicPem } from './routes/keys.js';
