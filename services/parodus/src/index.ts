export { createParodus, deviceClientOptions } from './parodus-agent.js';
export type { Parodus, ParodusOptions, ParodusStats } from './parodus-agent.js';
export { PARODUS_DEFAULTS, WEBPA_UUID } from './config.js';
export type { ParodusConfig } from './config.js';
export {
  parseParodusArgs,
  validateParodusConfig,
  PARODUS_OPTIONS,
  PARODUS_HELP,
} from './cli-options.js';
export type { ParsedArgs } from './cli-options.js';
export { LocalBus } from './local-bus.js';
export type { LocalBusOptions, LocalBusEvents, RegisteredService } from './local-bus.js';
export { handleParodusCrud } from './parodus-crud.js';
export type { CrudState } from './parodus-crud.js';
export { destService, destDevice, destRest, MAX_SERVICE_NAME } from './dest-service.js';
export { parsePartnerIds, partnerAllowed, withPartnerIds } from './partners.js';
export { upstreamMetadata, withUpstreamMetadata } from './upstream-metadata.js';
export { ParodusError } from './errors.js';
export type { ParodusErrorCode } from './errors.js';
