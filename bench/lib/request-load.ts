// Request-response load: a round-trip function driven closed-loop (throughput with N in flight)
// or one at a time (latencies). Round trips: WRP SimpleRequestResponse through
// `POST /api/v2/device/send` (Talaria or Scytale), raw bytes through the minimal ws relay, and
// MQTT 5 request/response through a broker.
import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';
import { decodeMsgpack, encodeMsgpack } from '@xmidt/wrp';
import { deviceId } from './fleet-protocol.js';
import { MqttClient, encodePublish } from './mqtt.js';

const BASIC = `Basic ${Buffer.from('bench:bench').toString('base64')}`;
export const PAYLOAD = Buffer.from(
  JSON.stringify({ command: 'GET', names: ['Device.DeviceInfo.'] }),
);

export type RoundTrip = () => Promise<void>;

export interface Requester {
  roundTrip: RoundTrip;
  close(): Promise<void>;
}

const pick = (ids: readonly string[]): string =>
  ids[Math.floor(Math.random() * ids.length)] as string;

/** Device ids 1..n as the fleet names them. */
export const fleetIds = (n: number): string[] =>
  Array.from({ length: n }, (_, i) => deviceId(1 + i));

/** WRP over HTTP: `POST <url><path>` with a msgpack SimpleRequestResponse; checks the echo. */
export function wrpRequester(
  url: string,
  ids: readonly string[],
  connections: number,
  path = '/api/v2/device/send',
): Requester {
  const pool = new Pool(url, { connections, pipelining: 1 });
  return {
    async roundTrip() {
      const uuid = randomUUID();
      const res = await pool.request({
        method: 'POST',
        path,
        headers: {
          'content-type': 'application/msgpack',
          accept: 'application/msgpack',
          authorization: BASIC,
        },
        body: encodeMsgpack({
          msgType: 3,
          source: 'dns:bench.example.com/api',
          dest: `${pick(ids)}/config`,
          transactionUuid: uuid,
          contentType: 'application/json',
          payload: PAYLOAD,
        }),
      });
      const body = Buffer.from(await res.body.arrayBuffer());
      if (res.statusCode !== 200) throw new Error(`send: ${res.statusCode} ${body.toString()}`);
      if (decodeMsgpack(body).transactionUuid !== uuid) {
        throw new Error('send: reply for another transaction');
      }
    },
    close: () => pool.close(),
  };
}

/** The relay baseline: `POST <url>/relay/<device id>` with the raw payload; checks the echo. */
export function relayRequester(
  url: string,
  ids: readonly string[],
  connections: number,
): Requester {
  const pool = new Pool(url, { connections, pipelining: 1 });
  return {
    async roundTrip() {
      const res = await pool.request({
        method: 'POST',
        path: `/relay/${pick(ids)}`,
        headers: { 'content-type': 'application/octet-stream' },
        body: PAYLOAD,
      });
      const body = Buffer.from(await res.body.arrayBuffer());
      if (res.statusCode !== 200 || !body.equals(PAYLOAD)) {
        throw new Error(`relay: ${res.statusCode} ${body.length} bytes`);
      }
    },
    close: () => pool.close(),
  };
}

/**
 * MQTT 5 request/response: publish to `req/<device id>` with a response topic and correlation
 * data; the device's responder publishes the payload back to the response topic.
 */
export async function mqttRequester(
  host: string,
  port: number,
  ids: readonly string[],
): Promise<Requester> {
  const c = await MqttClient.connect({
    host,
    port,
    clientId: `requester-${process.pid}`,
    keepAlive: 45,
    version: 5,
  });
  const responseTopic = `resp/${process.pid}`;
  const waiting = new Map<string, (payload: Buffer) => void>();
  c.onMessage = (_topic, payload, props) => {
    const key = props.correlationData?.toString('latin1');
    if (key === undefined) return;
    const w = waiting.get(key);
    waiting.delete(key);
    w?.(payload);
  };
  await c.subscribe(responseTopic);
  let seq = 0;
  return {
    roundTrip() {
      const key = String(seq++);
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(key);
          reject(new Error('mqtt: no response within 10 s'));
        }, 10_000);
        waiting.set(key, (payload) => {
          clearTimeout(timer);
          if (payload.equals(PAYLOAD)) resolve();
          else reject(new Error('mqtt: response payload differs'));
        });
        c.write(
          encodePublish(5, `req/${pick(ids)}`, PAYLOAD, {
            responseTopic,
            correlationData: Buffer.from(key, 'latin1'),
          }),
        );
      });
    },
    async close() {
      c.close();
      await Promise.resolve();
    },
  };
}

export interface LoadResult {
  rate: number;
  /** Round trips completed, warm-up included. */
  total: number;
  errors: number;
  firstError?: string;
}

/** Round trips per second with `concurrency` in flight, after a warm-up. */
export async function throughput(
  rt: RoundTrip,
  concurrency: number,
  warmupMs: number,
  measureMs: number,
): Promise<LoadResult> {
  let count = 0;
  let total = 0;
  let errors = 0;
  let firstError: string | undefined;
  let counting = false;
  let stop = false;
  const loop = async (): Promise<void> => {
    while (!stop) {
      try {
        await rt();
        total++;
        if (counting) count++;
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
        await sleep(10);
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
  return { rate, total, errors, ...(firstError ? { firstError } : {}) };
}

/** Latencies (ms, sorted) of up to `n` round trips made one at a time, within `maxMs`. */
export async function latencies(
  rt: RoundTrip,
  n: number,
  maxMs: number,
): Promise<{ sorted: number[]; errors: number }> {
  const out: number[] = [];
  let errors = 0;
  const until = performance.now() + maxMs;
  for (let i = 0; i < n && performance.now() < until; i++) {
    const t = performance.now();
    try {
      await rt();
      out.push(performance.now() - t);
    } catch {
      errors++;
    }
  }
  return { sorted: out.sort((a, b) => a - b), errors };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
