import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { DeviceClient, type OnlineInfo } from '@xmidt/device-client';
import { freePort, waitFor } from '@xmidt/testkit';
import { MessageType, type Message } from '@xmidt/wrp';
import { ManagedProcess } from './processes.js';

/** A random locally administered MAC, 12 lowercase hex digits. */
export function randomMac(): string {
  const bytes = randomBytes(6);
  bytes[0] = ((bytes[0] ?? 0) & 0xfe) | 0x02;
  return bytes.toString('hex');
}

export interface TestDeviceOptions {
  /** Server URL (Petasos). */
  url: string;
  mac?: string;
  /** Backoff unit in ms (default 100) and cap exponent (default 3): retries within ~1 s. */
  backoffUnitMs?: number;
  backoffMaxExponent?: number;
  /**
   * Fetch a device token from Themis' issuer (`<issuer>/issue`) first, with this partner id:
   * Talaria then gives the device's events that partner id.
   */
  token?: { issuerUrl: string; partnerId: string };
}

/**
 * A device on @xmidt/device-client (connects through Petasos as Parodus does) that answers
 * every SimpleRequestResponse with `echo:<payload>` and records where it is connected.
 */
export class TestDevice {
  readonly client: DeviceClient;
  readonly mac: string;
  /** Talaria URL of the current (or last) connection. */
  talariaUrl: string | undefined;
  onlineCount = 0;
  readonly received: Message[] = [];

  constructor(options: TestDeviceOptions) {
    this.mac = options.mac ?? randomMac();
    this.client = new DeviceClient({
      url: options.url,
      device: {
        hwMac: this.mac,
        hwModel: 'e2e-model',
        hwManufacturer: 'e2e',
        hwSerialNumber: `sn-${this.mac}`,
        fwName: 'e2e-fw',
        ...(options.token ? { partnerId: options.token.partnerId } : {}),
      },
      ...(options.token ? { token: { url: `${options.token.issuerUrl}/issue`, attempts: 3 } } : {}),
      backoff: {
        unitMs: options.backoffUnitMs ?? 100,
        maxExponent: options.backoffMaxExponent ?? 3,
      },
    });
    this.client.on('online', (info: OnlineInfo) => {
      this.onlineCount++;
      // the websocket URL (ws://host:port/api/v2/device) as the Talaria's http origin
      const url = new URL(info.url);
      url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
      this.talariaUrl = url.origin;
    });
    this.client.on('message', (msg) => {
      this.received.push(msg);
      if (msg.msgType === MessageType.SimpleRequestResponse) {
        const text = msg.payload === undefined ? '' : Buffer.from(msg.payload).toString('utf8');
        this.client.reply(msg, {
          contentType: 'text/plain',
          payload: Buffer.from(`echo:${text}`, 'utf8'),
        });
      }
    });
  }

  get id(): string {
    return this.client.deviceId;
  }

  /** Starts and resolves once the websocket is open. */
  async connect(timeoutMs = 20_000): Promise<void> {
    const online = once(this.client, 'online', { signal: AbortSignal.timeout(timeoutMs) });
    this.client.start();
    await online;
  }

  /** Waits until the device has been online `count` times in total. */
  async waitOnlineCount(count: number, timeoutMs: number): Promise<void> {
    await waitFor(() => this.onlineCount >= count && this.client.cloudStatus === 'online', {
      timeoutMs,
      intervalMs: 50,
      what: `${this.id} online again`,
    });
  }

  stop(): Promise<void> {
    return this.client.stop();
  }
}

export interface ParodusProcess {
  process: ManagedProcess;
  mac: string;
  deviceId: string;
  /** Where local services reach the agent (its libparodus PULL socket). */
  localUrl: string;
}

export interface ParodusOptions {
  mac?: string;
  /** `--token-server-url <issuer>/issue --partner-id <partnerId>`: connect with a Themis token. */
  token?: { issuerUrl: string; partnerId: string };
}

/**
 * Runs our Parodus agent as a real process (`services/parodus/src/main.ts`), connecting to
 * `url` (Petasos) with its local bus on a free loopback port.
 */
export async function startParodus(
  url: string,
  options: ParodusOptions = {},
): Promise<ParodusProcess> {
  const mac = options.mac ?? randomMac();
  const localUrl = `tcp://127.0.0.1:${await freePort()}`;
  const token = options.token
    ? [
        '--token-server-url',
        `${options.token.issuerUrl}/issue`,
        '--partner-id',
        options.token.partnerId,
      ]
    : [];
  const proc = new ManagedProcess({
    args: [
      '--import',
      'tsx',
      'services/parodus/src/main.ts',
      '--hw-mac',
      mac,
      '--hw-model',
      'e2e-gateway',
      '--hw-manufacturer',
      'e2e',
      '--fw-name',
      'e2e-fw',
      '--webpa-url',
      url,
      '--webpa-backoff-max',
      '2',
      '--parodus-local-url',
      localUrl,
      ...token,
    ],
  });
  return { process: proc, mac, deviceId: `mac:${mac}`, localUrl };
}
