/** Errors of the Themis service; `code` is stable, statuses are in {@link THEMIS_ERROR_STATUS}. */
export class ThemisError extends Error {
  readonly code: ThemisErrorCode;
  constructor(code: ThemisErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ThemisError';
    this.code = code;
  }
}

export type ThemisErrorCode =
  | 'invalid_partner_id'
  | 'key_not_found'
  | 'rotation_unavailable'
  | 'signing_failed'
  | 'busy'
  | 'key_store_invalid';

/** One table from error code to HTTP status (the original's statuses where it had one). */
export const THEMIS_ERROR_STATUS: Record<ThemisErrorCode, number> = {
  invalid_partner_id: 400,
  key_not_found: 404,
  rotation_unavailable: 409,
  busy: 429,
  signing_failed: 500,
  key_store_invalid: 500,
};
