import { EventEmitter, on } from 'node:events';
import type WebSocket from 'ws';
import {
  decodeMsgpack,
  encodeMsgpack,
  MessageType,
  type DecodeLimits,
  type Message,
} from '@xmidt/wrp';
import { Backoff, type BackoffOptions } from './backoff.js';
import {
  connectHeaders,
  DEFAULT_DEVICE_PROTOCOLS,
  deviceName,
  FIRST_RECONNECT_REASON,
  type DeviceInfo,
} from './device-info.js';
import { deviceUrl } from './device-url.js';
import { dial, type DialResult, type DialTls } from './dial.js';
import { DeviceClientError } from './errors.js';
import { sharedTicker, type SharedTicker } from './shared-ticker.js';
import { fetchToken, type Token, type TokenOptions } from './token-source.js';

/** Reconnect reasons (sent as `webpa-last-reconnect-reason`). */
export const ReconnectReason = {
  ProcessStarts: FIRST_RECONNECT_REASON,
  PingMiss: 'Ping_Miss',
  SocketClose: 'SSL_Socket_Close',
  Unknown: 'Unknown',
} as const;

/** Close reasons this client sends (always with code 1000). */
export const CloseReason = {
  Stopping: 'parodus_stopping',
  Restarting: 'system_restarting',
} as const;

export type CloudStatus = 'online' | 'offline';

export interface DeviceClientOptions {
  /** Server URL (normally Petasos), `http(s)://host[:port]`; any path is ignored. */
  url: string;
  device: DeviceInfo;
  /** Fetch a token from Themis before connecting; without it no Authorization header is sent. */
  token?: TokenOptions;
  /** `--webpa-ping-timeout` in ms: reconnect when no ping with a payload came for this long; 0 = off. */
  pingTimeoutMs?: number;
  /** How often ping timeouts are checked (shared by all clients of a process), ms. Default 5000. */
  pingCheckIntervalMs?: number;
  backoff?: BackoffOptions;
  /** Redirects (307/302/303) followed per attempt before it counts as a failure. Default 10. */
  maxRedirects?: number;
  /** Opening handshake timeout, ms. Default 10000 (as Parodus). */
  handshakeTimeoutMs?: number;
  /** Largest inbound message, bytes. Default 1 MiB. */
  maxPayload?: number;
  /** Largest amount of unsent outbound bytes before `send` drops. Default 4 MiB. */
  maxBufferedBytes?: number;
  /** A connection that lasted at least this long resets the backoff. Default 10000 ms. */
  stableAfterMs?: number;
  /** `X-WebPA-Device-Protocols`. */
  deviceProtocols?: string;
  tls?: DialTls;
  /** IP family to connect over (Parodus `--force-ipv4` / `--force-ipv6`); any when absent. */
  family?: 4 | 6;
  decodeLimits?: DecodeLimits;
}

export interface ConnectFailure {
  /** e.g. `http_500`, `connect_refused`, `handshake_timeout`, `redirect_limit`, `token_http_500`. */
  reason: string;
  status?: number;
  /** The URL of the failed attempt. */
  url: string;
  /** How long the client waits before the next attempt, ms (0 = at once). */
  delayMs: number;
}

export interface OnlineInfo {
  url: string;
  /** Redirects followed in this attempt. */
  redirects: number;
  /** From the first request of the attempt to the open websocket, redirects included, ms. */
  latencyMs: number;
}

export interface OfflineInfo {
  code: number;
  reason: string;
  /** The reason the next connect will report. */
  reconnectReason: string;
  /** How long the connection was up, ms. */
  durationMs: number;
}

export interface DeviceClientEvents {
  /** A decoded WRP message from the cloud and its original bytes. */
  message: [msg: Message, raw: Buffer];
  online: [info: OnlineInfo];
  offline: [info: OfflineInfo];
  'cloud-status': [status: CloudStatus];
  'connect-failure': [failure: ConnectFailure];
  redirect: [info: { from: string; to: string; status: number }];
  token: [result: { ok: boolean; reason?: string }];
  /** A binary frame that did not decode as WRP (it is dropped). */
  'decode-error': [err: unknown, raw: Buffer];
}

