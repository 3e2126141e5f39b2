import { EventEmitter, once } from 'node:events';
import { connect as tcpConnect } from 'node:net';
import { SpConnection } from './connection.js';
import { SpError } from './errors.js';
import { DEFAULT_MAX_MESSAGE_SIZE, Protocol } from './protocol.js';
import { parseTcpUrl, type TcpAddress } from './url.js';

export interface PushSocketOptions {
  /** Largest message `send` accepts. Default 1 MiB (what a default nanomsg PULL accepts). */
  maxMessageSize?: number;
  /** Time to establish TCP and receive the peer's SP header. Default 5000 ms. */
  handshakeTimeoutMs?: number;
  /** First reconnect delay; doubles per failed attempt. Default 100 ms. */
  reconnectMinMs?: number;
  /** Reconnect delay cap. Default 5000 ms. */
  reconnectMaxMs?: number;
  /** Messages waiting to be written; `send` beyond it rejects with `sp_queue_full`. Default 1000. */
  maxQueue?: number;
  /** Bytes waiting to be written; `send` beyond it rejects with `sp_queue_full`. Default 16 MiB. */
  maxQueueBytes?: number;
  /** Default per-message send timeout (ms); 0 waits until `close()`. Default 0. */
  sendTimeoutMs?: number;
  /** On `close()`, time allowed to flush bytes already written before the socket is cut. Default 1000 ms. */
  lingerMs?: number;
}

export interface SendOptions {
  /** Overrides `sendTimeoutMs` for this message. */
  timeoutMs?: number;
}

export interface PushSocketEvents {
  /** The SP handshake with the peer completed (first connect and every reconnect). */
  connect: [];
  /** An established connection was lost. */
  disconnect: [reason: SpError | undefined];
  /** `close()` was called. */
  close: [];
}

export interface PushSocketStats {
  /** Messages currently waiting in the queue. */
  queued: number;
  queuedBytes: number;
  /** Messages handed to a connected peer's socket. */
  sent: number;
  /** `send` calls refused because the queue was full or the message too large. */
  rejected: number;
  /** Messages dropped from the queue because their send timeout passed. */
  timedOut: number;
  connects: number;
  connectFailures: number;
}

interface Pending {
  data: Uint8Array;
  resolve: () => void;
  reject: (err: SpError) => void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The sending end of a pipeline: dials one `tcp://` URL, redials with capped exponential
 * backoff after any failure, and writes queued messages in order while connected.
 *
 * Memory is bounded: at most `maxQueue` messages / `maxQueueBytes` wait in the queue (a
 * `send` beyond that is rejected, not queued — the newest message is the one refused), and a
 * message is written to the socket only while its write buffer is under the high-water mark,
 * so a peer that stops reading fills the queue instead of the process heap.
 */
export class PushSocket extends EventEmitter<PushSocketEvents> {
  private readonly address: TcpAddress;
  private readonly maxMessageSize: number;
  private readonly handshakeTimeoutMs: number;
  private readonly reconnectMinMs: number;
  private readonly reconnectMaxMs: number;
  private readonly maxQueue: number;
  private readonly maxQueueBytes: number;
  private readonly sendTimeoutMs: number;
  private readonly lingerMs: number;
  private readonly queue: Pending[] = [];
  private conn: SpConnection | undefined;
  private dialing: SpConnection | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private closed = false;
  readonly stats: PushSocketStats = {
    queued: 0,
    queuedBytes: 0,
    sent: 0,
    rejected: 0,
    timedOut: 0,
    connects: 0,
    connectFailures: 0,
  };

  /** Starts dialing `url` (`tcp://host:port`) at once. */
  constructor(
    readonly url: string,
    options: PushSocketOptions = {},
  ) {
    super();
    this.address = parseTcpUrl(url);
    this.maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? 5000;
    this.reconnectMinMs = options.reconnectMinMs ?? 100;
    this.reconnectMaxMs = Math.max(this.reconnectMinMs, options.reconnectMaxMs ?? 5000);
    this.maxQueue = options.maxQueue ?? 1000;
    this.maxQueueBytes = options.maxQueueBytes ?? 16 * 1024 * 1024;
    this.sendTimeoutMs = options.sendTimeoutMs ?? 0;
    this.lingerMs = options.lingerMs ?? 1000;
    this.dial();
  }

  /** True while an SP connection with the peer is established. */
  get connected(): boolean {
    return this.conn !== undefined;
  }

