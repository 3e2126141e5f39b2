export { WrpError, type WrpErrorCode } from './errors.js';
export {
  MessageType,
  type MessageTypeValue,
  isValidMessageType,
  isRoutable,
  messageTypeFromString,
  messageTypeName,
  requiresTransaction,
  supportsQosAck,
} from './message-type.js';
export { WIRE_KEYS, type Message } from './message.js';
export { DEFAULT_LIMITS, type DecodeLimits, type DecodeOptions } from './limits.js';
export { encodeMsgpack } from './msgpack-encode.js';
export { decodeMsgpack } from './msgpack-decode.js';
export { encodeJson, decodeJson } from './json-form.js';
export {
  WrpHeader,
  encodeHttpHeaders,
  decodeHttpHeaders,
  hasWrpHeaders,
  type HttpHeaders,
  type IncomingHttpHeaders,
} from './http-headers.js';
export {
  LocatorScheme,
  formatLocator,
  parseDeviceId,
  parseLocator,
  type Locator,
} from './locator.js';
export { validateMessage } from './validate.js';
export {
  QosLevel,
  QosValue,
  type QosLevelValue,
  clampQos,
  isQosAckPart,
  isValidQos,
  qosLevel,
} from './qos.js';
export {
  JSON_CONTENT_TYPE,
  MSGPACK_CONTENT_TYPE,
  OCTET_STREAM_CONTENT_TYPE,
  WRP_CONTENT_TYPE,
  type WrpFormat,
  contentTypeOf,
  formatFromContentType,
} from './content-type.js';
