// A load-generator process (forked by DeviceFleet): opens its share of device websockets at once,
// with the headers Parodus sends, answers WRP request-responses by echoing them, and lets `ws`
// answer the server's pings. Controlled over IPC; exits when its parent goes away.
import { WebSocket } from 'ws';
import type { RawData } from 'ws';
import { decodeMap, encode } from './msgpack.js';
import type { WireMap } from './msgpack.js';
import { deviceId } from './fleet-protocol.js';
import type { WorkerReply, WorkerRequest } from './fleet-protocol.js';

const TRANSACTION_TYPES = new Set([3, 5, 6, 7, 8]);
const USER_AGENT = 'PARODUS-2.0-v1.1.5-8-ge381511 (fw-1.0; TestModel/TestMfr;)';

let sockets: WebSocket[] = [];
let open = 0;
let failed = 0;
let retries = 0;
let dropped = 0;
let echoed = 0;
let closing = false;
/** Sockets this worker dropped on purpose (their close is not counted as dropped). */
const terminated = new WeakSet<WebSocket>();

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
function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  if (!isBinary || !Buffer.isBuffer(data)) return;
  const msg = decodeMap(data);
  if (!msg) return;
  const type = msg['msg_type'];
  const uuid = msg['transaction_uuid'];
  if (typeof type !== 'number' || !TRANSACTION_TYPES.has(type) || typeof uuid !== 'string') return;
  const reply: WireMap = {
    msg_type: type,
    source: msg['dest'] ?? '',
    dest: msg['source'] ?? '',
    transaction_uuid: uuid,
    content_type: msg['content_type'] ?? 'application/octet-stream',
    status: 200,
    payload: msg['payload'] ?? new Uint8Array(0),
  };
  this.send(encode(reply), { binary: true });
  echoed++;
}

function connectOne(
  url: string,
  n: number,
  maxRetries: number,
  done: (openedAt?: number) => void,
): void {
  const id = deviceId(n);
  let attempt = 0;
  const dial = (): void => {
    let opened = false;
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      handshakeTimeout: 60_000,
      origin: 'http://127.0.0.1',
      headers: {
        'X-WebPA-Device-Name': id,
        'X-WebPA-Device-Protocols': 'wrp-0.11,getset-0.1',
        'User-Agent': USER_AGENT,
        'X-WebPA-Convey': convey(`SN${n}`),
      },
    });
    ws.on('error', () => undefined);
    ws.once('open', () => {
      opened = true;
      open++;
      sockets.push(ws);
      ws.on('message', onMessage);
      done(performance.now());
    });
    ws.once('close', () => {
      if (opened) {
        open--;
        if (!terminated.has(ws)) dropped++;
        return;
      }
      if (closing) return done();
      if (attempt++ < maxRetries) {
        retries++;
        setTimeout(dial, 100 + Math.floor(Math.random() * 400));
      } else {
        failed++;
        done();
      }
    });
  };
  dial();
}

function connectAll(req: Extract<WorkerRequest, { type: 'connect' }>): void {
  const started = performance.now();
  let pending = req.count;
  const times: number[] = [];
  if (pending === 0) {
    send({ type: 'connected', open, failed, retries, ms: 0, times });
    return;
  }
  const done = (openedAt?: number): void => {
    if (openedAt !== undefined) times.push(openedAt - started);
    if (--pending === 0) {
      send({ type: 'connected', open, failed, retries, ms: performance.now() - started, times });
    }
  };
  for (let i = 0; i < req.count; i++) connectOne(req.url, req.firstId + i, req.maxRetries, done);
}

function dropAll(): void {
  for (const ws of sockets) {
    terminated.add(ws);
    ws.terminate();
  }
  sockets = [];
}

process.on('message', (raw: unknown) => {
  const req = raw as WorkerRequest;
  switch (req.type) {
    case 'connect':
      connectAll(req);
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
