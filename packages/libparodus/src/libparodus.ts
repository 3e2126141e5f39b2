import { PullSocket, PushSocket, formatTcpUrl, parseTcpUrl } from '@xmidt/sp';
import {
  MessageType,
  decodeMsgpack,
  encodeMsgpack,
  type DecodeLimits,
  type Message,
} from '@xmidt/wrp';
import { LibParodusError } from './errors.js';
import { MessageQueue } from './message-queue.js';
import { MAX_SERVICE_NAME_LENGTH, serviceOfDest } from './service-name.js';

export const DEFAULT_PARODUS_URL = 'tcp://127.0.0.1:6666';
export const DEFAULT_CLIENT_URL = 'tcp://127.0.0.1:6667';
/** Delays between re-registration attempts after a keep-alive timeout (libparodus: 3, 7, 15, 31, 63 s). */
export const DEFAULT_REREGISTER_DELAYS_MS: readonly number[] = [3000, 7000, 15000, 31000, 63000];

export interface LibParodusOptions {
  /** Name parodus routes to: messages whose dest is `<device>/<serviceName>/...` come here. */
  serviceName: string;
  /** Where parodus listens (its PULL). Default `tcp://127.0.0.1:6666`. */
  parodusUrl?: string;
  /**
   * Where this service listens (its PULL); sent to parodus in the registration. Default
   * `tcp://127.0.0.1:6667`. Port 0 picks a free port and registers the actual one.
   */
  clientUrl?: string;
  /** Bind, register and receive (default true). When false the client can only send. */
  receive?: boolean;
  /** `connect()` resolves only after parodus answered the registration with AUTH 200 (default true). */
  waitForAuth?: boolean;
  /** How long `connect()` waits for AUTH. Default 10000 ms. */
  authTimeoutMs?: number;
  /**
   * If nothing at all arrives from parodus for this long, register again (parodus sends a
   * keep-alive every 30 s). 0 (the default, as in libparodus) turns this off.
   */
  keepaliveTimeoutMs?: number;
  /** Delays before each re-registration attempt; the last one repeats. */
  reregisterDelaysMs?: readonly number[];
  /** Register again each time the connection to parodus is re-established (default true). */
  reregisterOnReconnect?: boolean;
  /** `send()` fails if the message cannot be handed to parodus within this. Default 2000 ms. */
  sendTimeoutMs?: number;
  /** Messages held for `receive()`; further ones are dropped and counted. Default 50. */
  queueSize?: number;
  /** Largest SP message accepted from or sent to parodus. Default 1 MiB. */
  maxMessageSize?: number;
  /** WRP decode limits for incoming messages. */
  decodeLimits?: DecodeLimits;
  /** Reconnect backoff towards parodus (defaults 100 ms doubling to 5000 ms). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

export interface LibParodusStats {
  /** Messages queued for `receive()`. */
  received: number;
  /** ServiceAlive messages seen (and dropped). */
  keepAlives: number;
  /** AUTH messages seen. */
  auths: number;
  /** Registrations sent (the first one included). */
  registrations: number;
  /** Re-registrations started by the keep-alive watchdog. */
  keepaliveReregistrations: number;
  /** Messages dropped because the receive queue was full. */
  dropped: number;
  /** Messages for another service, or of a type a service does not receive. */
  filtered: number;
  /** Messages that were not valid WRP. */
  malformed: number;
}

/** Message types handed to the service (everything else is handled or dropped here). */
const DELIVERED: ReadonlySet<number> = new Set([
  MessageType.SimpleRequestResponse,
  MessageType.SimpleEvent,
  MessageType.Create,
  MessageType.Retrieve,
  MessageType.Update,
  MessageType.Delete,
]);

const delay = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * A local service's connection to parodus over the libparodus bus (nanomsg PUSH/PULL over
 * TCP carrying msgpack WRP): registers, receives messages addressed to the service and sends
 * messages upstream.
 */
export class LibParodus {
  readonly serviceName: string;
  readonly parodusUrl: string;
  private registeredUrl: string;
  private readonly options: LibParodusOptions;
  private readonly push: PushSocket;
  private pull: PullSocket | undefined;
  private readonly queue: MessageQueue<Message>;
  private authWaiters = new Set<{ resolve: () => void; reject: (err: Error) => void }>();
  private watchdog: NodeJS.Timeout | undefined;
  private reregistering = false;
  private closed = false;
  private auth = false;
  readonly stats: LibParodusStats = {
    received: 0,
    keepAlives: 0,
    auths: 0,
    registrations: 0,
    keepaliveReregistrations: 0,
    dropped: 0,
    filtered: 0,
    malformed: 0,
  };

