import {
  DeviceClient,
  type ConnectFailure,
  type OfflineInfo,
  type OnlineInfo,
} from '@xmidt/device-client';
import { MessageType, type Message } from '@xmidt/wrp';
import { emptySnapshot, type FleetSnapshot } from './fleet-stats.js';
import { Histogram } from './histogram.js';

/** What one process simulates (plain data: it is sent to worker processes). */
export interface FleetConfig {
  /** Server URLs (normally Petasos); device i uses urls[i % urls.length]. */
  urls: string[];
  /** Index of the first device of this fleet in the whole simulation. */
  firstIndex: number;
  count: number;
  /** The first MAC address as a number; device i gets macBase + i. */
  macBase: number;
  /** Devices started per second. */
  rampPerSecond: number;
  /** Events per second sent by this fleet as a whole. */
  eventsPerSecond: number;
  eventPayloadBytes: number;
  /** Event dest; `{id}` is replaced with the device id. */
  eventDest: string;
  /** How requests are answered: `echo` (payload back, status 200) or `none`. */
  reply: 'echo' | 'none';
  pingTimeoutS: number;
  backoffMax: number;
  backoffUnitMs: number;
  tokenUrl?: string;
  model: string;
  firmware: string;
  manufacturer: string;
}

export function macFor(macBase: number, index: number): string {
  return (macBase + index).toString(16).padStart(12, '0').slice(-12);
}

const REPLY_TYPES = new Set<number>([
  MessageType.SimpleRequestResponse,
  MessageType.Create,
  MessageType.Retrieve,
  MessageType.Update,
  MessageType.Delete,
]);

/** A set of simulated devices in this process, sharing all timers. */
export class Fleet {
  private readonly clients: DeviceClient[] = [];
  private readonly stats: FleetSnapshot;
  private readonly latency = new Histogram();
  private rampTimer: NodeJS.Timeout | undefined;
  private eventTimer: NodeJS.Timeout | undefined;
  private eventCursor = 0;
  private eventBudget = 0;
  private readonly eventPayload: Buffer;
  private stopping = false;

  constructor(private readonly config: FleetConfig) {
    this.stats = emptySnapshot();
    this.stats.devices = config.count;
    // A JSON payload of about the configured size.
    const pad = Math.max(0, config.eventPayloadBytes - 28);
    this.eventPayload = Buffer.from(JSON.stringify({ simulated: true, pad: 'x'.repeat(pad) }));
  }

  /** Starts the ramp (devices started at `rampPerSecond`) and the event timer. */
  start(): void {
    const tickMs = 20;
    let budget = 0;
    this.rampTimer = setInterval(() => {
      budget += (this.config.rampPerSecond * tickMs) / 1000;
      while (budget >= 1 && this.clients.length < this.config.count) {
        budget -= 1;
        this.startOne(this.clients.length);
      }
      if (this.clients.length >= this.config.count) {
        clearInterval(this.rampTimer);
        this.rampTimer = undefined;
      }
    }, tickMs);
    if (this.config.eventsPerSecond > 0) {
      this.eventTimer = setInterval(() => this.sendEvents(100), 100);
    }
  }

  snapshot(): FleetSnapshot {
    return {
      ...this.stats,
      failures: { ...this.stats.failures },
      disconnects: { ...this.stats.disconnects },
      rssMiB: Math.round(process.memoryUsage.rss() / 1048576),
      connectLatency: this.latency.toJSON(),
    };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.rampTimer !== undefined) clearInterval(this.rampTimer);
    if (this.eventTimer !== undefined) clearInterval(this.eventTimer);
    await Promise.all(this.clients.map((c) => c.stop()));
  }

  private startOne(i: number): void {
    const cfg = this.config;
    const index = cfg.firstIndex + i;
    const url = cfg.urls[index % cfg.urls.length] as string;
    const client = new DeviceClient({
      url,
      device: {
        hwMac: macFor(cfg.macBase, index),
        hwModel: cfg.model,
        hwManufacturer: cfg.manufacturer,
        hwSerialNumber: `SIM${index}`,
        fwName: cfg.firmware,
        bootTime: Math.floor(Date.now() / 1000),
        hwLastRebootReason: 'simulated',
      },
      ...(cfg.tokenUrl !== undefined ? { token: { url: cfg.tokenUrl, attempts: 1 } } : {}),
      pingTimeoutMs: cfg.pingTimeoutS * 1000,
      backoff: { maxExponent: cfg.backoffMax, unitMs: cfg.backoffUnitMs },
      maxPayload: 256 * 1024,
    });
    // Shared handler functions: `this` is the emitting client, so no closure per device.
    client.on('online', this.onOnline);
    client.on('offline', this.onOffline);
    client.on('connect-failure', this.onFailure);
    client.on('redirect', this.onRedirect);
    client.on('message', this.onMessage);
    this.clients.push(client);
    this.stats.started++;
    this.stats.attempts++;
    client.start();
  }

  private readonly onOnline = (info: OnlineInfo): void => {
    this.stats.connects++;
    this.stats.online++;
    if (this.stats.online > this.stats.peakOnline) this.stats.peakOnline = this.stats.online;
    this.latency.record(info.latencyMs);
  };

  private readonly onOffline = (info: OfflineInfo): void => {
    this.stats.online--;
    if (this.stopping) return;
    this.stats.attempts++;
    const k = info.reconnectReason;
    this.stats.disconnects[k] = (this.stats.disconnects[k] ?? 0) + 1;
  };

  private readonly onFailure = (f: ConnectFailure): void => {
    this.stats.attempts++;
    this.stats.failures[f.reason] = (this.stats.failures[f.reason] ?? 0) + 1;
  };

  private readonly onRedirect = (): void => {
    this.stats.redirects++;
  };

  private readonly onMessage = ((fleet: Fleet) =>
    function (this: DeviceClient, msg: Message): void {
      fleet.handleMessage(this, msg);
    })(this);

  handleMessage(client: DeviceClient, msg: Message): void {
    if (!REPLY_TYPES.has(msg.msgType) || msg.transactionUuid === undefined) return;
    this.stats.requests++;
    if (this.config.reply === 'none') return;
    const ok = client.reply(msg, {
      contentType: msg.contentType ?? 'application/octet-stream',
      payload: msg.payload ?? new Uint8Array(),
      ...(msg.msgType !== MessageType.SimpleRequestResponse ? { status: 200 } : {}),
    });
    if (ok) this.stats.replies++;
  }

  private sendEvents(periodMs: number): void {
    this.eventBudget += (this.config.eventsPerSecond * periodMs) / 1000;
    const n = this.clients.length;
    if (n === 0) return;
    let guard = 0;
    while (this.eventBudget >= 1 && guard < n) {
      const c = this.clients[this.eventCursor % n] as DeviceClient;
      this.eventCursor = (this.eventCursor + 1) % n;
      if (c.cloudStatus !== 'online') {
        guard++;
        continue;
      }
      this.eventBudget -= 1;
      const dest = this.config.eventDest.replaceAll('{id}', c.deviceId);
      if (c.sendEvent(dest, this.eventPayload)) this.stats.events++;
      else this.stats.eventsDropped++;
    }
    // Nobody online: do not build up a burst for later.
    if (guard >= n) this.eventBudget = 0;
  }
}
