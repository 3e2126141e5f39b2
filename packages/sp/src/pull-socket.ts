import { EventEmitter } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { SpConnection } from './connection.js';
import { SpError } from './errors.js';
import { DEFAULT_MAX_MESSAGE_SIZE, Protocol } from './protocol.js';
import { formatTcpUrl, parseTcpUrl } from './url.js';

export interface PullSocketOptions {
  /** Largest message accepted; a bigger length prefix closes that connection. Default 1 MiB. */
  maxMessageSize?: number;
  /** Time a new peer has to send its SP header. Default 5000 ms. */
  handshakeTimeoutMs?: number;
  /** Simultaneous peer connections; further connections are closed at once. Default 256. */
  maxConnections?: number;
}

export interface PeerInfo {
  /** `host:port` of the remote end. */
  remote: string;
}

export interface PullSocketEvents {
  message: [body: Buffer, peer: PeerInfo];
  /** A peer completed the SP handshake. */
  connect: [peer: PeerInfo];
  /** A peer went away; `reason` is set when this side closed it (bad header, too large, ...). */
  disconnect: [peer: PeerInfo, reason: SpError | undefined];
  error: [err: Error];
}

export interface PullSocketStats {
  /** Connections currently open (handshaking or ready). */
  connections: number;
  accepted: number;
  /** Connections refused because `maxConnections` was reached. */
  refused: number;
  handshakeFailures: number;
  oversized: number;
  messages: number;
  bytes: number;
}

/**
 * The receiving end of a pipeline: binds a `tcp://` URL, accepts any number of PUSH peers
 * (up to `maxConnections`) and emits each message as a `message` event, synchronously and
 * in order per peer. `pause()` stops reading from every peer, so TCP pushes back on senders.
 */
export class PullSocket extends EventEmitter<PullSocketEvents> {
  private server: Server | undefined;
  private readonly connections = new Set<SpConnection>();
  private readonly maxMessageSize: number;
  private readonly handshakeTimeoutMs: number;
  private readonly maxConnections: number;
  private paused = false;
  private boundHost = '';
  private boundPort = 0;
  readonly stats: PullSocketStats = {
    connections: 0,
    accepted: 0,
    refused: 0,
    handshakeFailures: 0,
    oversized: 0,
    messages: 0,
    bytes: 0,
  };

  constructor(options: PullSocketOptions = {}) {
    super();
    this.maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? 5000;
    this.maxConnections = options.maxConnections ?? 256;
  }

  /** Binds and listens; resolves with the bound port (useful with port 0). */
  async bind(url: string): Promise<number> {
    if (this.server) throw new SpError('sp_already_bound', 'PULL socket is already bound');
    const { host, port } = parseTcpUrl(url, true);
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        this.server = undefined;
        reject(err);
      };
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        server.on('error', (err) => this.emit('error', err));
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    this.boundHost = host;
    this.boundPort = address.port;
    return address.port;
  }

  /** The bound port (0 before `bind`). */
  get port(): number {
    return this.boundPort;
  }

  /** The bound URL with the actual port, e.g. `tcp://127.0.0.1:40123`. */
  get url(): string {
    return formatTcpUrl(this.boundHost, this.boundPort);
  }

  /** Stops reading from all peers until `resume()`. */
  pause(): void {
    this.paused = true;
    for (const conn of this.connections) conn.pause();
  }

  resume(): void {
    this.paused = false;
    for (const conn of this.connections) conn.resume();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Stops listening and closes every peer connection. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const conn of this.connections) conn.destroy();
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    if (this.connections.size >= this.maxConnections || !this.server) {
      this.stats.refused++;
      socket.destroy();
      return;
    }
    this.stats.accepted++;
    const peer: PeerInfo = { remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}` };
    const conn = new SpConnection(socket, {
      protocol: Protocol.Pull,
      maxMessageSize: this.maxMessageSize,
      handshakeTimeoutMs: this.handshakeTimeoutMs,
      receive: true,
    });
    this.connections.add(conn);
    this.stats.connections = this.connections.size;
    if (this.paused) conn.pause();
    conn.on('ready', () => this.emit('connect', peer));
    conn.on('message', (body) => {
      this.stats.messages++;
      this.stats.bytes += body.length;
      this.emit('message', body, peer);
    });
    conn.on('close', (reason) => {
      this.connections.delete(conn);
      this.stats.connections = this.connections.size;
      if (reason?.code === 'sp_message_too_large') this.stats.oversized++;
      else if (reason?.code === 'sp_handshake_invalid' || reason?.code === 'sp_handshake_timeout')
        this.stats.handshakeFailures++;
      this.emit('disconnect', peer, reason);
    });
  }
}