  private constructor(options: LibParodusOptions) {
    this.options = options;
    this.serviceName = options.serviceName;
    this.parodusUrl = options.parodusUrl ?? DEFAULT_PARODUS_URL;
    this.registeredUrl = options.clientUrl ?? DEFAULT_CLIENT_URL;
    this.queue = new MessageQueue(options.queueSize ?? 50);
    this.push = new PushSocket(this.parodusUrl, {
      sendTimeoutMs: options.sendTimeoutMs ?? 2000,
      maxMessageSize: options.maxMessageSize,
      reconnectMinMs: options.reconnectMinMs,
      reconnectMaxMs: options.reconnectMaxMs,
      maxQueue: 100,
    });
    this.push.on('connect', () => this.onParodusConnect());
  }

  /**
   * Binds `clientUrl`, connects to `parodusUrl`, registers `{msg_type: 9, service_name, url}`
   * and (by default) waits for parodus' AUTH 200. Throws LibParodusError
   * (`libparodus_config_invalid`, `libparodus_auth_timeout`, `libparodus_auth_refused`) or the
   * bind error.
   */
  static async connect(options: LibParodusOptions): Promise<LibParodus> {
    validate(options);
    const client = new LibParodus(options);
    try {
      await client.start();
    } catch (err) {
      await client.close();
      throw err;
    }
    return client;
  }

  /** The URL registered with parodus (with the actual port when `clientUrl` had port 0). */
  get clientUrl(): string {
    return this.registeredUrl;
  }

  /** True once AUTH 200 has arrived for the current registration. */
  get authReceived(): boolean {
    return this.auth;
  }

  /** True while the connection to parodus is established. */
  get connected(): boolean {
    return this.push.connected;
  }

  /**
   * The next message for this service (REQ, EVENT or CRUD). Resolves `undefined` when
   * `timeoutMs` (> 0) passes first; rejects with `libparodus_closed` after `close()`.
   */
  async receive(timeoutMs = 0): Promise<Message | undefined> {
    if (this.options.receive === false) {
      throw new LibParodusError('libparodus_receive_disabled', 'created with receive: false');
    }
    const msg = await this.queue.shift(timeoutMs);
    if (msg === undefined && this.queue.isClosed) {
      throw new LibParodusError('libparodus_closed', 'libparodus client is closed');
    }
    return msg;
  }

  /** Yields messages for this service until `close()`. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Message, void, undefined> {
    while (true) {
      const msg = await this.queue.shift(0);
      if (msg === undefined) return;
      yield msg;
    }
  }

  /**
   * Encodes `msg` as msgpack WRP and pushes it to parodus. Resolves once it has been handed to
   * the connection; rejects with `libparodus_send_failed` (cause: the SP error) when that does
   * not happen within `sendTimeoutMs`, or with the codec's WrpError for an unencodable message.
   */
  async send(msg: Message): Promise<void> {
    if (this.closed) throw new LibParodusError('libparodus_closed', 'libparodus client is closed');
    const bytes = encodeMsgpack(msg);
    try {
      await this.push.send(bytes);
    } catch (err) {
      throw new LibParodusError('libparodus_send_failed', 'could not send to parodus', {
        cause: err,
      });
    }
  }

  /** Stops receiving, closes both sockets; pending `receive()` calls reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.watchdog);
    this.queue.close();
    for (const waiter of this.authWaiters) {
      waiter.reject(new LibParodusError('libparodus_closed', 'closed before AUTH arrived'));
    }
    this.authWaiters.clear();
    await Promise.all([this.pull?.close(), this.push.close()]);
  }

  private async start(): Promise<void> {
    if (this.options.receive === false) return;
    const pull = new PullSocket({ maxMessageSize: this.options.maxMessageSize });
    this.pull = pull;
    pull.on('message', (body) => this.onMessage(body));
    pull.on('error', () => {
      // listener errors after bind are not recoverable here; close() cleans up
    });
    const port = await pull.bind(this.registeredUrl);
    this.registeredUrl = formatTcpUrl(parseTcpUrl(this.registeredUrl, true).host, port);

    const sendTimeoutMs = this.options.sendTimeoutMs ?? 2000;
    if (this.options.waitForAuth === false) {
      await this.registerOrFail(sendTimeoutMs);
      this.armWatchdog();
      return;
    }
    const timeoutMs = this.options.authTimeoutMs ?? 10_000;
    const authorized = this.whenAuthorized();
    const registered = this.registerOrFail(Math.max(timeoutMs, sendTimeoutMs));
    authorized.catch(() => {});
    registered.catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new LibParodusError(
              'libparodus_auth_timeout',
              `no AUTH from parodus at ${this.parodusUrl} within ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([authorized, timeout, registered.then(() => authorized)]);
    } finally {
      clearTimeout(timer);
    }
    this.armWatchdog();
  }

  /**
   * A reconnect to parodus (a restarted parodus has forgotten its services): register again.
   * The first connection carries the registration queued by `connect()`.
   */
  private onParodusConnect(): void {
    if (this.closed || this.options.receive === false) return;
    if (this.options.reregisterOnReconnect === false) return;
    if (this.push.stats.connects <= 1 || this.stats.registrations === 0) return;
    this.auth = false;
    this.register().catch(() => {
      // the keep-alive watchdog (if enabled) or the next reconnect tries again
    });
  }

