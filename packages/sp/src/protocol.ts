/**
 * SP-over-TCP constants (nanomsg `sp-tcp-mapping`): every connection starts with an 8-byte
 * header from each side, then carries messages as a 64-bit big-endian length plus the body.
 */

/** Protocol (endpoint type) ids: protocol number * 16 + role. Pipeline is protocol 5. */
export const Protocol = {
  Push: 0x50, // 80
  Pull: 0x51, // 81
} as const;

export type ProtocolId = (typeof Protocol)[keyof typeof Protocol];

export const HEADER_SIZE = 8;
export const LENGTH_PREFIX_SIZE = 8;

/** nanomsg's default NN_RCVMAXSIZE. */
export const DEFAULT_MAX_MESSAGE_SIZE = 1024 * 1024;

/** The protocol a peer of `local` must announce. */
export function peerProtocol(local: ProtocolId): ProtocolId {
  return local === Protocol.Push ? Protocol.Pull : Protocol.Push;
}

/** `0x00 'S' 'P' 0x00`, protocol id (u16 BE), two reserved zero bytes. */
export function encodeHeader(protocol: ProtocolId): Buffer {
  const header = Buffer.alloc(HEADER_SIZE);
  header[1] = 0x53;
  header[2] = 0x50;
  header.writeUInt16BE(protocol, 4);
  return header;
}

/** The 8-byte length prefix for a body of `length` bytes. */
export function encodeLengthPrefix(length: number): Buffer {
  const prefix = Buffer.alloc(LENGTH_PREFIX_SIZE);
  prefix.writeBigUInt64BE(BigInt(length), 0);
  return prefix;
}
