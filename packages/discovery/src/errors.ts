export type DiscoveryErrorCode =
  | 'instance_invalid'
  | 'name_invalid'
  | 'config_invalid'
  | 'discovery_closed'
  | 'registration_failed';

/** Every error this package throws; `code` is stable. */
export class DiscoveryError extends Error {
  readonly code: DiscoveryErrorCode;
  constructor(code: DiscoveryErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DiscoveryError';
    this.code = code;
  }
}
