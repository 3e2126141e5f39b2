export { scytaleConfigSchema } from './config.js';
export type { ScytaleConfig } from './config.js';
export { createScytale, talariaAuthorization } from './service.js';
export type { Scytale, ScytaleOptions } from './service.js';
export { ANONYMOUS, runAccessChecks } from './access.js';
export type { AccessCheck, AccessControl, AccessRequest } from './access.js';
export { createAccessControl } from './access-control.js';
export { createCapabilityCheck, partnerLabel } from './capability-check.js';
export type { CapabilityCheckOptions } from './capability-check.js';
export { createWrpPartnerCheck, requirePartnersClaim } from './partner-check.js';
export { Fanout } from './fanout.js';
export type { FanoutOptions, FanoutResponse, OutboundRequest } from './fanout.js';
export { createScytaleMetrics } from './metrics.js';
export type { ScytaleMetrics } from './metrics.js';
export { registerRoutes } from './routes.js';
export type { RouteDeps } from './routes.js';
export { WrpRequestError, acceptFormat, decodeWrpRequest, requestMode } from './wrp-request.js';
export type {
  RequestMode,
  WrpFormat,
  WrpRequest,
  WrpRequestErrorCode,
  WrpRequestLimits,
} from './wrp-request.js';
