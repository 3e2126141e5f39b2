/** A Talaria error with a stable code; {@link httpStatusOf} maps codes to HTTP statuses. */
export class TalariaError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TalariaError';
    this.code = code;
  }
}

/** The one table from error code to HTTP status at the API edge. */
const STATUS: Readonly<Record<string, number>> = {
  invalid_device_name: 400,
  transaction_required: 400,
  transaction_duplicate: 400,
  wrp_malformed: 400,
  wrp_too_large: 400,
  wrp_invalid: 400,
  id_invalid: 400,
  locator_invalid: 400,
  content_type_invalid: 400,
  accept_invalid: 400,
  device_not_found: 404,
  device_queue_full: 503,
  transaction_timeout: 504,
  device_closed: 504,
  no_content: 500,
};

export function httpStatusOf(code: string): number {
  return STATUS[code] ?? 504;
}

export const deviceNotFound = (): TalariaError =>
  new TalariaError('device_not_found', 'the device does not exist');
export const deviceClosed = (): TalariaError =>
  new TalariaError('device_closed', 'that device has been closed');
export const queueFull = (): TalariaError =>
  new TalariaError('device_queue_full', 'the device message queue is full');
export const transactionDuplicate = (): TalariaError =>
  new TalariaError('transaction_duplicate', 'that transaction is already registered');
export const transactionTimeout = (): TalariaError =>
  new TalariaError('transaction_timeout', 'context deadline exceeded');
export const invalidDeviceName = (): TalariaError =>
  new TalariaError('invalid_device_name', 'invalid device name');
