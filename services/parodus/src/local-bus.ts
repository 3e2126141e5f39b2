import { EventEmitter } from 'node:events';
import { decodeMsgpack, encodeMsgpack, MessageType, type Message } from '@xmidt/wrp';
import { PullSocket, PushSocket, parseTcpUrl } from '@xmidt/sp';
import { MAX_SERVICE_NAME } from './dest-service.js';

export interface LocalBusOptions {
  /** PULL bind URL (`--parodus-local-url`). */
  url: string;
  /** ServiceAlive period, ms. Default 30000 (as Parodus). */
  keepAliveMs?: number;
  /** Send timeout towards a service, ms. Default 2000 (as Parodus). */
  sendTimeoutMs?: number;
  /** Registered services at most. Default 64. */
  maxServices?: number;
  /** Largest message accepted from a service, bytes. Default 1 MiB. */
  maxMessageSize?: number;
}

export interface RegisteredService {
  name: string;
  url: string;
  registeredAt: number;
}

export interface LocalBusEvents {
  /** A message from a local service that is not a registration or keep-alive. */
  message: [msg: Message, raw: Buffer];
  registered: [service: RegisteredService];
  removed: [service: RegisteredService, reason: string];
  /** A message that did not decode or a refused registration. */
  rejected: [reason: string];
}

interface Entry extends RegisteredService {
  push: PushSocket;
}

const AUTH_OK = encodeMsgpack({ msgType: MessageType.Authorization, status: 200 });
const SERVICE_ALIVE = encodeMsgpack({ msgType: MessageType.ServiceAlive });

/**
 * The libparodus local bus: a PULL socket bound at the agent's URL receives from every
 * service; each registered service gets a PUSH socket to its own URL. Registration (9) is
 * answered with Auth (2) status 200; ServiceAlive (10) goes to every service periodically and a
 * service whose keep-alive cannot be delivered in time is removed.
 */
export class LocalBus extends EventEmitter<LocalBusEvents> {
  private readonly pull: PullSocket;
  private readonly services = new Map<string, Entry>();
  private readonly keepAliveMs: number;
  private readonly sendTimeoutMs: number;
  private readonly maxServices: number;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: LocalBusOptions) {
    super();
    this.keepAliveMs = options.keepAliveMs ?? 30_000;
    this.sendTimeoutMs = options.sendTimeoutMs ?? 2000;
    this.maxServices = options.maxServices ?? 64;
    this.pull = new PullSocket({ maxMessageSize: options.maxMessageSize ?? 1024 * 1024 });
    this.pull.on('message', (body) => this.onMessage(body));
    this.pull.on('error', () => {
      // per-connection problems only; the socket keeps serving others
    });
  }

  /** Binds the PULL socket; resolves with the bound port. */
  async start(): Promise<number> {
    const port = await this.pull.bind(this.options.url);
    this.keepAliveTimer = setInterval(() => this.keepAlive(), this.keepAliveMs);
    this.keepAliveTimer.unref();
    return port;
  }

  /** The bound URL with its actual port. */
  get url(): string {
    return this.pull.url;
  }

  has(name: string): boolean {
    return this.services.has(name);
  }

  list(): RegisteredService[] {
    return [...this.services.values()].map(({ name, url, registeredAt }) => ({
      name,
      url,
      registeredAt,
    }));
  }

  /** Sends bytes to a registered service; false when it is unknown or the send failed. */
  async sendTo(name: string, bytes: Uint8Array): Promise<boolean> {
    const entry = this.services.get(name);
    if (entry === undefined) return false;
    try {
      await entry.push.send(bytes, { timeoutMs: this.sendTimeoutMs });
      return true;
    } catch {
      return false;
    }
  }

  async stop(): Promise<void> {
    this.closed = true;
    if (this.keepAliveTimer !== undefined) clearInterval(this.keepAliveTimer);
    const entries = [...this.services.values()];
    this.services.clear();
    await Promise.all([this.pull.close(), ...entries.map((e) => e.push.close())]);
  }

  private onMessage(body: Buffer): void {
    let msg: Message;
    try {
      msg = decodeMsgpack(body);
    } catch {
      this.emit('rejected', 'decode');
      return;
    }
    switch (msg.msgType) {
      case MessageType.ServiceRegistration:
        this.register(msg);
        return;
      case MessageType.ServiceAlive:
        return;
      default:
        this.emit('message', msg, body);
    }
  }

  private register(msg: Message): void {
    const name = msg.serviceName ?? '';
    const url = msg.url ?? '';
    if (name === '' || name.length > MAX_SERVICE_NAME || name.includes('/')) {
      this.emit('rejected', 'registration_invalid_name');
      return;
    }
    try {
      parseTcpUrl(url);
    } catch {
      this.emit('rejected', 'registration_invalid_url');
      return;
    }
    let entry = this.services.get(name);
    if (entry !== undefined && entry.url !== url) {
      this.remove(entry, 'reregistered');
      entry = undefined;
    }
    if (entry === undefined) {
      if (this.services.size >= this.maxServices) {
        this.emit('rejected', 'registration_limit');
        return;
      }
      entry = {
        name,
        url,
        registeredAt: Date.now(),
        push: new PushSocket(url, { sendTimeoutMs: this.sendTimeoutMs, maxQueue: 100 }),
      };
      this.services.set(name, entry);
    }
    const { push, ...info } = entry;
    this.emit('registered', info);
    push.send(AUTH_OK, { timeoutMs: this.sendTimeoutMs }).catch(() => {
      // the keep-alive removes a service that cannot be reached
    });
  }

  private keepAlive(): void {
    if (this.closed) return;
    for (const entry of this.services.values()) {
      entry.push.send(SERVICE_ALIVE, { timeoutMs: this.sendTimeoutMs }).catch(() => {
        if (this.services.get(entry.name) === entry) this.remove(entry, 'keepalive_failed');
      });
    }
  }

  private remove(entry: Entry, reason: string): void {
    this.services.delete(entry.name);
    void entry.push.close();
    const { push: _push, ...info } = entry;
    this.emit('removed', info, reason);
  }
}
