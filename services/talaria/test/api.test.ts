import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMsgpack, encodeMsgpack } from '@xmidt/wrp';
import type { Message } from '@xmidt/wrp';
import { BASIC, connectDevice, metricValue, startTalaria, waitUntil } from './helpers.js';
import type { FakeDevice, Running } from './helpers.js';

let t: Running;
let d: FakeDevice;
const ID = 'mac:112233445566';

before(async () => {
  t = await startTalaria({
    auth: { basic: [Buffer.from('user:pass').toString('base64')] },
    inbound: { timeout: '700ms' },
  });
  d = await connectDevice(t.ws, ID);
  // play Parodus: answer every request with the same transaction uuid, unless told not to
  d.ws.on('message', (data: Buffer) => {
    const m = decodeMsgpack(data);
    if (m.msgType !== 3 || m.transactionUuid?.startsWith('silent')) return;
    d.send({
      msgType: 3,
      source: m.dest ?? '',
      dest: m.source ?? '',
      transactionUuid: m.transactionUuid ?? '',
      contentType: 'application/json',
      payload: Buffer.from('{"statusCode":200}'),
    });
  });
});
after(() => t.stop());

function req(overrides: Partial<Message> = {}): Message {
  return {
    msgType: 3,
    source: 'dns:scytale',
    dest: `${ID}/config`,
    transactionUuid: `tx-${Math.random()}`,
    contentType: 'application/json',
    payload: Buffer.from('{"names":["x"]}'),
    ...overrides,
  };
}

async function send(
  body: Uint8Array | string,
  headers: Record<string, string> = {},
  path = '/api/v2/device/send',
): Promise<Response> {
  return fetch(t.base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/msgpack', authorization: BASIC, ...headers },
    body,
  });
}

test('request-response over msgpack: the device reply comes back with Talaria metadata', async () => {
  const r = await send(encodeMsgpack(req({ transactionUuid: 'abc-1' })));
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/msgpack');
  const reply = decodeMsgpack(new Uint8Array(await r.arrayBuffer()));
  assert.equal(reply.transactionUuid, 'abc-1');
  assert.deepEqual(reply.partnerIds, ['unknown']);
  assert.ok(reply.metadata?.['/xmidt-timestamp']);
  assert.equal(Buffer.from(reply.payload ?? []).toString(), '{"statusCode":200}');
});

test('request-response with a JSON body and JSON Accept; PATCH and v3 work too', async () => {
  const body = JSON.stringify({
    msg_type: 3,
    source: 'dns:scytale',
    dest: ID,
    transaction_uuid: 'json-1',
    payload: Buffer.from('hi').toString('base64'),
  });
  const r = await fetch(`${t.base}/api/v3/device/send`, {
    method: 'PATCH',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      authorization: BASIC,
    },
    body,
  });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /application\/json/);
  const reply = (await r.json()) as Record<string, unknown>;
  assert.equal(reply.transaction_uuid, 'json-1');
  assert.equal(reply.msg_type, 3);
});

test('an event to a device answers 200 with an empty body once written', async () => {
  const before = d.messages.length;
  const r = await send(
    encodeMsgpack({ msgType: 4, source: 'dns:x', dest: ID, payload: Buffer.from('e') }),
  );
  assert.equal(r.status, 200);
  assert.equal((await r.arrayBuffer()).byteLength, 0);
  await d.until(() => d.messages.length > before || undefined);
});

test('no reply in time: 504 with the error header and JSON body', async () => {
  const r = await send(encodeMsgpack(req({ transactionUuid: 'silent-1' })));
  assert.equal(r.status, 504);
  assert.equal(r.headers.get('x-xmidt-message-error'), 'context deadline exceeded');
  assert.deepEqual(await r.json(), {
    code: 504,
    message: 'Could not process device request: context deadline exceeded',
  });
});

test('a device that goes away while a request waits: 504 device closed, not the timeout', async () => {
  const id = 'mac:665544332211';
  const gone = await connectDevice(t.ws, id);
  gone.ws.on('message', () => gone.ws.close());
  const r = await send(encodeMsgpack(req({ dest: `${id}/config` })));
  assert.equal(r.status, 504);
  assert.equal(r.headers.get('x-xmidt-message-error'), 'that device has been closed');
});

