import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { SpError } from './errors.js';
import { FrameDecoder } from './frame-decoder.js';
import {
  encodeHeader,
  encodeLengthPrefix,
  HEADER_SIZE,
  peerProtocol,
  type ProtocolId,
} from './protocol.js';

export interface ConnectionOptions {
  /** Protocol id this end announces. */
  protocol: ProtocolId;
  maxMessageSize: number;
  handshakeTimeoutMs: number;
  /** Decode and emit messages from the peer; when false, bytes after the header are discarded. */
  receive: boolean;
}

export interface ConnectionEvents {
  ready: [];
  message: [body: Buffer];
  close: [reason: SpError | undefined];
}

/**
 * One TCP connection speaking the SP TCP mapping: sends our header at once, checks the
 * peer's header byte by byte (closing at the first wrong byte), then frames messages.
 */
export class SpConnection extends EventEmitter<ConnectionEvents> {
  private readonly expected: Buffer;
  private headerReceived = 0;
  private readonly decoder: FrameDecoder;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private paused = false;
  private closed = false;
  /** Set once destroy is under way; no more messages are emitted after it. */
  private dead = false;
  private closeReason: SpError | undefined;
  ready = false;

  constructor(
    readonly socket: Socket,
    private readonly options: ConnectionOptions,
  ) {
    super();
    this.expected = encodeHeader(peerProtocol(options.protocol));
    this.decoder = new FrameDecoder(options.maxMessageSize);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {
      // 'close' follows; the error itself carries nothing the caller acts on.
    });
    socket.on('close', () => this.onClose());
    this.handshakeTimer = setTimeout(() => {
      this.fail(new SpError('sp_handshake_timeout', 'no SP header from peer in time'));
    }, options.handshakeTimeoutMs);
    this.handshakeTimer.unref();
    socket.write(encodeHeader(options.protocol));
  }

  /** True when the socket's write buffer is over its high-water mark. */
  get needsDrain(): boolean {
    return this.socket.writableNeedDrain;
  }

  /** Writes one message (length prefix + body). */
  send(body: Uint8Array): void {
    this.socket.cork();
    this.socket.write(encodeLengthPrefix(body.length));
    this.socket.write(body);
    this.socket.uncork();
  }

  /**
   * Stops delivering messages and reading from the peer (TCP flow control pushes back on the
   * sender). A connection still handshaking finishes its handshake first.
   */
  pause(): void {
    this.paused = true;
    if (this.ready) this.socket.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.drainDecoder();
    if (!this.paused && !this.dead) this.socket.resume();
  }

  /** Graceful close: flush what was written, then end. */
  end(lingerMs: number): void {
    if (this.dead) return;
    this.socket.end();
    const timer = setTimeout(() => this.socket.destroy(), lingerMs);
    timer.unref();
  }

  destroy(reason?: SpError): void {
    this.fail(reason);
  }

  private fail(reason: SpError | undefined): void {
    if (this.dead) return;
    this.dead = true;
    this.closeReason = reason;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.dead) return;
    let offset = 0;
    if (!this.ready) {
      while (this.headerReceived < HEADER_SIZE && offset < chunk.length) {
        if (chunk[offset] !== this.expected[this.headerReceived]) {
          this.fail(
            new SpError(
              'sp_handshake_invalid',
              `peer SP header mismatch at byte ${this.headerReceived}`,
            ),
          );
          return;
        }
        offset++;
        this.headerReceived++;
      }
      if (this.headerReceived < HEADER_SIZE) return;
      clearTimeout(this.handshakeTimer);
      this.handshakeTimer = undefined;
      this.ready = true;
      this.emit('ready');
      if (this.dead) return;
      if (this.paused) this.socket.pause();
    }
    if (!this.options.receive) return;
    if (offset < chunk.length) this.decoder.push(offset === 0 ? chunk : chunk.subarray(offset));
    this.drainDecoder();
  }

  private drainDecoder(): void {
    try {
      while (!this.paused && !this.dead) {
        const body = this.decoder.next();
        if (body === undefined) return;
        this.emit('message', body);
      }
    } catch (err) {
      this.fail(err instanceof SpError ? err : undefined);
    }
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.dead = true;
    clearTimeout(this.handshakeTimer);
    this.emit('close', this.closeReason);
  }
}
