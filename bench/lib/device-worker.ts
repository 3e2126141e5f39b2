// A load-generator process (forked by DeviceFleet): opens its share of device connections at
// once and keeps them. Websocket devices carry the headers Parodus sends (and a Themis JWT when
// asked), follow Petasos's 307 when asked, answer WRP request-responses by echoing them (or echo
// raw bytes for the relay baseline) and let `ws` answer the server's pings. MQTT devices connect
// to a broker with a keep-alive and, as responders, answer MQTT 5 requests. Controlled over
// IPC; exits when its parent goes away.
import { Pool } from 'undici';
import { WebSocket } from 'ws';
import type { RawData } from 'ws';
import { decodeMsgpack, encodeMsgpack } from '@xmidt/wrp';
import type { Message } from '@xmidt/wrp';
import { deviceId } from './fleet-protocol.js';
import type { FleetTarget, WorkerReply, WorkerRequest } from './fleet-protocol.js';
import { MqttClient } from './mqtt.js';

const TRANSACTION_TYPES = new Set([3, 5, 6, 7, 8]);
const USER_AGENT = 'PARODUS-2.0-v1.1.5-8-ge381511 (fw-1.0; TestModel/TestMfr;)';

interface Conn {
  close(): void;
}

let conns: Conn[] = [];
let open = 0;
let failed = 0;
let retries = 0;
let dropped = 0;
let echoed = 0;
let closing = false;
let firstError: string | undefined;
/** Failed attempts by where and why (`petasos: ECONNRESET`, `talaria: HTTP 503`, …). */
let reasons: Record<string, number> = {};
/** Total time devices spent waiting in the retry backoff. */
let backoffMs = 0;
/** Connections this worker dropped on purpose (their close is not counted as dropped). */
const terminated = new WeakSet<Conn>();
const tokens = new Map<number, string>();

function send(reply: WorkerReply): void {
  process.send?.(reply);
}

function convey(serial: string): string {
  const json = JSON.stringify({
    'hw-model': 'TestModel',
    'hw-serial-number': serial,
    'hw-manufacturer': 'TestMfr',
    'fw-name': 'fw-1.0',
    'boot-time': 1700000000,
    'webpa-protocol': 'PARODUS-2.0-v1.1.5-8-ge381511',
    'hw-last-reboot-reason': 'unknown',
    'webpa-last-reconnect-reason': 'webpa_process_starts',
  });
  return Buffer.from(json).toString('base64');
}

/** Echoes a transactional WRP message back with source and dest swapped. */
function onWrp(this: WebSocket, data: RawData, isBinary: boolean): void {
  if (!isBinary || !Buffer.isBuffer(data)) return;
  let msg: Message;
  try {
    msg = decodeMsgpack(data);
  } catch {
    return;
  }
  if (!TRANSACTION_TYPES.has(msg.msgType) || msg.transactionUuid === undefined) return;
  const reply: Message = {
    msgType: msg.msgType,
    source: msg.dest ?? '',
    dest: msg.source ?? '',
    transactionUuid: msg.transactionUuid,
    contentType: msg.contentType ?? 'application/octet-stream',
    status: 200,
    payload: msg.payload ?? new Uint8Array(0),
  };
  this.send(encodeMsgpack(reply), { binary: true });
  echoed++;
}

function onRaw(this: WebSocket, data: RawData, isBinary: boolean): void {
  this.send(data as Buffer, { binary: isBinary });
  echoed++;
}

function localAddress(target: FleetTarget, n: number): string | undefined {
  const list = target.localAddresses;
  return list && list.length > 0 ? list[n % list.length] : undefined;
}

function dialWs(
  target: Extract<FleetTarget, { kind: 'ws' }>,
  n: number,
  onOpen: (c: Conn) => void,
  onFail: (err: string, reason: string) => void,
): void {
  const id = deviceId(n);
  const token = target.bearer ? tokens.get(n) : undefined;
  const local = localAddress(target, n);
  let opened = false;
  const ws = new WebSocket(target.url, {
    perMessageDeflate: false,
    handshakeTimeout: 60_000,
    followRedirects: target.followRedirects ?? false,
    maxRedirects: 3,
    origin: 'http://127.0.0.1',
    ...(local ? { localAddress: local } : {}),
    headers: {
      'X-WebPA-Device-Name': id,
      'X-WebPA-Device-Protocols': 'wrp-0.11,getset-0.1',
      'User-Agent': USER_AGENT,
      'X-WebPA-Convey': convey(`SN${n}`),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
  });
  const conn: Conn = { close: () => ws.terminate() };
  // With a 'redirect' listener (below), ws keeps the Authorization header across the 307 to
  // another host:port (Parodus sends its token to the Talaria it is redirected to).
  let lastError: string | undefined;
  let lastReason: string | undefined;
  // Which server a failure came from: the redirector before its 307, the service after it.
  let stage = target.followRedirects ? 'petasos' : 'server';
  if (target.followRedirects) ws.on('redirect', () => (stage = 'talaria'));
  ws.on('error', (err: NodeJS.ErrnoException) => {
    lastError ??= err.message;
    lastReason ??= `${stage}: ${err.code ?? (/timed out/.test(err.message) ? 'timeout' : err.message)}`;
  });
  ws.on('unexpected-response', (_req, res) => {
    const chunks: Buffer[] = [];
    lastReason ??= `${stage}: HTTP ${res.statusCode}`;
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => {
      lastError ??= `${res.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 200)}`;
      ws.terminate();
    });
  });
  ws.once('open', () => {
    opened = true;
    ws.on('message', target.echo === 'raw' ? onRaw : onWrp);
    onOpen(conn);
  });
  ws.once('close', () => {
    if (opened) {
      open--;
      if (!terminated.has(conn)) dropped++;
    } else {
      onFail(lastError ?? 'closed', lastReason ?? `${stage}: closed`);
    }
  });
}

