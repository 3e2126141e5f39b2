import { randomBytes, randomUUID } from 'node:crypto';
import {
  decodeJson,
  decodeMsgpack,
  encodeMsgpack,
  MessageType,
  MSGPACK_CONTENT_TYPE,
  type Message,
} from '@xmidt/wrp';
import { macFor } from './fleet.js';
import { Histogram } from './histogram.js';

export interface ProbeConfig {
  /** Where requests are POSTed: Scytale `/api/v3/device` or Talaria `/api/v2/device/send`. */
  url: string;
  ratePerSecond: number;
  authorization?: string;
  devices: number;
  macBase: number;
  payloadBytes: number;
  timeoutMs: number;
  /** Requests in flight at most; beyond it a tick's requests are skipped. */
  maxInFlight: number;
}

export interface ProbeStats {
  sent: number;
  ok: number;
  failures: Record<string, number>;
  skipped: number;
  latency: Histogram;
}

/**
 * Measures request round trips through the real API: sends a WRP request to a random simulated
 * device and checks that the echoed payload comes back.
 */
export class Prober {
  readonly stats: ProbeStats = {
    sent: 0,
    ok: 0,
    failures: {},
    skipped: 0,
    latency: new Histogram(),
  };
  private timer: NodeJS.Timeout | undefined;
  private inFlight = new Set<Promise<void>>();
  private budget = 0;

  constructor(private readonly config: ProbeConfig) {}

  start(): void {
    const tickMs = 50;
    this.timer = setInterval(() => {
      this.budget += (this.config.ratePerSecond * tickMs) / 1000;
      while (this.budget >= 1) {
        this.budget -= 1;
        if (this.inFlight.size >= this.config.maxInFlight) {
          this.stats.skipped++;
          continue;
        }
        const p = this.one().finally(() => this.inFlight.delete(p));
        this.inFlight.add(p);
      }
    }, tickMs);
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight]);
  }

  private fail(reason: string): void {
    this.stats.failures[reason] = (this.stats.failures[reason] ?? 0) + 1;
  }

  private async one(): Promise<void> {
    const index = Math.floor(Math.random() * this.config.devices);
    const payload = randomBytes(this.config.payloadBytes);
    const request: Message = {
      msgType: MessageType.SimpleRequestResponse,
      source: 'dns:xmidt-simulate',
      dest: `mac:${macFor(this.config.macBase, index)}/simulator`,
      transactionUuid: randomUUID(),
      contentType: 'application/octet-stream',
      payload,
    };
    const headers: Record<string, string> = {
      'Content-Type': MSGPACK_CONTENT_TYPE,
      Accept: MSGPACK_CONTENT_TYPE,
    };
    if (this.config.authorization !== undefined)
      headers['Authorization'] = this.config.authorization;
    this.stats.sent++;
    const started = performance.now();
    try {
      const res = await fetch(this.config.url, {
        method: 'POST',
        headers,
        body: encodeMsgpack(request),
        signal: AbortSignal.timeout(this.config.timeoutMs),
      });
      const body = new Uint8Array(await res.arrayBuffer());
      if (res.status !== 200) {
        this.fail(`http_${res.status}`);
        return;
      }
      const type = res.headers.get('content-type') ?? '';
      const reply = type.includes('json') ? decodeJson(body) : decodeMsgpack(body);
      if (!Buffer.from(reply.payload ?? []).equals(payload)) {
        this.fail('payload_mismatch');
        return;
      }
      this.stats.ok++;
      this.stats.latency.record(performance.now() - started);
    } catch (err) {
      const name = (err as { name?: string }).name;
      this.fail(
        name === 'TimeoutError' ? 'timeout' : name === 'WrpError' ? 'bad_reply' : 'network',
      );
    }
  }
}
