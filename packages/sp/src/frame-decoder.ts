import { SpError } from './errors.js';
import { LENGTH_PREFIX_SIZE } from './protocol.js';

/**
 * Splits a byte stream into SP messages (u64 BE length + body). Knows nothing of sockets:
 * feed chunks with `push`, take whole messages with `next`. Buffered bytes never exceed
 * one length prefix plus one maximum-size message plus the chunk being pushed.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private bodyLength = -1;

  constructor(private readonly maxMessageSize: number) {}

  /** Bytes held but not yet returned as messages. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /**
   * The next complete message, or undefined when more bytes are needed.
   * Throws SpError('sp_message_too_large') when a length prefix exceeds the limit.
   */
  next(): Buffer | undefined {
    if (this.bodyLength < 0) {
      if (this.buffered < LENGTH_PREFIX_SIZE) return undefined;
      const length = this.take(LENGTH_PREFIX_SIZE).readBigUInt64BE(0);
      if (length > BigInt(this.maxMessageSize)) {
        throw new SpError(
          'sp_message_too_large',
          `message length ${length} exceeds limit ${this.maxMessageSize}`,
        );
      }
      this.bodyLength = Number(length);
    }
    if (this.buffered < this.bodyLength) return undefined;
    const body = this.take(this.bodyLength);
    this.bodyLength = -1;
    return body;
  }

  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0];
    if (first !== undefined && first.length >= n) {
      this.consume(n);
      return first.length === n ? first : first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0];
      if (chunk === undefined) throw new Error('frame decoder underflow');
      const count = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, count);
      filled += count;
      this.consume(count);
    }
    return out;
  }

  /** Drops n bytes from the front; n never exceeds the first chunk. */
  private consume(n: number): void {
    const first = this.chunks[0];
    if (first === undefined) return;
    if (n >= first.length) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
  }
}
