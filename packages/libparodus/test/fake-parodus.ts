import { PullSocket, PushSocket } from '@xmidt/sp';
import { MessageType, decodeMsgpack, encodeMsgpack, type Message } from '@xmidt/wrp';

export interface FakeParodusOptions {
  /** AUTH status sent in answer to a registration; undefined sends no AUTH at all. */
  authStatus?: number | undefined;
  port?: number;
}

/**
 * The agent side of the libparodus bus, for tests: PULL-binds, answers each registration
 * by PUSH-connecting to the service URL and sending AUTH, and records what services send.
 */
export class FakeParodus {
  readonly pull = new PullSocket();
  readonly services = new Map<string, PushSocket>();
  readonly registrations: Message[] = [];
  readonly upstream: Message[] = [];
  private waiters: (() => void)[] = [];

  private constructor(private readonly options: FakeParodusOptions) {}

  static async start(options: FakeParodusOptions = { authStatus: 200 }): Promise<FakeParodus> {
    const fake = new FakeParodus(options);
    fake.pull.on('message', (body) => fake.onMessage(body));
    await fake.pull.bind(`tcp://127.0.0.1:${options.port ?? 0}`);
    return fake;
  }

  get url(): string {
    return this.pull.url;
  }

  get port(): number {
    return this.pull.port;
  }

  /** Sends a WRP message to a registered service. */
  async sendTo(service: string, msg: Message): Promise<void> {
    await this.sendRaw(service, encodeMsgpack(msg));
  }

  async sendRaw(service: string, bytes: Uint8Array): Promise<void> {
    const push = this.services.get(service);
    if (!push) throw new Error(`service ${service} is not registered`);
    await push.send(bytes, { timeoutMs: 2000 });
  }

  /** Resolves once `predicate` holds (checked after every message received). */
  async until(predicate: () => boolean): Promise<void> {
    while (!predicate()) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  async close(): Promise<void> {
    await this.pull.close();
    await Promise.all([...this.services.values()].map((p) => p.close()));
    this.services.clear();
  }

  private onMessage(body: Buffer): void {
    const msg = decodeMsgpack(body);
    if (msg.msgType === MessageType.ServiceRegistration && msg.serviceName && msg.url) {
      this.registrations.push(msg);
      const old = this.services.get(msg.serviceName);
      if (old?.url !== msg.url) {
        void old?.close();
        this.services.set(msg.serviceName, new PushSocket(msg.url, { reconnectMinMs: 20 }));
      }
      if (this.options.authStatus !== undefined) {
        void this.sendTo(msg.serviceName, {
          msgType: MessageType.Authorization,
          status: this.options.authStatus,
        });
      }
    } else {
      this.upstream.push(msg);
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
