// A lean MQTT client over a raw TCP socket, for the Mosquitto baselines: CONNECT/CONNACK,
// SUBSCRIBE/SUBACK, PUBLISH at QoS 0, PINGREQ/PINGRESP, DISCONNECT; MQTT 3.1.1 (level 4) or
// MQTT 5 (level 5) with the two PUBLISH properties request/response needs (Response Topic,
// Correlation Data). Enough to hold idle clients and move messages, nothing more.
import { connect } from 'node:net';
import type { Socket } from 'node:net';

export type MqttVersion = 4 | 5;

export interface MqttConnectOptions {
  host: string;
  port: number;
  clientId: string;
  /** Keep-alive in seconds; the client sends PINGREQ at this period (0 = none). */
  keepAlive: number;
  version: MqttVersion;
  localAddress?: string;
  /** Give up on CONNACK after this long. */
  timeoutMs?: number;
}

export interface PublishProps {
  responseTopic?: string;
  correlationData?: Buffer;
}

export type MessageHandler = (topic: string, payload: Buffer, props: PublishProps) => void;

const CONNECT = 1;
const CONNACK = 2;
const PUBLISH = 3;
const SUBSCRIBE = 8;
const SUBACK = 9;
const PINGREQ = 12;
const PINGRESP = 13;
const DISCONNECT = 14;

const PROP_RESPONSE_TOPIC = 0x08;
const PROP_CORRELATION_DATA = 0x09;

function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

function utf8(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  const len = Buffer.allocUnsafe(2);
  len.writeUInt16BE(b.length, 0);
  return Buffer.concat([len, b]);
}

function packet(type: number, flags: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(type << 4) | flags]), varint(body.length), body]);
}

const PINGREQ_BYTES = Buffer.from([PINGREQ << 4, 0]);

/** Encodes a QoS 0 PUBLISH. */
export function encodePublish(
  version: MqttVersion,
  topic: string,
  payload: Buffer,
  props: PublishProps = {},
): Buffer {
  const parts = [utf8(topic)];
  if (version === 5) {
    const p: Buffer[] = [];
    if (props.responseTopic !== undefined) {
      p.push(Buffer.from([PROP_RESPONSE_TOPIC]), utf8(props.responseTopic));
    }
    if (props.correlationData !== undefined) {
      p.push(Buffer.from([PROP_CORRELATION_DATA]), utf8(props.correlationData));
    }
    const pb = Buffer.concat(p);
    parts.push(varint(pb.length), pb);
  }
  parts.push(payload);
  return packet(PUBLISH, 0, Buffer.concat(parts));
}

function readVarint(buf: Buffer, at: number): { value: number; next: number } | undefined {
  let value = 0;
  let mult = 1;
  for (let i = 0; i < 4; i++) {
    if (at + i >= buf.length) return undefined;
    const b = buf[at + i] as number;
    value += (b & 0x7f) * mult;
    if ((b & 0x80) === 0) return { value, next: at + i + 1 };
    mult *= 128;
  }
  throw new Error('mqtt: malformed remaining length');
}

function parseProps(buf: Buffer): PublishProps {
  const out: PublishProps = {};
  let i = 0;
  while (i < buf.length) {
    const id = buf[i++] as number;
    if (id === PROP_RESPONSE_TOPIC || id === PROP_CORRELATION_DATA) {
      const n = buf.readUInt16BE(i);
      const v = buf.subarray(i + 2, i + 2 + n);
      i += 2 + n;
      if (id === PROP_RESPONSE_TOPIC) out.responseTopic = v.toString('utf8');
      else out.correlationData = Buffer.from(v);
    } else {
      break; // not needed by the benchmark; the rest is ignored
    }
  }
  return out;
}

export class MqttClient {
  onMessage: MessageHandler | undefined;
  onClose: (() => void) | undefined;
  private buf: Buffer = Buffer.alloc(0);
  private nextId = 1;
  private readonly subacks = new Map<number, () => void>();
  private pinger: NodeJS.Timeout | undefined;
  private connack: ((code: number) => void) | undefined;
  closed = false;