interface Closed {
  code: number;
  reason: string;
  pingMiss: boolean;
  durationMs: number;
}

const REDIRECT_STATUSES = new Set([302, 303, 307]);
const STOPPED = new DeviceClientError('device_client_stopped', 'client stopped');

/**
 * The device side of the XMiDT websocket protocol, behaving as Parodus does: connect through
 * Petasos with Parodus' headers, follow redirects, back off, detect ping misses, reconnect.
 */
export class DeviceClient extends EventEmitter<DeviceClientEvents> {
  readonly deviceId: string;
  private readonly opts: DeviceClientOptions;
  private readonly baseUrl: URL;
  private readonly backoff: Backoff;
  private readonly ticker: SharedTicker | undefined;
  private ws: WebSocket | undefined;
  private token: Token | undefined;
  private reconnectReason: string = ReconnectReason.ProcessStarts;
  private started = false;
  private stopped = false;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private sleepTimer: NodeJS.Timeout | undefined;
  private lastPingAt = 0;
  private pingMissed = false;
  private pendingDelayMs = 0;
  /** Reconnect reason set by `disconnect`, reported instead of the one the close implies. */
  private forcedReason: string | undefined;
  private readonly abort = new AbortController();
  private readonly onTick = (now: number): void => this.checkPing(now);

  constructor(options: DeviceClientOptions) {
    super();
    this.opts = options;
    this.deviceId = deviceName(options.device);
    this.baseUrl = deviceUrl(options.url);
    this.backoff = new Backoff(options.backoff);
    const pingTimeout = options.pingTimeoutMs ?? 0;
    if (pingTimeout < 0 || !Number.isFinite(pingTimeout)) {
      throw new DeviceClientError('device_client_invalid_option', 'pingTimeoutMs must be >= 0');
    }
    this.ticker = pingTimeout > 0 ? sharedTicker(options.pingCheckIntervalMs ?? 5000) : undefined;
  }

  /** `online` while a websocket is open, else `offline`. */
  get cloudStatus(): CloudStatus {
    return this.ws !== undefined ? 'online' : 'offline';
  }

  /** The reason the next (or current) connection reports as `webpa-last-reconnect-reason`. */
  get lastReconnectReason(): string {
    return this.reconnectReason;
  }

  /** The token currently held, if any. */
  get currentToken(): string | undefined {
    return this.token?.value;
  }

  /** Starts connecting (at once) and keeps the connection up until `stop`. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.running = this.run();
  }

  /** Closes with code 1000 and `reason` (default `parodus_stopping`) and stops reconnecting. */
  async stop(reason: string = CloseReason.Stopping): Promise<void> {
    this.stopped = true;
    // A reason given up front spares creating an exception object per client.
    this.abort.abort(STOPPED);
    this.interruptSleep();
    this.closeSocket(reason);
    await this.running;
  }

  /**
   * Closes the current connection (code 1000, `closeReason`) and reconnects after `delayMs`
   * reporting `reconnectReason` (Parodus' cloud-disconnect: reason from the request, 5 minutes).
   */
  disconnect(
    reconnectReason: string,
    delayMs = 0,
    closeReason: string = CloseReason.Stopping,
  ): void {
    if (this.ws === undefined) return;
    this.pendingDelayMs = delayMs;
    this.forcedReason = reconnectReason;
    this.closeSocket(closeReason);
  }

  /** Sends one WRP message as one binary frame. Returns false (message dropped) when offline or congested. */
  send(msg: Message): boolean {
    return this.sendRaw(encodeMsgpack(msg));
  }

  /** Sends already-encoded WRP bytes as one binary frame; false when dropped. */
  sendRaw(bytes: Uint8Array): boolean {
    const ws = this.ws;
    if (ws === undefined || ws.readyState !== 1) return false;
    if (ws.bufferedAmount > (this.opts.maxBufferedBytes ?? 4 * 1024 * 1024)) return false;
    ws.send(bytes, { binary: true });
    return true;
  }

