export type HashRingErrorCode = 'instance_invalid' | 'options_invalid';

export class HashRingError extends Error {
  readonly code: HashRingErrorCode;
  constructor(code: HashRingErrorCode, message: string) {
    super(message);
    this.name = 'HashRingError';
    this.code = code;
  }
}