  private constructor(
    readonly socket: Socket,
    readonly version: MqttVersion,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      if (this.pinger) clearInterval(this.pinger);
      this.onClose?.();
    });
  }

  static connect(o: MqttConnectOptions): Promise<MqttClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({
        host: o.host,
        port: o.port,
        ...(o.localAddress ? { localAddress: o.localAddress } : {}),
      });
      const client = new MqttClient(socket, o.version);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('mqtt: no CONNACK'));
      }, o.timeoutMs ?? 60_000);
      const fail = (): void => {
        clearTimeout(timer);
        reject(new Error('mqtt: connection closed before CONNACK'));
      };
      socket.once('close', fail);
      client.connack = (code) => {
        clearTimeout(timer);
        socket.off('close', fail);
        if (code !== 0) {
          socket.destroy();
          reject(new Error(`mqtt: CONNACK code ${code}`));
          return;
        }
        if (o.keepAlive > 0) {
          client.pinger = setInterval(() => socket.write(PINGREQ_BYTES), o.keepAlive * 1000);
        }
        resolve(client);
      };
      socket.once('connect', () => {
        const body = Buffer.concat([
          utf8('MQTT'),
          Buffer.from([o.version, 0x02 /* clean session / clean start */]),
          Buffer.from([o.keepAlive >> 8, o.keepAlive & 0xff]),
          ...(o.version === 5 ? [Buffer.from([0])] : []), // no properties
          utf8(o.clientId),
        ]);
        socket.write(packet(CONNECT, 0, body));
      });
    });
  }

  /** Subscribes at QoS 0 and resolves on SUBACK. */
  subscribe(topic: string): Promise<void> {
    const id = this.nextId;
    this.nextId = (this.nextId % 0xffff) + 1;
    const body = Buffer.concat([
      Buffer.from([id >> 8, id & 0xff]),
      ...(this.version === 5 ? [Buffer.from([0])] : []),
      utf8(topic),
      Buffer.from([0]),
    ]);
    return new Promise((resolve) => {
      this.subacks.set(id, resolve);
      this.socket.write(packet(SUBSCRIBE, 2, body));
    });
  }

  publish(topic: string, payload: Buffer, props?: PublishProps): void {
    this.socket.write(encodePublish(this.version, topic, payload, props));
  }

  /** Writes an encoded packet as is (a PUBLISH built once and sent many times). */
  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  close(): void {
    if (this.closed) return;
    if (this.pinger) clearInterval(this.pinger);
    this.socket.end(Buffer.from([DISCONNECT << 4, 0]));
  }

  destroy(): void {
    if (this.pinger) clearInterval(this.pinger);
    this.socket.destroy();
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    let at = 0;
    for (;;) {
      if (this.buf.length - at < 2) break;
      const len = readVarint(this.buf, at + 1);
      if (!len || len.next + len.value > this.buf.length) break;
      const first = this.buf[at] as number;
      this.onPacket(first >> 4, first & 0x0f, this.buf.subarray(len.next, len.next + len.value));
      at = len.next + len.value;
    }
    this.buf = at === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(at);
  }

  private onPacket(type: number, flags: number, body: Buffer): void {
    switch (type) {
      case CONNACK:
        this.connack?.(body[1] ?? 255);
        this.connack = undefined;
        break;
      case SUBACK: {
        const id = body.readUInt16BE(0);
        this.subacks.get(id)?.();
        this.subacks.delete(id);
        break;
      }
      case PUBLISH: {
        const tlen = body.readUInt16BE(0);
        const topic = body.toString('utf8', 2, 2 + tlen);
        let i = 2 + tlen;
        if ((flags & 0x06) !== 0) i += 2; // packet id at QoS > 0
        let props: PublishProps = {};
        if (this.version === 5) {
          const pl = readVarint(body, i);
          if (!pl) return;
          props = parseProps(body.subarray(pl.next, pl.next + pl.value));
          i = pl.next + pl.value;
        }
        this.onMessage?.(topic, body.subarray(i), props);
        break;
      }
      case PINGRESP:
        break;
      default:
        break;
    }
  }
}
