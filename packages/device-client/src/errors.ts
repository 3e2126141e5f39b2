/** Stable error codes raised by the device client. */
export type DeviceClientErrorCode =
  | 'device_client_invalid_url'
  | 'device_client_invalid_option'
  | 'device_client_token_failed'
  | 'device_client_redirect_invalid'
  | 'device_client_stopped';

export class DeviceClientError extends Error {
  readonly code: DeviceClientErrorCode;

  constructor(code: DeviceClientErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DeviceClientError';
    this.code = code;
  }
}