  /** Resolves once connected (at once if already). Rejects with `sp_closed` on `close()`. */
  async whenConnected(): Promise<void> {
    if (this.closed) throw new SpError('sp_closed', 'PUSH socket is closed');
    if (this.conn) return;
    await new Promise<void>((resolve, reject) => {
      const onConnect = (): void => {
        this.off('close', onClose);
        resolve();
      };
      const onClose = (): void => {
        this.off('connect', onConnect);
        reject(new SpError('sp_closed', 'PUSH socket is closed'));
      };
      this.once('connect', onConnect);
      this.once('close', onClose);
    });
  }

  /**
   * Queues one message. Resolves when it has been written to a connected peer's socket;
   * rejects with `sp_queue_full`, `sp_message_too_large`, `sp_send_timeout` or `sp_closed`.
   * Messages are written in `send` order.
   */
  send(data: Uint8Array, options: SendOptions = {}): Promise<void> {
    if (this.closed) return Promise.reject(new SpError('sp_closed', 'PUSH socket is closed'));
    if (data.length > this.maxMessageSize) {
      this.stats.rejected++;
      return Promise.reject(
        new SpError(
          'sp_message_too_large',
          `message of ${data.length} bytes exceeds limit ${this.maxMessageSize}`,
        ),
      );
    }
    if (
      this.queue.length >= this.maxQueue ||
      this.stats.queuedBytes + data.length > this.maxQueueBytes
    ) {
      this.stats.rejected++;
      return Promise.reject(
        new SpError('sp_queue_full', `send queue full (${this.queue.length} messages)`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const entry: Pending = { data, resolve, reject, timer: undefined };
      const timeoutMs = options.timeoutMs ?? this.sendTimeoutMs;
      if (timeoutMs > 0) {
        entry.timer = setTimeout(() => {
          if (!this.remove(entry)) return;
          this.stats.timedOut++;
          reject(new SpError('sp_send_timeout', `message not sent within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.queue.push(entry);
      this.stats.queued = this.queue.length;
      this.stats.queuedBytes += data.length;
      this.pump();
    });
  }

  /** Stops reconnecting, rejects queued messages with `sp_closed`, flushes and closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
    clearTimeout(this.reconnectTimer);
    for (const entry of this.queue.splice(0)) {
      clearTimeout(entry.timer);
      entry.reject(new SpError('sp_closed', 'PUSH socket closed before the message was sent'));
    }
    this.stats.queued = 0;
    this.stats.queuedBytes = 0;
    const conn = this.conn ?? this.dialing;
    this.conn = undefined;
    this.dialing = undefined;
    if (!conn) return;
    const closed = once(conn, 'close');
    if (conn.ready) conn.end(this.lingerMs);
    else conn.destroy();
    await closed;
  }

  private remove(entry: Pending): boolean {
    const index = this.queue.indexOf(entry);
    if (index < 0) return false;
    this.queue.splice(index, 1);
    this.stats.queued = this.queue.length;
    this.stats.queuedBytes -= entry.data.length;
    return true;
  }

  private pump(): void {
    const conn = this.conn;
    if (!conn) return;
    while (!conn.needsDrain) {
      const entry = this.queue.shift();
      if (!entry) break;
      clearTimeout(entry.timer);
      this.stats.queuedBytes -= entry.data.length;
      conn.send(entry.data);
      this.stats.sent++;
      entry.resolve();
    }
    this.stats.queued = this.queue.length;
  }

  private dial(): void {
    if (this.closed) return;
    const socket = tcpConnect({ host: this.address.host, port: this.address.port });
    const conn = new SpConnection(socket, {
      protocol: Protocol.Push,
      maxMessageSize: this.maxMessageSize,
      handshakeTimeoutMs: this.handshakeTimeoutMs,
      receive: false,
    });
    this.dialing = conn;
    socket.on('drain', () => {
      if (this.conn === conn) this.pump();
    });
    conn.on('ready', () => {
      if (this.closed) return;
      this.dialing = undefined;
      this.conn = conn;
      this.attempt = 0;
      this.stats.connects++;
      this.emit('connect');
      this.pump();
    });
    conn.on('close', (reason) => {
      const wasConnected = this.conn === conn;
      if (wasConnected) this.conn = undefined;
      if (this.dialing === conn) this.dialing = undefined;
      if (this.closed) return;
      if (wasConnected) this.emit('disconnect', reason);
      else this.stats.connectFailures++;
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    const base = Math.min(this.reconnectMaxMs, this.reconnectMinMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    const delay = Math.min(this.reconnectMaxMs, base + Math.random() * base * 0.1);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.dial();
    }, delay);
  }
}
