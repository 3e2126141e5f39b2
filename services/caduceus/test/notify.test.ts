import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { encodeMsgpack } from '@xmidt/wrp';
import { createCaduceus, type Caduceus } from '../src/service.js';
import { http, notify, testConfig } from './helpers.js';
import { waitFor } from '@xmidt/testkit';

const AUTH = { authorization: `Basic ${Buffer.from('user:pass').toString('base64')}` };
let c: Caduceus;
let base: string;
let port: number;

before(async () => {
  c = createCaduceus(
    testConfig({
      auth: { basic: ['user:pass'] },
      intake: { maxOutstanding: 1, maxBodyBytes: 4096 },
    }),
  );
  const ports = await c.start();
  port = ports.primaryPort;
  base = `http://127.0.0.1:${port}`;
});
after(() => c.stop());

const event = encodeMsgpack({
  msgType: 4,
  source: 'mac:112233445566',
  dest: 'event:device-status/mac:112233445566/online',
  partnerIds: ['comcast'],
  payload: new Uint8Array([1, 2, 3]),
});

test('accepts a SimpleEvent: 202 and the original text and headers', async () => {
  const r = await notify(base, event, AUTH);
  assert.equal(r.status, 202);
  assert.equal(r.text, 'Request placed on to queue.\n');
  assert.equal(r.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.ok(r.headers.has('x-caduceus-start-time'));
  const v3 = await http(`${base}/api/v3/notify`, {
    method: 'POST',
    headers: { 'content-type': 'application/msgpack', ...AUTH },
    body: event,
  });
  assert.equal(v3.status, 202);
});

test('auth: v4 answers 401 with WWW-Authenticate: Bearer; v3 answers 403 / 400', async () => {
  const none = await notify(base, event);
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Bearer');
  assert.equal(none.text, '');
  const wrong = await notify(base, event, {
    authorization: `Basic ${Buffer.from('user:nope').toString('base64')}`,
  });
  assert.equal(wrong.status, 401);
  const v3 = (headers: Record<string, string>) =>
    http(`${base}/api/v3/notify`, {
      method: 'POST',
      headers: { 'content-type': 'application/msgpack', ...headers },
      body: event,
    });
  assert.equal((await v3({})).status, 403);
  assert.equal((await v3({ authorization: 'Basic' })).status, 400);
});

test('415 unless exactly one Content-Type: application/msgpack', async () => {
  const text = 'Invalid Content-Type header(s). Expected application/msgpack. \n';
  for (const ct of [
    'application/json',
    'application/msgpack; charset=utf-8',
    'Application/Msgpack',
  ]) {
    const r = await notify(base, event, { ...AUTH, 'content-type': ct });
    assert.equal(r.status, 415, ct);
    assert.equal(r.text, text);
  }
  // two Content-Type lines: raw request (fetch would merge them)
  const raw = await rawRequest(
    `POST /api/v4/notify HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH.authorization}\r\n` +
      `Content-Type: application/msgpack\r\nContent-Type: application/msgpack\r\n` +
      `Content-Length: ${event.length}\r\nConnection: close\r\n\r\n`,
    event,
  );
  assert.match(raw, /^HTTP\/1.1 415 /);
});

test('body checks: empty, bad msgpack, wrong message type, too large', async () => {
  const empty = await notify(base, new Uint8Array(0), AUTH);
  assert.equal(empty.status, 400);
  assert.equal(empty.text, 'Empty payload.\n');
  for (const junk of [
    Buffer.from([0xc1]),
    Buffer.from('not msgpack at all'),
    Buffer.from([0x81, 0xa8]),
  ]) {
    const r = await notify(base, junk, AUTH);
    assert.equal(r.status, 400);
    assert.equal(r.text, 'Invalid payload format.\n');
  }
  const req = encodeMsgpack({
    msgType: 3,
    source: 'dns:x',
    dest: 'mac:112233445566',
    transactionUuid: 't',
  });
  const wrongType = await notify(base, req, AUTH);
  assert.equal(wrongType.status, 400);
  assert.equal(wrongType.text, 'Invalid MessageType.\n');
  const big = await notify(base, Buffer.alloc(10_000, 0x90), AUTH);
  assert.equal(big.status, 413);
  const get = await http(`${base}/api/v4/notify`, { headers: AUTH });
  assert.equal(get.status, 405);
  const metrics = await c.runtime.registry.metrics();
  assert.match(metrics, /xmidt_caduceus_empty_request_body_count 1/);
  assert.match(metrics, /xmidt_caduceus_drops_due_to_invalid_payload [4-9]/);
});

test('checks run in the original order: auth, Content-Type, body, decode, type, UTF-8', async () => {
  // auth before Content-Type
  const noAuth = await notify(base, new Uint8Array(0), { 'content-type': 'text/plain' });
  assert.equal(noAuth.status, 401);
  // Content-Type before the body
  const badType = await notify(base, new Uint8Array(0), { ...AUTH, 'content-type': 'text/plain' });
  assert.equal(badType.status, 415);
  // strings that are not UTF-8: {msg_type: 4, source: <ff fe>}
  const badUtf8 = Buffer.concat([
    Buffer.from([0x82, 0xa8]),
    Buffer.from('msg_type'),
    Buffer.from([0x04, 0xa6]),
    Buffer.from('source'),
    Buffer.from([0xa2, 0xff, 0xfe]),
  ]);
  const r = await notify(base, badUtf8, AUTH);
  assert.equal(r.status, 400);
  assert.equal(r.text, 'Strings must be UTF-8.\n');
  // U+FFFD written as proper UTF-8 is valid text (as Go's utf8.ValidString says)
  const replacement = encodeMsgpack({
    msgType: 4,
    source: 'dns:\uFFFD',
    dest: 'event:x',
    partnerIds: ['comcast'],
  });
  assert.equal((await notify(base, replacement, AUTH)).status, 202);
});

test('the intake is bounded: 503 "Incoming queue is full." while all slots are taken', async () => {
  // hold the only slot: headers sent, body not finished
  const sock = connect(port, '127.0.0.1');
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.write(
    `POST /api/v4/notify HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH.authorization}\r\n` +
      `Content-Type: application/msgpack\r\nContent-Length: ${event.length}\r\n\r\n`,
  );
  sock.write(event.subarray(0, 3));
  await waitFor(async () => (await c.metrics.incomingQueueDepth.get()).values[0]?.value === 1, {
    what: 'slot held',
  });
  const full = await notify(base, event, AUTH);
  assert.equal(full.status, 503);
  assert.equal(full.text, 'Incoming queue is full.\n');
  // the gate comes before the body is looked at, after auth and Content-Type
  assert.equal((await notify(base, new Uint8Array(0), AUTH)).status, 503);
  assert.equal((await notify(base, event)).status, 401);
  assert.equal((await notify(base, event, { ...AUTH, 'content-type': 'text/plain' })).status, 415);
  const answer = new Promise<string>((resolve) => {
    let data = '';
    sock.on('data', (d: Buffer) => {
      data += d.toString();
      if (data.includes('\r\n\r\n')) resolve(data);
    });
  });
  sock.write(event.subarray(3));
  assert.match(await answer, /^HTTP\/1.1 202 /);
  sock.destroy();
  await waitFor(async () => (await c.metrics.incomingQueueDepth.get()).values[0]?.value === 0, {
    what: 'slot free',
  });
  assert.equal((await notify(base, event, AUTH)).status, 202);
});

function rawRequest(head: string, body: Uint8Array): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => {
      sock.write(head);
      sock.write(body);
    });
    let data = '';
    sock.on('data', (d: Buffer) => (data += d.toString()));
    sock.on('end', () => resolve(data));
    sock.on('error', reject);
  });
}
