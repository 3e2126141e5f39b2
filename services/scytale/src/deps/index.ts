// The one place Scytale imports its sibling packages from. Lines point either at the package
// or, while that package has not shipped its code yet, at a local stand-in that follows the
// package contract (same names and signatures), so switching is a one-line change here.
export {
  JSON_CONTENT_TYPE,
  MSGPACK_CONTENT_TYPE,
  MessageType,
  WrpError,
  decodeHttpHeaders,
  decodeJson,
  decodeMsgpack,
  encodeJson,
  encodeMsgpack,
  parseDeviceId,
} from '@xmidt/wrp';
export type { DecodeLimits, Message } from '@xmidt/wrp';
export { HashRing, murmur3Sum64 } from '@xmidt/hashring';
export type { NodeNameMode } from '@xmidt/hashring';
// stand-in until @xmidt/discovery exports its code
export {
  ServiceRings,
  createDiscovery,
  discoveryConfigSchema,
  normalizeInstanceUrl,
} from './discovery.js';
export type { Discovery, DiscoveryConfig, InstanceSets, Registration, Watch } from './discovery.js';
export {
  AuthError,
  AuthErrorCode,
  authErrorResponse,
  createBasicAuthenticator,
  isAuthError,
} from '@xmidt/auth';
export type { Authenticator, Principal } from '@xmidt/auth';
