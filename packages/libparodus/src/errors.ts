/** Stable error codes raised by this package. */
export type LibParodusErrorCode =
  | 'libparodus_config_invalid'
  | 'libparodus_closed'
  | 'libparodus_auth_timeout'
  | 'libparodus_auth_refused'
  | 'libparodus_send_failed'
  | 'libparodus_receive_disabled';

export class LibParodusError extends Error {
  readonly code: LibParodusErrorCode;

  constructor(code: LibParodusErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LibParodusError';
    this.code = code;
  }
}