  /**
   * Answers a request: same msg_type and transaction_uuid, source and dest swapped.
   * `fields` add payload, content type, status and so on.
   */
  reply(request: Message, fields: Partial<Message> = {}): boolean {
    const out: Message = {
      msgType: request.msgType,
      ...(request.dest !== undefined ? { source: request.dest } : {}),
      ...(request.source !== undefined ? { dest: request.source } : {}),
      ...(request.transactionUuid !== undefined
        ? { transactionUuid: request.transactionUuid }
        : {}),
      ...fields,
    };
    return this.send(out);
  }

  /** Sends a SimpleEvent from this device: `dest` like `event:device-status/…`. */
  sendEvent(dest: string, payload: Uint8Array, contentType = 'application/json'): boolean {
    return this.send({
      msgType: MessageType.SimpleEvent,
      source: this.deviceId,
      dest,
      contentType,
      payload,
    });
  }

  /** Inbound messages as an async iterator (ends when `signal` aborts). */
  async *messages(signal?: AbortSignal): AsyncGenerator<{ msg: Message; raw: Buffer }> {
    for await (const [msg, raw] of on(this, 'message', signal ? { signal } : {})) {
      yield { msg: msg as Message, raw: raw as Buffer };
    }
  }

  // ---- connection loop ----

  private async run(): Promise<void> {
    let last403 = false;
    while (!this.stopped) {
      await this.ensureToken();
      if (this.stopped) break;
      const headers = connectHeaders(
        this.opts.device,
        this.reconnectReason,
        this.token?.value,
        this.opts.deviceProtocols ?? DEFAULT_DEVICE_PROTOCOLS,
      );
      const attempt = await this.attempt(headers);
      if (attempt.closed !== undefined) {
        last403 = false;
        const closed = await attempt.closed;
        if (this.stopped) break;
        const stable = closed.durationMs >= (this.opts.stableAfterMs ?? 10_000);
        if (stable || closed.pingMiss) this.backoff.reset();
        let delay = this.pendingDelayMs;
        this.pendingDelayMs = 0;
        if (delay === 0 && !stable && !closed.pingMiss) delay = this.backoff.next();
        if (delay > 0) await this.sleep(delay);
        continue;
      }
      const failure = attempt.result;
      if (this.stopped || failure.ok) break;
      let delay: number;
      if (failure.status === 403) {
        // The token was refused: drop it and fetch a new one. Parodus retries at once every
        // time; here only the first 403 in a row is retried at once, later ones back off.
        this.token = undefined;
        delay = last403 ? this.backoff.next() : 0;
        last403 = true;
      } else {
        last403 = false;
        delay = this.backoff.next();
      }
      this.emit('connect-failure', {
        reason: failure.reason,
        ...(failure.status !== undefined ? { status: failure.status } : {}),
        url: attempt.url,
        delayMs: delay,
      });
      if (delay > 0) await this.sleep(delay);
    }
  }

  private async ensureToken(): Promise<void> {
    const opts = this.opts.token;
    if (opts === undefined) return;
    if (this.token !== undefined && Date.now() < this.token.refreshAt) return;
    const r = await fetchToken(opts, this.opts.device, this.reconnectReason, this.abort.signal);
    if (r.ok) {
      this.token = r.token;
      this.emit('token', { ok: true });
    } else {
      // As Parodus: go on without a token (the server decides).
      this.token = undefined;
      this.emit('token', { ok: false, reason: r.reason });
    }
  }

