/**
 * A WRP message. Property names are the camelCase form of the wire keys (given in the
 * comments). Absent optional fields are `undefined`; the codecs never emit empty strings.
 */
export interface Message {
  /** `msg_type`: see {@link MessageType}. */
  msgType: number;
  /** `source`: locator of the originator. */
  source?: string;
  /** `dest`: locator of the target. */
  dest?: string;
  /** `transaction_uuid`: the transaction key (opaque). */
  transactionUuid?: string;
  /** `content_type`: media type of the payload. */
  contentType?: string;
  /** `accept`: media type wanted in the response. */
  accept?: string;
  /** `status`: response status (Authorization: the auth status). */
  status?: number;
  /** `rdr`: request-delivery-response code. */
  rdr?: number;
  /** `headers`: free-form header lines. */
  headers?: string[];
  /** `metadata`: name/value pairs. */
  metadata?: Record<string, string>;
  /** `path`: CRUD path. */
  path?: string;
  /** `payload`: opaque bytes (always msgpack bin on encode). */
  payload?: Uint8Array;
  /** `service_name`: ServiceRegistration name. */
  serviceName?: string;
  /** `url`: ServiceRegistration URL. */
  url?: string;
  /** `partner_ids`: partner/tenant ids. */
  partnerIds?: string[];
  /** `session_id`: the device connection session. */
  sessionId?: string;
  /** `qos`: quality of service, 0..99. Encoded as 0 when absent. */
  qos?: number;
}

/** Wire key of each message property, in wrp-go v5 order. */
export const WIRE_KEYS = {
  msgType: 'msg_type',
  source: 'source',
  dest: 'dest',
  transactionUuid: 'transaction_uuid',
  contentType: 'content_type',
  accept: 'accept',
  status: 'status',
  rdr: 'rdr',
  headers: 'headers',
  metadata: 'metadata',
  path: 'path',
  payload: 'payload',
  serviceName: 'service_name',
  url: 'url',
  partnerIds: 'partner_ids',
  sessionId: 'session_id',
  qos: 'qos',
} as const satisfies Record<keyof Message, string>;

/** Sets a metadata entry on a plain object, keeping `__proto__` as an ordinary key. */
export function setEntry(target: Record<string, string>, key: string, value: string): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    target[key] = value;
  }
}
