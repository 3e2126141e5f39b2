import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeMsgpack, type Message } from '@xmidt/wrp';
import { waitFor } from '@xmidt/testkit';

/** One POST a webhook receiver got. */
export interface Delivery {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  receivedAt: number;
}

/** `sha1=<hex HMAC-SHA1(secret, body)>`, the `X-Webpa-Signature` value. */
export function webpaSignature(secret: string, body: Uint8Array): string {
  return `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`;
}

/** The delivery body decoded as WRP msgpack (webhooks registered with a msgpack content type). */
export function deliveredMessage(delivery: Delivery): Message {
  return decodeMsgpack(delivery.body);
}

/**
 * A webhook receiver on a loopback port: answers every POST with `status` (200 by default)
 * and records it.
 */
export class WebhookReceiver {
  readonly deliveries: Delivery[] = [];
  status = 200;
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<WebhookReceiver> {
    const box: { self?: WebhookReceiver } = {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= 4 * 1024 * 1024) chunks.push(chunk);
      });
      req.on('end', () => {
        box.self?.deliveries.push({
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks),
          receivedAt: Date.now(),
        });
        res.statusCode = box.self?.status ?? 200;
        res.end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    box.self = new WebhookReceiver(server, `http://127.0.0.1:${port}`);
    return box.self;
  }

  /** Waits for a delivery matching `match` (already received ones count). */
  waitFor(match: (d: Delivery) => boolean, what: string, timeoutMs = 20_000): Promise<Delivery> {
    return waitFor(() => this.deliveries.find(match), { timeoutMs, intervalMs: 50, what });
  }

  /** Deliveries whose WRP `dest` (event locator) matches. */
  withDest(pattern: RegExp): Delivery[] {
    return this.deliveries.filter((d) => {
      try {
        return pattern.test(deliveredMessage(d).dest ?? '');
      } catch {
        return false;
      }
    });
  }

  /** Waits for a delivered WRP whose `dest` matches `pattern`. */
  async waitForEvent(pattern: RegExp, timeoutMs = 20_000): Promise<Delivery> {
    try {
      return await waitFor(() => this.withDest(pattern)[0], { timeoutMs, intervalMs: 50 });
    } catch {
      throw new Error(
        `no webhook delivery of ${String(pattern)} within ${timeoutMs} ms; got ${this.summary()}`,
      );
    }
  }

  /** The event locators received so far, for failure messages. */
  summary(): string {
    return JSON.stringify(
      this.deliveries.map((d) => {
        try {
          return deliveredMessage(d).dest;
        } catch {
          return `${d.path} (${d.body.length} bytes, not WRP)`;
        }
      }),
    );
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
