export { LibParodusError, type LibParodusErrorCode } from './errors.js';
export {
  LibParodus,
  DEFAULT_CLIENT_URL,
  DEFAULT_PARODUS_URL,
  DEFAULT_REREGISTER_DELAYS_MS,
  type LibParodusOptions,
  type LibParodusStats,
} from './libparodus.js';
export { MAX_SERVICE_NAME_LENGTH, serviceOfDest } from './service-name.js';
