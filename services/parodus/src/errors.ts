export type ParodusErrorCode = 'parodus_usage' | 'parodus_config';

export class ParodusError extends Error {
  readonly code: ParodusErrorCode;

  constructor(code: ParodusErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ParodusError';
    this.code = code;
  }
}
