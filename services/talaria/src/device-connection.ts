import type { WebSocket, RawData } from 'ws';
import { formatDuration } from '@xmidt/runtime';
import type { Message } from '@xmidt/wrp';
import { deviceClosed, queueFull } from './errors.js';

export type Compliance = 'full' | 'missing-convey' | 'invalid-convey';

/** What the handshake learned about a device; fixed for the life of the connection. */
export interface ConnectInfo {
  id: string;
  sessionId: string;
  convey: Record<string, unknown> | undefined;
  compliance: Compliance;
  claims: Record<string, unknown>;
  /** Partner ids written into every device message (`["unknown"]` without auth). */
  partnerIds: string[];
  trust: number;
  accountId: string;
  intermediateContext: string;
}

/** First recorded reason wins; rendered `<error or *no error*>:<text>` as in the original. */
export interface CloseReason {
  text: string;
  error?: string;
}

export function renderCloseReason(r: CloseReason | undefined): string {
  if (!r) return '*no error*:unknown';
  return `${r.error ?? '*no error*'}:${r.text || 'unknown'}`;
}

/** Receives the events of every connection; one shared instance, no per-connection closures. */
export interface ConnectionHub {
  onFrame(conn: DeviceConnection, data: Buffer, isBinary: boolean): void;
  onClosed(conn: DeviceConnection): void;
  onSent(bytes: number): void;
  onPong(): void;
}

export interface Transaction {
  resolve(reply: { msg: Message; bytes: Buffer }): void;
  reject(err: Error): void;
}

const CONN = Symbol('talaria.connection');
type TaggedSocket = WebSocket & { [CONN]?: DeviceConnection };

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

// Shared listeners: `this` is the socket, the connection hangs off it.
function onMessage(this: TaggedSocket, data: RawData, isBinary: boolean): void {
  const conn = this[CONN];
  if (conn) conn.hub.onFrame(conn, toBuffer(data), isBinary);
}
function onActivity(this: TaggedSocket): void {
  const conn = this[CONN];
  if (conn) conn.lastActivity = Date.now();
}
function onPong(this: TaggedSocket): void {
  const conn = this[CONN];
  if (conn) {
    conn.lastActivity = Date.now();
    conn.hub.onPong();
  }
}
function onError(this: TaggedSocket, err: Error): void {
  const conn = this[CONN];
  if (conn) conn.recordReason({ text: 'readerror', error: err.message });
}
function onClose(this: TaggedSocket): void {
  const conn = this[CONN];
  if (!conn) return;
  conn.recordReason({ text: 'readerror' });
  conn.closed = true;
  conn.failTransactions();
  conn.hub.onClosed(conn);
}

/** One connected device: its socket, statistics, write accounting and open transactions. */
export class DeviceConnection {
  readonly id: string;
  readonly connectedAt = Date.now();
  lastActivity = this.connectedAt;
  nextPingAt: number;
  /** Last time a write completed, or the first write started after an idle period. */
  lastWriteProgress = this.connectedAt;
  /** Data frames handed to the socket and not yet flushed. */
  pending = 0;
  bytesSent = 0;
  messagesSent = 0;
  bytesReceived = 0;
  messagesReceived = 0;
  duplications = 0;
  closed = false;
  closeReason: CloseReason | undefined;
  private transactions: Map<string, Transaction> | undefined;

  constructor(
    readonly ws: WebSocket,
    readonly info: ConnectInfo,
    readonly hub: ConnectionHub,
    private readonly queueSize: number,
    pingPeriodMs: number,
  ) {
    this.id = info.id;
    this.nextPingAt = this.connectedAt + pingPeriodMs;
    const s = ws as TaggedSocket;
    s[CONN] = this;
    s.on('message', onMessage);
    s.on('pong', onPong);
    s.on('ping', onActivity);
    s.on('error', onError);
    s.on('close', onClose);
  }

  recordReason(reason: CloseReason): void {
    this.closeReason ??= reason;
  }

  /**
   * Writes one binary frame. Resolves once the frame is flushed to the socket. Throws
   * `device_queue_full` when `deviceMessageQueueSize` frames are already waiting.
   */
  send(bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.write(bytes, resolve, reject));
  }

  /** Like send, without waiting; returns false if the frame could not be queued. */
  trySend(bytes: Buffer): boolean {
    if (this.closed || this.pending >= this.queueSize || bytes.length === 0) return false;
    this.write(bytes, undefined, undefined);
    return true;
  }

  private write(bytes: Buffer, resolve?: () => void, reject?: (e: Error) => void): void {
    if (this.closed || this.ws.readyState !== 1) return reject?.(deviceClosed());
    if (this.pending >= this.queueSize) return reject?.(queueFull());
    if (bytes.length === 0) return reject?.(new Error('refusing to send an empty frame'));
    if (this.pending === 0) this.lastWriteProgress = Date.now();
    this.pending++;
    this.ws.send(bytes, { binary: true }, (err) => {
      this.pending--;
      this.lastWriteProgress = Date.now();
      if (err) return reject?.(deviceClosed());
      this.bytesSent += bytes.length;
      this.messagesSent++;
      this.hub.onSent(bytes.length);
      resolve?.();
    });
  }

  ping(): void {
    if (this.ws.readyState !== 1) return;
    this.ws.ping(this.id);
    this.messagesSent++;
  }

  /** Closes with a close frame (code and reason text). */
  close(text: string, code = 1000, error?: string): void {
    this.recordReason(error === undefined ? { text } : { text, error });
    const rs = this.ws.readyState;
    if (rs === 0 || rs === 1) this.ws.close(code, text);
  }

  /** Drops the socket without a close handshake (dead or stuck peers). */
  terminate(text: string, error?: string): void {
    this.recordReason(error === undefined ? { text } : { text, error });
    this.ws.terminate();
  }

  addTransaction(uuid: string, t: Transaction): boolean {
    this.transactions ??= new Map();
    if (this.transactions.has(uuid)) return false;
    this.transactions.set(uuid, t);
    return true;
  }

  removeTransaction(uuid: string): void {
    this.transactions?.delete(uuid);
    if (this.transactions?.size === 0) this.transactions = undefined;
  }

  /** Completes the transaction waiting for `uuid`; false when nobody waits. */
  completeTransaction(uuid: string, reply: { msg: Message; bytes: Buffer }): boolean {
    const t = this.transactions?.get(uuid);
    if (!t) return false;
    this.removeTransaction(uuid);
    t.resolve(reply);
    return true;
  }

  failTransactions(): void {
    const ts = this.transactions;
    if (!ts) return;
    this.transactions = undefined;
    for (const t of ts.values()) t.reject(deviceClosed());
  }

  /** The statistics JSON of the original (`/stat`, `/devices`). */
  toJSON(now = Date.now()): Record<string, unknown> {
    return {
      id: this.id,
      pending: this.pending,
      statistics: {
        bytesSent: this.bytesSent,
        messagesSent: this.messagesSent,
        bytesReceived: this.bytesReceived,
        messagesReceived: this.messagesReceived,
        duplications: this.duplications,
        connectedAt: new Date(this.connectedAt).toISOString(),
        upTime: formatUptime(now - this.connectedAt),
      },
    };
  }
}

export function formatUptime(ms: number): string {
  return formatDuration(Math.max(0, ms));
}