  /** One connect attempt from the base URL, following redirects. */
  private async attempt(
    headers: Record<string, string>,
  ): Promise<{ result: DialResult; url: string; redirects: number; closed?: Promise<Closed> }> {
    let target = this.baseUrl;
    const maxRedirects = this.opts.maxRedirects ?? 10;
    const startedAt = Date.now();
    for (let redirects = 0; ; redirects++) {
      let closed: Promise<Closed> | undefined;
      const url = target.href;
      const hops = redirects;
      const result = await dial(target, {
        onOpen: (ws) => {
          closed = this.connected(ws, url, hops, Date.now() - startedAt);
        },
        headers,
        handshakeTimeoutMs: this.opts.handshakeTimeoutMs ?? 10_000,
        maxPayload: this.opts.maxPayload ?? 1024 * 1024,
        signal: this.abort.signal,
        ...(this.opts.family !== undefined ? { family: this.opts.family } : {}),
        ...(this.opts.tls !== undefined ? { tls: this.opts.tls } : {}),
      });
      if (result.ok) return { result, url, redirects, ...(closed !== undefined ? { closed } : {}) };
      if (this.stopped) return { result, url, redirects };
      if (result.status === undefined || !REDIRECT_STATUSES.has(result.status)) {
        return { result, url: target.href, redirects };
      }
      if (result.location === undefined || result.location === '') {
        return {
          result: { ok: false, reason: 'redirect_no_location', status: result.status },
          url: target.href,
          redirects,
        };
      }
      if (redirects >= maxRedirects) {
        return {
          result: { ok: false, reason: 'redirect_limit', status: result.status },
          url: target.href,
          redirects,
        };
      }
      let next: URL;
      try {
        next = deviceUrl(result.location, target);
      } catch {
        return {
          result: { ok: false, reason: 'redirect_invalid', status: result.status },
          url: target.href,
          redirects,
        };
      }
      this.emit('redirect', { from: target.href, to: next.href, status: result.status });
      target = next;
    }
  }

  /** Sets up an open connection (synchronously, from the open event); resolves when it closes. */
  private connected(
    ws: WebSocket,
    url: string,
    redirects: number,
    latencyMs: number,
  ): Promise<Closed> {
    const openedAt = Date.now();
    this.ws = ws;
    this.lastPingAt = openedAt;
    this.pingMissed = false;
    this.forcedReason = undefined;
    const limits = this.opts.decodeLimits;
    ws.on('error', () => {
      // 'close' follows.
    });
    ws.on('ping', (data: Buffer) => {
      // Only pings with a payload count, as with Parodus (nopoll answers empty ones itself).
      if (data.length > 0) this.lastPingAt = Date.now();
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary || data.length === 0) return;
      let msg: Message;
      try {
        msg = limits !== undefined ? decodeMsgpack(data, limits) : decodeMsgpack(data);
      } catch (err) {
        this.emit('decode-error', err, data);
        return;
      }
      this.emit('message', msg, data);
    });
    this.ticker?.add(this.onTick);
    if (this.stopped) this.closeSocket(CloseReason.Stopping);
    this.emit('online', { url, redirects, latencyMs });
    this.emit('cloud-status', 'online');
    return new Promise((resolve) => {
      ws.once('close', (code: number, reasonBuf: Buffer) => {
        this.ticker?.delete(this.onTick);
        this.ws = undefined;
        const pingMiss = this.pingMissed;
        let next: string;
        if (this.forcedReason !== undefined) next = this.forcedReason;
        else if (pingMiss) next = ReconnectReason.PingMiss;
        else if (code === 1006) next = ReconnectReason.SocketClose;
        else next = ReconnectReason.Unknown;
        this.forcedReason = undefined;
        this.reconnectReason = next;
        const durationMs = Date.now() - openedAt;
        const reason = reasonBuf.toString('utf8');
        this.emit('cloud-status', 'offline');
        this.emit('offline', { code, reason, reconnectReason: next, durationMs });
        resolve({ code, reason, pingMiss, durationMs });
      });
    });
  }

  private checkPing(now: number): void {
    const timeout = this.opts.pingTimeoutMs ?? 0;
    if (timeout <= 0 || this.ws === undefined || this.pingMissed) return;
    if (now - this.lastPingAt >= timeout) {
      this.pingMissed = true;
      this.closeSocket(CloseReason.Stopping);
    }
  }

  private closeSocket(reason: string): void {
    const ws = this.ws;
    if (ws === undefined) return;
    ws.close(1000, reason);
    // A dead peer never answers the close frame: drop the socket soon after.
    const timer = setTimeout(() => ws.terminate(), 1000);
    timer.unref();
    ws.once('close', () => clearTimeout(timer));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) {
        resolve();
        return;
      }
      this.wake = resolve;
      this.sleepTimer = setTimeout(() => {
        this.sleepTimer = undefined;
        this.wake = undefined;
        resolve();
      }, ms);
    });
  }

  private interruptSleep(): void {
    if (this.sleepTimer !== undefined) clearTimeout(this.sleepTimer);
    this.sleepTimer = undefined;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
