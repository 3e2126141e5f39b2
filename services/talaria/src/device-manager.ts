import { STATUS_CODES } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { hostname } from 'node:os';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import type { Logger } from 'pino';
import {
  MessageType,
  decodeMsgpack,
  encodeMsgpack,
  parseDeviceId,
  validateMessage,
} from '@xmidt/wrp';
import type { Message } from '@xmidt/wrp';
import { DeviceConnection } from './device-connection.js';
import type { ConnectInfo, ConnectionHub } from './device-connection.js';
import type { DeviceRegistry } from './device-registry.js';
import type { EventDispatcher } from './event-dispatcher.js';
import { DEVICE_PATH, checkHandshake } from './handshake.js';
import type { HandshakeDeps, HandshakeResult, Rejection } from './handshake.js';
import type { TalariaMetrics } from './metrics.js';
import { offlineEvent, onlineEvent, rfc3339Nano, statusDest } from './status-events.js';

export interface ManagerConfig {
  maxDevices: number;
  queueSize: number;
  pingPeriodMs: number;
  idlePeriodMs: number;
  writeTimeoutMs: number;
  sweepIntervalMs: number;
  handshakeTimeoutMs: number;
  maxMessageBytes: number;
  sourceCheck: 'monitor' | 'enforce';
  statusSource: string;
  ackSource: string;
  staticHeaders: Record<string, string>;
}

const TRANSACTION_TYPES: ReadonlySet<number> = new Set([3, 5, 6, 7, 8]);
export const isTransactionType = (t: number): boolean => TRANSACTION_TYPES.has(t);

function qosLevel(q: number): string {
  return q >= 75 ? 'Critical' : q >= 50 ? 'High' : q >= 25 ? 'Medium' : 'Low';
}

/**
 * Accepts device websockets (checks before the upgrade), keeps them alive with one shared
 * ping/idle sweep, runs the inbound message pipeline and emits online/offline events.
 */
export class DeviceManager implements ConnectionHub {
  private readonly wss: WebSocketServer;
  private sweepTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly limits;
  private readonly ackSource: string;
  private lastStampMs = -1;
  private lastStamp = '';
  private readonly hwChildren = new Map<string, { inc(): void; dec(): void }>();

