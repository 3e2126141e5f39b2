// The one place Talaria imports its sibling packages from. Each line points either at the
// package or, while that package has not shipped its code yet, at a local stand-in that follows
// the package contract (same names and signatures).
export * from './wrp.js';
export * from './hashring.js';
export * from './discovery.js';
export {
  ServiceRuntime,
  loadConfig,
  createLogger,
  listenerSchema,
  durationSchema,
  parseDuration,
  formatDuration,
} from '@xmidt/runtime';
export type { ListenerConfig, TlsConfig } from '@xmidt/runtime';
export {
  AuthError,
  authErrorResponse,
  authErrorStatus,
  createBasicAuthenticator,
  isAuthError,
} from '@xmidt/auth';
export type { Authenticator, AuthErrorCode, Principal } from '@xmidt/auth';
