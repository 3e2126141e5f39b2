export { petasosConfigSchema } from './config.js';
export type { PetasosConfig } from './config.js';
export { createPetasos } from './service.js';
export type { Petasos, PetasosOptions } from './service.js';
export {
  createRedirectHandler,
  formatRfc822,
  DEVICE_NAME_HEADER,
  INVALID_DEVICE_NAME,
  MISSING_DEVICE_NAME,
  NO_INSTANCES,
} from './redirect.js';
export type { IdentityHeaders, RedirectHandlerOptions, RequestHandler } from './redirect.js';
export { createPetasosMetrics } from './metrics.js';
export type { PetasosMetrics, RedirectOutcome } from './metrics.js';