function dialMqtt(
  target: Extract<FleetTarget, { kind: 'mqtt' }>,
  n: number,
  onOpen: (c: Conn) => void,
  onFail: (err: string, reason: string) => void,
): void {
  const local = localAddress(target, n);
  const id = deviceId(n);
  MqttClient.connect({
    host: target.host,
    port: target.port,
    clientId: id.replace(':', '-'),
    keepAlive: target.keepAlive,
    version: target.version,
    ...(local ? { localAddress: local } : {}),
  }).then(
    async (c) => {
      const conn: Conn = { close: () => c.destroy() };
      c.onClose = () => {
        open--;
        if (!terminated.has(conn)) dropped++;
      };
      if (target.responder) {
        c.onMessage = (_topic, payload, props) => {
          if (props.responseTopic === undefined) return;
          c.publish(props.responseTopic, payload, {
            ...(props.correlationData ? { correlationData: props.correlationData } : {}),
          });
          echoed++;
        };
        await c.subscribe(`req/${id}`);
      }
      onOpen(conn);
    },
    (err: NodeJS.ErrnoException) => onFail(err.message, `broker: ${err.code ?? err.message}`),
  );
}

/**
 * Wait before a device dials again after a failed connect: 100-500 ms, well below Parodus'
 * first reconnect wait (3 s, then a random wait up to 7, 15, … s; see @xmidt/device-client's
 * Backoff), so a failure costs the storm as little as it can while still spreading the retries.
 * The same for every server measured.
 */
function retryDelayMs(): number {
  return 100 + Math.floor(Math.random() * 400);
}

function connectOne(
  target: FleetTarget,
  n: number,
  maxRetries: number,
  done: (openedAt?: number) => void,
): void {
  let attempt = 0;
  const dial = (): void => {
    const onOpen = (c: Conn): void => {
      open++;
      conns.push(c);
      done(performance.now());
    };
    const onFail = (err: string, reason: string): void => {
      if (closing) return done();
      reasons[reason] = (reasons[reason] ?? 0) + 1;
      if (attempt++ < maxRetries) {
        retries++;
        const wait = retryDelayMs();
        backoffMs += wait;
        setTimeout(dial, wait);
      } else {
        failed++;
        firstError ??= err;
        done();
      }
    };
    if (target.kind === 'ws') dialWs(target, n, onOpen, onFail);
    else dialMqtt(target, n, onOpen, onFail);
  };
  dial();
}

function connectAll(req: Extract<WorkerRequest, { type: 'connect' }>): void {
  const started = performance.now();
  let pending = req.count;
  const times: number[] = [];
  const failed0 = failed;
  const retries0 = retries;
  firstError = undefined;
  reasons = {};
  backoffMs = 0;
  const reply = (): void =>
    send({
      type: 'connected',
      open,
      failed: failed - failed0,
      retries: retries - retries0,
      ms: performance.now() - started,
      times,
      reasons,
      backoffMs,
      ...(firstError ? { error: firstError } : {}),
    });
  if (pending === 0) return reply();
  const done = (openedAt?: number): void => {
    if (openedAt !== undefined) times.push(openedAt - started);
    if (--pending === 0) reply();
  };
  for (let i = 0; i < req.count; i++) {
    connectOne(req.target, req.firstId + i, req.maxRetries, done);
  }
}

async function fetchTokens(req: Extract<WorkerRequest, { type: 'tokens' }>): Promise<void> {
  const started = performance.now();
  const pool = new Pool(req.url, { connections: req.concurrency });
  let next = 0;
  let bad = 0;
  const one = async (): Promise<void> => {
    while (next < req.count) {
      const n = req.firstId + next++;
      try {
        const res = await pool.request({
          method: 'GET',
          path: '/issue',
          headers: { 'x-midt-mac-address': deviceId(n), 'x-midt-partner-id': 'comcast' },
        });
        const text = await res.body.text();
        if (res.statusCode === 200) tokens.set(n, text.trim());
        else bad++;
      } catch {
        bad++;
      }
    }
  };
  await Promise.all(Array.from({ length: req.concurrency }, one));
  await pool.close();
  send({ type: 'tokens', count: req.count - bad, failed: bad, ms: performance.now() - started });
}

function dropAll(): void {
  for (const c of conns) {
    terminated.add(c);
    c.close();
  }
  conns = [];
}

process.on('message', (raw: unknown) => {
  const req = raw as WorkerRequest;
  switch (req.type) {
    case 'connect':
      connectAll(req);
      break;
    case 'tokens':
      void fetchTokens(req);
      break;
    case 'status':
      send({ type: 'status', open, failed, dropped, echoed });
      break;
    case 'disconnect':
      dropAll();
      send({ type: 'disconnected' });
      break;
    case 'close':
      closing = true;
      dropAll();
      send({ type: 'closed' });
      setTimeout(() => process.exit(0), 50);
      break;
  }
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
