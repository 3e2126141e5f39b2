/** Stable codes carried by every {@link WrpError}. */
export type WrpErrorCode =
  /** The bytes or text are not a WRP message (bad msgpack/JSON, wrong types, missing msg_type). */
  | 'wrp_malformed'
  /** The input exceeds one of the caller's decode limits. */
  | 'wrp_too_large'
  /** The message decoded but breaks the rules of its type (validation), or cannot be encoded. */
  | 'wrp_invalid'
  /** A locator or device id does not parse. */
  | 'locator_invalid';

/**
 * The only error type the codecs, locator parser and validator throw. Their codes are the
 * {@link WrpErrorCode} values; `code` is typed `string` so callers may reuse the class.
 */
export class WrpError extends Error {
  readonly code: string;

  constructor(code: WrpErrorCode | (string & {}), message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WrpError';
    this.code = code;
  }
}

export const malformed = (message: string, cause?: unknown): WrpError =>
  new WrpError('wrp_malformed', message, cause === undefined ? undefined : { cause });

export const tooLarge = (message: string): WrpError => new WrpError('wrp_too_large', message);
