import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  EventReceiver,
  PARODUS_CONVEY,
  connectDevice,
  metricValue,
  startTalaria,
} from './helpers.js';
import type { Running } from './helpers.js';

let t: Running;
let caduceus: EventReceiver;
let statusRx: EventReceiver;

before(async () => {
  caduceus = new EventReceiver();
  statusRx = new EventReceiver();
  await caduceus.start();
  await statusRx.start();
  t = await startTalaria({
    device: {
      outbound: {
        eventEndpoints: { default: caduceus.url, 'device-status': [statusRx.url] },
        retries: 3,
        retryBackoff: '20ms',
        maxRetryBackoff: '50ms',
        source: 'dns:talaria.test',
        authKey: 'dXNlcjpwYXNz',
        workerPoolSize: 4,
      },
    },
  });
});
after(async () => {
  await t.stop();
  await caduceus.stop();
  await statusRx.stop();
});

const ID = 'mac:112233445566';

test('online and offline events carry the original fields', async () => {
  const d = await connectDevice(t.ws, 'mac:11:22:33:44:55:66', {
    headers: { 'X-Intermediate-Context': 'ctx-1' },
    convey: PARODUS_CONVEY,
  });
  const on = await statusRx.waitFor((m) => m.dest === `event:device-status/${ID}/online`);
  assert.equal(on.msgType, 4);
  assert.equal(on.source, 'dns:talaria.test');
  assert.equal(on.contentType, 'application/json');
  assert.deepEqual(on.partnerIds, ['unknown']);
  assert.equal(on.sessionId?.length, 27);
  const md = on.metadata ?? {};
  assert.equal(md['/hw-model'], 'TestModel');
  assert.equal(md['/boot-time'], '1700000000');
  assert.equal(md['/protocol'], 'PARODUS-2.0-v1.1.5');
  assert.equal(md['/last-reconnect-reason'], 'webpa_process_starts');
  assert.equal(md['/compliance'], 'convey-missing-fields');
  assert.equal(md['/trust'], '0');
  assert.equal(md['/hw-deviceid'], ID);
  assert.equal(md['/intermediate-context'], 'ctx-1');
  assert.equal(md['/account-id'], '');
  assert.ok(md['/xmidt-timestamp']);
  const onPayload = JSON.parse(Buffer.from(on.payload ?? []).toString());
  assert.deepEqual(Object.keys(onPayload), ['id', 'ts']);
  assert.equal(onPayload.id, ID);
  const req = statusRx.requests[0];
  assert.equal(req?.headers['content-type'], 'application/msgpack');
  assert.equal(req?.headers.authorization, 'Basic dXNlcjpwYXNz');

  await d.close();
  const off = await statusRx.waitFor((m) => m.dest === `event:device-status/${ID}/offline`);
  assert.equal(off.sessionId, on.sessionId);
  const p = JSON.parse(Buffer.from(off.payload ?? []).toString());
  assert.deepEqual(Object.keys(p), [
    'id',
    'ts',
    'bytes-sent',
    'messages-sent',
    'bytes-received',
    'messages-received',
    'connected-at',
    'up-time',
    'reason-for-closure',
  ]);
  assert.equal(p['reason-for-closure'], '*no error*:readerror');
  assert.equal(caduceus.events.length, 0, 'status events use the device-status endpoint');
});

test('device events are forwarded with partner ids, session id and timestamp; QOS ack', async () => {
  const d = await connectDevice(t.ws, ID);
  d.send({
    msgType: 4,
    source: `${ID}/config`,
    dest: 'event:node-change/x',
    payload: Buffer.from('{"a":1}'),
    partnerIds: ['forged'],
    qos: 50,
    transactionUuid: 'ev-1',
  });
  const ev = await caduceus.waitFor((m) => m.dest === 'event:node-change/x');
  assert.deepEqual(ev.partnerIds, ['unknown']);
  assert.equal(ev.sessionId, t.talaria.devices.get(ID)?.info.sessionId);
  assert.equal(ev.contentType, 'application/octet-stream');
  assert.ok(ev.metadata?.['/xmidt-timestamp']);
  const ack = await d.until(() => d.messages.find((m) => m.transactionUuid === 'ev-1'));
  assert.equal(ack.msgType, 4);
  assert.equal(ack.dest, `${ID}/config`);
  assert.equal(ack.qos, 50);
  assert.equal(ack.payload, undefined);
  assert.equal(
    await metricValue(t.admin, 'xmidt_talaria_outbound_ack_success', 'qos_level="High"'),
    1,
  );
  await d.close();
});

test('retries after 503 and 429, then delivers', async () => {
  const d = await connectDevice(t.ws, 'mac:000000000777');
  caduceus.statuses = [503, 429];
  const before = caduceus.requests.length;
  d.send({
    msgType: 4,
    source: 'mac:000000000777',
    dest: 'event:retry-me',
    payload: Buffer.from('x'),
  });
  await caduceus.waitFor((m) => m.dest === 'event:retry-me');
  assert.equal(caduceus.requests.length - before, 3);
  assert.ok((await metricValue(t.admin, 'xmidt_talaria_outbound_retries')) >= 2);
  await d.close();
});

test('undeliverable events are dropped and counted', async () => {
  const d = await connectDevice(t.ws, 'mac:000000000778');
  caduceus.statuses = [400];
  d.send({
    msgType: 4,
    source: 'mac:000000000778',
    dest: 'event:bad-request',
    payload: Buffer.from('x'),
  });
  d.send({
    msgType: 4,
    source: 'mac:000000000778',
    dest: 'mac:000000000001/x',
    payload: Buffer.from('x'),
  });
  d.send({
    msgType: 4,
    source: 'mac:000000000778',
    dest: 'dns:http://127.0.0.1:1/x',
    payload: Buffer.from('x'),
  });
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const non2xx = await metricValue(
      t.admin,
      'xmidt_talaria_outbound_dropped_messages',
      'reason="non202"',
    );
    const unroutable = await metricValue(
      t.admin,
      'xmidt_talaria_outbound_dropped_messages',
      'reason="unroutable_destination"',
    );
    const scheme = await metricValue(
      t.admin,
      'xmidt_talaria_outbound_dropped_messages',
      'reason="url_scheme_not_allowed"',
    );
    if (non2xx >= 1 && unroutable >= 1 && scheme >= 1) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(Date.now() < deadline, 'drops were counted');
  await d.close();
});

test('transaction replies nobody waits for are not forwarded', async () => {
  const d = await connectDevice(t.ws, 'mac:000000000779');
  const before = caduceus.events.length;
  d.send({
    msgType: 3,
    source: 'mac:000000000779',
    dest: 'event:should-not',
    transactionUuid: 'orphan',
  });
  d.send({
    msgType: 4,
    source: 'mac:000000000779',
    dest: 'event:marker',
    payload: Buffer.from('m'),
  });
  await caduceus.waitFor((m) => m.dest === 'event:marker');
  assert.ok(!caduceus.events.slice(before).some((m) => m.dest === 'event:should-not'));
  await d.close();
});
