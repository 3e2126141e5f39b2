/** Stable error codes raised by this package. */
export type SpErrorCode =
  | 'sp_url_invalid'
  | 'sp_closed'
  | 'sp_queue_full'
  | 'sp_send_timeout'
  | 'sp_message_too_large'
  | 'sp_handshake_invalid'
  | 'sp_handshake_timeout'
  | 'sp_already_bound';

export class SpError extends Error {
  readonly code: SpErrorCode;

  constructor(code: SpErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SpError';
    this.code = code;
  }
}