  constructor(
    private readonly cfg: ManagerConfig,
    readonly registry: DeviceRegistry,
    private readonly handshake: HandshakeDeps,
    private readonly events: EventDispatcher,
    private readonly metrics: TalariaMetrics,
    private readonly logger: Logger,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: cfg.maxMessageBytes,
      perMessageDeflate: false,
      clientTracking: false,
      skipUTF8Validation: false,
    });
    this.limits = { maxBytes: cfg.maxMessageBytes };
    this.ackSource = cfg.ackSource || hostname();
    metrics.deviceCount.set(0);
  }

  start(): void {
    this.sweepTimer = setInterval(() => this.sweep(), this.cfg.sweepIntervalMs);
    this.sweepTimer.unref();
  }

  // ---- connect ----------------------------------------------------------------------------

  /** The primary server's `upgrade` listener. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', ignore);
    const path = (req.url ?? '').split('?')[0] ?? '';
    const m = DEVICE_PATH.exec(path);
    if (!m) return this.reject(socket, { ok: false, status: 404, reason: 'not_found' });
    if (this.stopping) return this.reject(socket, { ok: false, status: 503, reason: 'stopping' });
    // One timer and one promise chain per connect (no race of two promises): a connect storm
    // runs this thousands of times a second.
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      this.reject(socket, { ok: false, status: 503, reason: 'handshake_timeout' });
    }, this.cfg.handshakeTimeoutMs);
    checkHandshake(req, m[1] as string, this.handshake).then(
      (result) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.upgrade(req, socket, head, result);
      },
      (err: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.logger.error({ err }, 'handshake failed');
        this.reject(socket, { ok: false, status: 500, reason: 'internal' });
      },
    );
  }

  /** Upgrades a connect that passed the checks, or answers its rejection. */
  private upgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    result: HandshakeResult,
  ): void {
    if (!result.ok) return this.reject(socket, result);
    if (socket.destroyed) return;
    const info = result.info;
    if (
      this.cfg.maxDevices > 0 &&
      !this.registry.has(info.id) &&
      this.registry.size >= this.cfg.maxDevices
    ) {
      this.metrics.deviceLimitReached.inc();
      return this.reject(socket, { ok: false, status: 503, reason: 'device_limit' });
    }
    if (this.stopping) return this.reject(socket, { ok: false, status: 503, reason: 'stopping' });
    this.wss.handleUpgrade(req, socket, head, (ws) => this.attach(ws, info));
  }

  private reject(socket: Duplex, r: Rejection): void {
    this.metrics.connectRejected.inc({ reason: r.reason, code: String(r.status) });
    if (socket.destroyed || !socket.writable) {
      socket.destroy();
      return;
    }
    const body = r.body ?? '';
    const headers: Record<string, string> = {
      ...this.cfg.staticHeaders,
      ...(r.headers ?? {}),
      connection: 'close',
      'content-length': String(Buffer.byteLength(body)),
    };
    if (r.contentType) headers['content-type'] = r.contentType;
    let text = `HTTP/1.1 ${r.status} ${STATUS_CODES[r.status] ?? ''}\r\n`;
    for (const [k, v] of Object.entries(headers)) text += `${k}: ${v}\r\n`;
    socket.end(text + '\r\n' + body, () => socket.destroy());
  }

  private attach(ws: WebSocket, info: ConnectInfo): void {
    const conn = new DeviceConnection(ws, info, this, this.cfg.queueSize, this.cfg.pingPeriodMs);
    const old = this.registry.add(conn);
    if (old) {
      conn.duplications = old.duplications + 1;
      this.metrics.duplicateCount.inc();
      old.close('duplicate', 1008);
    }
    this.metrics.connectCount.inc();
    this.metrics.deviceCount.set(this.registry.size);
    this.hwGauge(conn).inc();
    this.logger.debug({ device: info.id, session: info.sessionId }, 'device connected');
    const now = Date.now();
    this.events.dispatch(statusDest(conn.id, 'online'), () =>
      encodeMsgpack(onlineEvent(conn, this.cfg.statusSource, now)),
    );
  }

  /**
   * The `hardware_model` gauge child of a device's model, firmware, partner and trust, kept
   * across connects (a fleet has few distinct combinations; bounded all the same).
   */
  private hwGauge(conn: DeviceConnection): { inc(): void; dec(): void } {
    const c = conn.info.convey;
    const s = (v: unknown): string => (typeof v === 'string' && v !== '' ? v : 'unknown');
    const model = s(c?.['hw-model']);
    const firmware = s(c?.['fw-name']);
    const partnerid = conn.info.partnerIds[0] ?? 'unknown';
    const trust = String(conn.info.trust);
    const key = `${model}\0${firmware}\0${partnerid}\0${trust}`;
    let child = this.hwChildren.get(key);
    if (!child) {
      if (this.hwChildren.size >= 10_000) this.hwChildren.clear();
      child = this.metrics.hardwareModel.labels({ model, firmware, partnerid, trust });
      this.hwChildren.set(key, child);
    }
    return child;
  }

  // ---- inbound messages ------------------------------------------------------------------

  onFrame(conn: DeviceConnection, data: Buffer, isBinary: boolean): void {
    const now = Date.now();
    conn.lastActivity = now;
    conn.messagesReceived++;
    conn.bytesReceived += data.length;
    this.metrics.messagesReceived.inc();
    this.metrics.bytesReceived.inc(data.length);
    if (!isBinary) return this.invalid('text_frame');
    let msg: Message;
    try {
      msg = decodeMsgpack(data, this.limits);
      validateMessage(msg);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      return this.invalid(typeof code === 'string' ? code : 'wrp_malformed');
    }
    if (!this.sourceCheck(conn, msg.source)) return;
    if (!msg.contentType) msg.contentType = 'application/octet-stream';
    msg.metadata = { ...msg.metadata, '/xmidt-timestamp': this.timestamp(now) };
    msg.partnerIds = conn.info.partnerIds;
    if (msg.msgType === MessageType.SimpleEvent) msg.sessionId = conn.info.sessionId;
    if (msg.msgType === MessageType.SimpleRequestResponse) this.metrics.requestResponseCount.inc();
    if (isTransactionType(msg.msgType) && msg.transactionUuid) {
      if (!conn.completeTransaction(msg.transactionUuid, { msg, bytes: encodeMsgpack(msg) })) {
        this.invalid('transaction_broken');
      }
      return;
    }
    this.events.dispatch(msg.dest ?? '', () => encodeMsgpack(msg));
    if (msg.msgType === MessageType.SimpleEvent && (msg.qos ?? 0) >= 25) this.ack(conn, msg);
  }

  /** rfc3339Nano(now), formatted once per millisecond (frames arrive in bursts). */
  private timestamp(now: number): string {
    if (now !== this.lastStampMs) {
      this.lastStampMs = now;
      this.lastStamp = rfc3339Nano(now);
    }
    return this.lastStamp;
  }

  private invalid(reason: string): void {
    this.metrics.invalidMessages.inc({ reason });
  }

  private sourceCheck(conn: DeviceConnection, source: string | undefined): boolean {
    let reason: string;
    if (!source) reason = 'empty';
    else {
      try {
        reason = parseDeviceId(source) === conn.id ? 'id_match' : 'id_mismatch';
      } catch {
        reason = 'parse_error';
      }
    }
    const reject = reason !== 'id_match' && this.cfg.sourceCheck === 'enforce';
    this.metrics.wrpSourceCheck.inc({ outcome: reject ? 'rejected' : 'accepted', reason });
    return !reject;
  }

  private ack(conn: DeviceConnection, msg: Message): void {
    const ack: Message = {
      msgType: MessageType.SimpleEvent,
      source: this.ackSource,
      dest: msg.source ?? '',
      rdr: 0,
      qos: msg.qos ?? 0,
      sessionId: conn.info.sessionId,
    };
    if (msg.transactionUuid) ack.transactionUuid = msg.transactionUuid;
    if (msg.partnerIds) ack.partnerIds = msg.partnerIds;
    if (msg.headers) ack.headers = msg.headers;
    if (msg.metadata) ack.metadata = msg.metadata;
    const labels = {
      qos_level: qosLevel(msg.qos ?? 0),
      partner_id: conn.info.partnerIds[0] ?? 'unknown',
      message_type: 'SimpleEvent',
    };
    if (conn.trySend(encodeMsgpack(ack))) this.metrics.ackSuccess.inc(labels);
    else this.metrics.ackFailure.inc(labels);
  }

  // ---- disconnect ------------------------------------------------------------------------

  onClosed(conn: DeviceConnection): void {
    this.registry.remove(conn);
    const reason = conn.closeReason?.text ?? 'unknown';
    this.metrics.disconnectCount.inc({ reason });
    this.metrics.deviceCount.set(this.registry.size);
    this.hwGauge(conn).dec();
    this.logger.debug({ device: conn.id, reason }, 'device disconnected');
    const now = Date.now();
    this.events.dispatch(statusDest(conn.id, 'offline'), () =>
      encodeMsgpack(offlineEvent(conn, this.cfg.statusSource, now)),
    );
  }

  onSent(bytes: number): void {
    this.metrics.messagesSent.inc();
    this.metrics.bytesSent.inc(bytes);
  }

  onPong(): void {
    this.metrics.pongCount.inc();
  }

  private sweep(): void {
    const now = Date.now();
    const { idlePeriodMs, writeTimeoutMs, pingPeriodMs } = this.cfg;
    for (const conn of this.registry.values()) {
      if (conn.closed) continue;
      if (now - conn.lastActivity > idlePeriodMs) {
        conn.terminate('readerror', 'idle timeout');
      } else if (conn.pending > 0 && now - conn.lastWriteProgress > writeTimeoutMs) {
        conn.terminate('write-error', 'write timeout');
      } else if (now >= conn.nextPingAt) {
        conn.nextPingAt = now + pingPeriodMs;
        conn.ping();
        this.metrics.pingCount.inc();
      }
    }
  }

  /** Stops accepting, closes every device (reason `shutdown`) and waits for their close events. */
  async stop(timeoutMs = 3000): Promise<void> {
    this.stopping = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    const conns = this.registry.snapshot();
    for (const c of conns) c.close('shutdown', 1001);
    const deadline = Date.now() + timeoutMs;
    while (conns.some((c) => !c.closed) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const c of conns) if (!c.closed) c.terminate('shutdown');
    this.wss.close();
  }
}

function ignore(): void {}