  private async registerOrFail(timeoutMs: number): Promise<void> {
    try {
      await this.register(timeoutMs);
    } catch (err) {
      throw new LibParodusError('libparodus_send_failed', 'registration could not be sent', {
        cause: err,
      });
    }
  }

  private register(timeoutMs = this.options.sendTimeoutMs ?? 2000): Promise<void> {
    this.stats.registrations++;
    return this.push.send(
      encodeMsgpack({
        msgType: MessageType.ServiceRegistration,
        serviceName: this.serviceName,
        url: this.registeredUrl,
      }),
      { timeoutMs },
    );
  }

  private whenAuthorized(): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: () => {
          this.authWaiters.delete(waiter);
          resolve();
        },
        reject: (err: Error) => {
          this.authWaiters.delete(waiter);
          reject(err);
        },
      };
      this.authWaiters.add(waiter);
    });
  }

  private onMessage(body: Buffer): void {
    if (this.closed) return;
    this.armWatchdog();
    let msg: Message;
    try {
      msg = decodeMsgpack(body, {
        maxBytes: this.options.maxMessageSize,
        ...this.options.decodeLimits,
      });
    } catch {
      this.stats.malformed++;
      return;
    }
    if (msg.msgType === MessageType.Authorization) {
      this.stats.auths++;
      if (msg.status === 200) {
        this.auth = true;
        for (const waiter of [...this.authWaiters]) waiter.resolve();
      } else {
        this.auth = false;
        for (const waiter of [...this.authWaiters]) {
          waiter.reject(
            new LibParodusError('libparodus_auth_refused', `parodus answered AUTH ${msg.status}`),
          );
        }
      }
      return;
    }
    if (msg.msgType === MessageType.ServiceAlive) {
      this.stats.keepAlives++;
      return;
    }
    if (!DELIVERED.has(msg.msgType) || serviceOfDest(msg.dest ?? '') !== this.serviceName) {
      this.stats.filtered++;
      return;
    }
    if (this.queue.push(msg)) this.stats.received++;
    else this.stats.dropped++;
  }

  /** (Re)starts the keep-alive watchdog when `keepaliveTimeoutMs` > 0. */
  private armWatchdog(): void {
    const timeoutMs = this.options.keepaliveTimeoutMs ?? 0;
    if (timeoutMs <= 0 || this.closed || this.reregistering) return;
    if (this.watchdog) {
      this.watchdog.refresh();
      return;
    }
    this.watchdog = setTimeout(() => {
      this.watchdog = undefined;
      void this.reregisterAfterSilence();
    }, timeoutMs);
    this.watchdog.unref();
  }

  /** Nothing arrived within the keep-alive timeout: register again, backing off on failure. */
  private async reregisterAfterSilence(): Promise<void> {
    this.reregistering = true;
    this.stats.keepaliveReregistrations++;
    this.auth = false;
    const delays = this.options.reregisterDelaysMs ?? DEFAULT_REREGISTER_DELAYS_MS;
    for (let attempt = 0; !this.closed; attempt++) {
      await delay(delays[Math.min(attempt, delays.length - 1)] ?? 0);
      if (this.closed) break;
      try {
        await this.register();
        break;
      } catch {
        // try again after the next delay
      }
    }
    this.reregistering = false;
    this.armWatchdog();
  }
}

function validate(options: LibParodusOptions): void {
  const name = options.serviceName;
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_SERVICE_NAME_LENGTH) {
    throw new LibParodusError(
      'libparodus_config_invalid',
      `serviceName must be 1..${MAX_SERVICE_NAME_LENGTH} characters`,
    );
  }
  if (name.includes('/')) {
    throw new LibParodusError('libparodus_config_invalid', 'serviceName must not contain "/"');
  }
  for (const [key, url] of [
    ['parodusUrl', options.parodusUrl],
    ['clientUrl', options.clientUrl],
  ] as const) {
    if (url === undefined) continue;
    try {
      parseTcpUrl(url, key === 'clientUrl');
    } catch (err) {
      throw new LibParodusError('libparodus_config_invalid', `${key}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}