test('a duplicate transaction uuid in flight is 400', async () => {
  const first = send(encodeMsgpack(req({ transactionUuid: 'silent-dup' })));
  await waitUntil(() => d.messages.some((m) => m.transactionUuid === 'silent-dup'));
  const second = await send(encodeMsgpack(req({ transactionUuid: 'silent-dup' })));
  assert.equal(second.status, 400);
  assert.equal(
    second.headers.get('x-xmidt-message-error'),
    'that transaction is already registered',
  );
  assert.equal((await first).status, 504);
  assert.ok(
    (await metricValue(t.admin, 'xmidt_talaria_api_request_errors_total', 'code="400"')) >= 1,
  );
});

test('unknown device 404, bad dest 400, missing uuid 400, unsupported content type 400', async () => {
  const unknown = await send(encodeMsgpack(req({ dest: 'mac:ffffffffffff' })));
  assert.equal(unknown.status, 404);
  assert.equal(unknown.headers.get('x-xmidt-message-error'), 'the device does not exist');
  assert.equal((await send(encodeMsgpack(req({ dest: 'nonsense' })))).status, 400);
  const noUuid = encodeMsgpack({ msgType: 3, source: 'dns:x', dest: ID });
  assert.equal((await send(noUuid)).status, 400);
  assert.equal((await send('xx', { 'content-type': 'application/octet-stream' })).status, 400);
  assert.equal((await send(Buffer.from([0xc1, 0x00]))).status, 400);
  assert.equal((await send(encodeMsgpack(req()), { accept: 'text/html' })).status, 400);
});

test('API auth: Basic from config; a missing header is refused', async () => {
  const body = encodeMsgpack(req());
  const none = await fetch(`${t.base}/api/v2/device/send`, { method: 'POST', body });
  assert.equal(none.status, 403);
  const noneV3 = await fetch(`${t.base}/api/v3/device/send`, { method: 'POST', body });
  assert.equal(noneV3.status, 401);
  const wrong = await send(body, {
    authorization: 'Basic ' + Buffer.from('user:nope').toString('base64'),
  });
  assert.equal(wrong.status, 403);
  const bearer = await send(body, { authorization: 'Bearer x.y.z' });
  assert.equal(bearer.status, 403);
  assert.equal((await fetch(`${t.base}/api/v2/devices`)).status, 403);
});

test('GET /devices and /device/{id}/stat use the original JSON keys', async () => {
  const list = await fetch(`${t.base}/api/v2/devices`, { headers: { authorization: BASIC } });
  assert.equal(list.status, 200);
  const body = (await list.json()) as { devices: Array<Record<string, unknown>> };
  const entry = body.devices.find((x) => x.id === ID);
  assert.ok(entry);
  assert.deepEqual(Object.keys(entry.statistics as object), [
    'bytesSent',
    'messagesSent',
    'bytesReceived',
    'messagesReceived',
    'duplications',
    'connectedAt',
    'upTime',
  ]);
  const stat = await fetch(`${t.base}/api/v3/device/mac:11-22-33-44-55-66/stat`, {
    headers: { authorization: BASIC },
  });
  assert.equal(stat.status, 200);
  const s = (await stat.json()) as {
    id: string;
    pending: number;
    statistics: Record<string, unknown>;
  };
  assert.equal(s.id, ID);
  assert.ok((s.statistics.messagesSent as number) > 0);
  assert.match(String(s.statistics.upTime), /^[0-9.]+(ms|s|µs)$|m/);
  const missing = await fetch(`${t.base}/api/v2/device/mac:ffffffffffff/stat`, {
    headers: { authorization: BASIC },
  });
  assert.equal(missing.status, 404);
  const bad = await fetch(`${t.base}/api/v2/device/junk/stat`);
  assert.equal(bad.status, 400);
});

test('send latency histogram and device counters are exported', async () => {
  assert.ok((await metricValue(t.admin, 'xmidt_talaria_send_duration_seconds_count')) > 0);
  assert.equal(await metricValue(t.admin, 'xmidt_talaria_device_count'), 1);
  assert.ok((await metricValue(t.admin, 'xmidt_talaria_device_messages_received_total')) > 0);
  const r = await fetch(`${t.base}/api/v2/devices`, { headers: { authorization: BASIC } });
  assert.equal(r.headers.get('x-talaria-flavor'), 'development');
  assert.match(r.headers.get('x-talaria-start-time') ?? '', /^\d\d \w{3} \d\d \d\d:\d\d UTC$/);
});
