export { DeviceClient, ReconnectReason, CloseReason } from './device-client.js';
export type {
  DeviceClientOptions,
  DeviceClientEvents,
  CloudStatus,
  ConnectFailure,
  OnlineInfo,
  OfflineInfo,
} from './device-client.js';
export { Backoff, DEFAULT_BACKOFF_UNIT_MS, DEFAULT_BACKOFF_MAX_EXPONENT } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export {
  connectHeaders,
  conveyHeader,
  userAgent,
  deviceName,
  macDigits,
  DEFAULT_WEBPA_PROTOCOL,
  DEFAULT_DEVICE_PROTOCOLS,
  FIRST_RECONNECT_REASON,
} from './device-info.js';
export type { DeviceInfo } from './device-info.js';
export { deviceUrl, DEVICE_PATH } from './device-url.js';
export { fetchToken, tokenRequestHeaders, tokenRefreshAt } from './token-source.js';
export type { TokenOptions, Token, TokenFetchResult } from './token-source.js';
export type { DialTls } from './dial.js';
export { SharedTicker, sharedTicker } from './shared-ticker.js';
export { DeviceClientError } from './errors.js';
export type { DeviceClientErrorCode } from './errors.js';
