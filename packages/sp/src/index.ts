export { SpError, type SpErrorCode } from './errors.js';
export {
  Protocol,
  type ProtocolId,
  DEFAULT_MAX_MESSAGE_SIZE,
  HEADER_SIZE,
  LENGTH_PREFIX_SIZE,
  encodeHeader,
  encodeLengthPrefix,
  peerProtocol,
} from './protocol.js';
export { FrameDecoder } from './frame-decoder.js';
export { parseTcpUrl, formatTcpUrl, type TcpAddress } from './url.js';
export {
  PullSocket,
  type PullSocketOptions,
  type PullSocketEvents,
  type PullSocketStats,
  type PeerInfo,
} from './pull-socket.js';
export {
  PushSocket,
  type PushSocketOptions,
  type PushSocketEvents,
  type PushSocketStats,
  type SendOptions,
} from './push-socket.js';
