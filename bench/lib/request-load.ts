// Request-response load through Talaria's `POST /api/v2/device/send`: msgpack WRP
// SimpleRequestResponse messages to random devices, from an undici Pool in this process.
import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';
import { decodeMap, encode } from './msgpack.js';

const BASIC = `Basic ${Buffer.from('bench:bench').toString('base64')}`;
const PAYLOAD = Buffer.from(JSON.stringify({ command: 'GET', names: ['Device.DeviceInfo.'] }));

export interface RequestTarget {
  url: string;
  deviceIds: readonly string[];
}

export class RequestLoad {
  private readonly pool: Pool;
  errors = 0;

  constructor(
    private readonly target: RequestTarget,
    connections: number,
  ) {
    this.pool = new Pool(target.url, { connections, pipelining: 1 });
  }

  /** One round trip; throws unless the device's echo comes back with the same transaction id. */
  async roundTrip(): Promise<void> {
    const ids = this.target.deviceIds;
    const dest = ids[Math.floor(Math.random() * ids.length)] as string;
    const uuid = randomUUID();
    const res = await this.pool.request({
      method: 'POST',
      path: '/api/v2/device/send',
      headers: { 'content-type': 'application/msgpack', authorization: BASIC },
      body: encode({
        msg_type: 3,
        source: 'dns:bench.example.com/api',
        dest: `${dest}/config`,
        transaction_uuid: uuid,
        content_type: 'application/json',
        payload: PAYLOAD,
      }),
    });
    const body = Buffer.from(await res.body.arrayBuffer());
    if (res.statusCode !== 200) throw new Error(`send: ${res.statusCode} ${body.toString()}`);
    const reply = decodeMap(body);
    if (reply?.['transaction_uuid'] !== uuid)
      throw new Error('send: reply for another transaction');
  }

  /** Round trips per second with `concurrency` requests in flight, after a warm-up. */
  async throughput(concurrency: number, warmupMs: number, measureMs: number): Promise<number> {
    let count = 0;
    let counting = false;
    let stop = false;
    const loop = async (): Promise<void> => {
      while (!stop) {
        try {
          await this.roundTrip();
          if (counting) count++;
        } catch {
          this.errors++;
        }
      }
    };
    const loops = Array.from({ length: concurrency }, loop);
    await sleep(warmupMs);
    counting = true;
    const started = performance.now();
    await sleep(measureMs);
    const rate = count / ((performance.now() - started) / 1000);
    stop = true;
    await Promise.all(loops);
    return rate;
  }

  /** Latencies (ms) of `n` round trips made one at a time. */
  async latencies(n: number): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      try {
        await this.roundTrip();
        out.push(performance.now() - t);
      } catch {
        this.errors++;
      }
    }
    return out;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
