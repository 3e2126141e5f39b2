import {
  MessageType,
  decodeHttpHeaders,
  decodeJson,
  decodeMsgpack,
  encodeMsgpack,
  parseDeviceId,
} from '@xmidt/wrp';
import type { Message } from '@xmidt/wrp';

type Headers = Record<string, string | string[] | undefined>;

/** How the caller sent the WRP message: in X-Xmidt-* headers, or as a msgpack or JSON body. */
export type RequestMode = 'headers' | 'msgpack' | 'json';
export type WrpFormat = 'msgpack' | 'json';

/** A request Scytale refuses before any fan-out; `status` is the HTTP answer. */
export class WrpRequestError extends Error {
  readonly code: WrpRequestErrorCode;
  readonly status: number;
  constructor(code: WrpRequestErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WrpRequestError';
    this.code = code;
    this.status = STATUS[code];
  }
}

export type WrpRequestErrorCode =
  'wrp_decode_failed' | 'accept_invalid' | 'transaction_required' | 'device_name_invalid';

/** The one table from error codes to statuses at this edge. */
const STATUS: Record<WrpRequestErrorCode, number> = {
  wrp_decode_failed: 400,
  accept_invalid: 400,
  transaction_required: 400,
  device_name_invalid: 400,
};

/** Message types that need a transaction_uuid (Scytale never generates one). */
const TRANSACTION_TYPES = new Set<number>([
  MessageType.SimpleRequestResponse,
  MessageType.Create,
  MessageType.Retrieve,
  MessageType.Update,
  MessageType.Delete,
]);

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Which send route a request matches, as the original's router decides it: a message-type
 * header selects header mode; otherwise the Content-Type must be exactly `application/msgpack`
 * or `application/json`. undefined = no route ("Invalid endpoint").
 */
export function requestMode(headers: Headers): RequestMode | undefined {
  if (headers['x-xmidt-message-type'] !== undefined) return 'headers';
  const ct = header(headers, 'content-type');
  if (ct === 'application/msgpack') return 'msgpack';
  if (ct === 'application/json') return 'json';
  return undefined;
}

/** The WRP format an Accept header asks for; undefined when absent; throws when neither. */
export function acceptFormat(accept: string | undefined): WrpFormat | undefined {
  if (accept === undefined || accept.trim() === '') return undefined;
  const v = accept.toLowerCase();
  if (v.includes('json')) return 'json';
  if (v.includes('msgpack')) return 'msgpack';
  throw new WrpRequestError('accept_invalid', 'failed to determine format of Accept header');
}

export interface WrpRequest {
  message: Message;
  /** msgpack bytes to forward: the caller's own bytes in msgpack mode, re-encoded otherwise. */
  body: Buffer;
  /** Raw destination as the caller wrote it (sent on as X-Webpa-Device-Name). */
  deviceName: string;
  /** Canonical device id: the hash-ring key. */
  deviceId: string;
  /** The format the caller gets the answer in: its Accept, else the format it sent. */
  responseFormat: WrpFormat;
}

export interface WrpRequestLimits {
  maxBytes: number;
}

/**
 * Decodes and checks an incoming send: the message (from body or headers), the Accept header,
 * the transaction uuid rule and the destination device id. Throws WrpRequestError.
 */
export function decodeWrpRequest(
  mode: RequestMode,
  headers: Headers,
  body: Buffer,
  limits: WrpRequestLimits,
): WrpRequest {
  let message: Message;
  try {
    if (mode === 'headers') message = decodeHttpHeaders(headers, body);
    else if (mode === 'json') message = decodeJson(body, { maxBytes: limits.maxBytes });
    else message = decodeMsgpack(body, { maxBytes: limits.maxBytes });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new WrpRequestError('wrp_decode_failed', `failed to decode WRP message: ${why}`, {
      cause: err,
    });
  }
  const accepted = acceptFormat(header(headers, 'accept'));
  if (TRANSACTION_TYPES.has(message.msgType) && !message.transactionUuid) {
    throw new WrpRequestError(
      'transaction_required',
      `a transaction_uuid is required for message type ${message.msgType}`,
    );
  }
  const deviceName = message.dest ?? '';
  let deviceId: string;
  try {
    deviceId = parseDeviceId(deviceName);
  } catch (err) {
    throw new WrpRequestError('device_name_invalid', 'invalid device name', { cause: err });
  }
  return {
    message,
    body: mode === 'msgpack' ? body : encodeMsgpack(message),
    deviceName,
    deviceId,
    responseFormat: accepted ?? (mode === 'json' ? 'json' : 'msgpack'),
  };
}
