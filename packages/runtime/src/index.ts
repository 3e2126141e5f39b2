export { XmidtError, ConfigError, DurationError } from './errors.js';
export { parseDuration, formatDuration } from './duration.js';
export {
  listenerSchema,
  tlsSchema,
  durationSchema,
  logSchema,
  LOG_LEVELS,
  DURATION_FORMAT,
  DEFAULT_BACKLOG,
} from './config-schema.js';
export type { TlsConfig, ListenerConfig, LogLevel } from './config-schema.js';
export { loadConfig, envName, snakeUpper } from './load-config.js';
export type { LoadConfigOptions } from './load-config.js';
export { createLogger, childAtLeast } from './logger.js';
export type { CreateLoggerOptions } from './logger.js';
export { createRegistry } from './metrics.js';
export { createListener, readTlsMaterial, trackConnections } from './listener.js';
export type { CreateListenerOptions, TlsMaterial } from './listener.js';
export { sendError, statusForError, createErrorHandler } from './http-error.js';
export type { ErrorBody, ErrorStatusTable } from './http-error.js';
export { ServiceRuntime } from './service-runtime.js';
export type { ServiceRuntimeOptions, StartedPorts, RuntimeState } from './service-runtime.js';
export { dispatchRequest, type DispatchRequestOptions } from './dispatch-request.js';
