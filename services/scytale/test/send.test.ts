import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { request } from 'undici';
import { decodeMsgpack, encodeMsgpack } from '@xmidt/wrp';
import type { Message } from '@xmidt/wrp';
import { FakeTalaria, notFound } from './fake-talaria.js';
import type { Behaviour } from './fake-talaria.js';
import { scytaleConfig, startScytale } from './setup.js';
import type { Running } from './setup.js';

const DEVICE = 'mac:112233445566';
const REQUEST: Message = {
  msgType: 3,
  source: 'dns:scytale.test/app',
  dest: `${DEVICE}/config`,
  transactionUuid: 'txn-1',
  contentType: 'application/json',
  payload: Buffer.from('{"command":"GET"}'),
};

/** The device answers: a 200 with a WRP reply in the format Talaria was asked for. */
/** POSTs REQUEST as msgpack to Scytale's device endpoint. */
function sendRequest(base: string): ReturnType<typeof request> {
  return request(`${base}/api/v3/device`, {
    method: 'POST',
    headers: { 'content-type': 'application/msgpack' },
    body: encodeMsgpack(REQUEST),
  });
}

const holder: Behaviour = (req, res) => {
  const asked = decodeMsgpack(req.body);
  const reply: Message = {
    msgType: 3,
    source: asked.dest ?? '',
    dest: asked.source ?? '',
    transactionUuid: asked.transactionUuid ?? '',
    payload: Buffer.from('{"ok":true}'),
  };
  const json = req.headers.accept === 'application/json';
  res.writeHead(200, {
    'content-type': json ? 'application/json' : 'application/msgpack',
    'x-xmidt-test': 'from-talaria',
    'x-other': 'kept',
    server: 'not-passed',
  });
  res.end(
    json
      ? JSON.stringify({ msg_type: 3, source: reply.source, dest: reply.dest })
      : encodeMsgpack(reply),
  );
};

describe('scytale send and stat', () => {
  let east: FakeTalaria;
  let west: FakeTalaria;
  let s: Running;

  before(async () => {
    east = await FakeTalaria.start('127.0.0.1');
    west = await FakeTalaria.start('127.0.0.2');
    s = await startScytale(scytaleConfig({ dc1: [east.url], dc2: [west.url] }));
  });
  after(async () => {
    await s.scytale.stop();
    await east.close();
    await west.close();
  });
  beforeEach(() => {
    east.received.length = 0;
    west.received.length = 0;
    east.behave = holder;
    west.behave = notFound;
  });

  it('msgpack body: sent to both datacenters; the 200 wins over the 404 and passes through', async () => {
    const body = encodeMsgpack(REQUEST);
    const res = await request(`${s.base}/api/v3/device`, {
      method: 'POST',
      headers: { 'content-type': 'application/msgpack', authorization: 'Basic Y2FsbGVyOnh5eg==' },
      body,
    });
    const out = Buffer.from(await res.body.arrayBuffer());
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'application/msgpack');
    assert.equal(res.headers['x-xmidt-test'], 'from-talaria');
    assert.equal(res.headers['x-other'], 'kept');
    assert.notEqual(res.headers.server, 'not-passed');
    assert.equal(res.headers['x-scytale-region'], 'local');
    assert.equal(decodeMsgpack(out).source, `${DEVICE}/config`);
    for (const t of [east, west]) {
      assert.equal(t.received.length, 1);
      const got = t.received[0]!;
      assert.equal(got.method, 'POST');
      assert.equal(got.url, '/api/v2/device/send');
      assert.equal(got.headers['content-type'], 'application/msgpack');
      assert.equal(got.headers['x-webpa-device-name'], `${DEVICE}/config`);
      // Scytale's own credentials, never the caller's
      assert.equal(
        got.headers.authorization,
        `Basic ${Buffer.from('scytale:s3cret').toString('base64')}`,
      );
      assert.deepEqual(got.body, body, 'the caller bytes unchanged');
    }
  });

  it('JSON body: forwarded as msgpack, answer in JSON; v2 and PUT served too', async () => {
    const json = JSON.stringify({
      msg_type: 3,
      source: 'dns:scytale.test',
      dest: DEVICE,
      transaction_uuid: 'txn-2',
      payload: Buffer.from('hi').toString('base64'),
    });
    for (const [method, version] of [
      ['POST', 'v3'],
      ['PUT', 'v2'],
    ] as const) {
      east.received.length = 0;
      const res = await request(`${s.base}/api/${version}/device`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: json,
      });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-type'], 'application/json');
      assert.equal(((await res.body.json()) as { source: string }).source, DEVICE);
      const got = east.received[0]!;
      assert.equal(got.headers.accept, 'application/json');
      const m = decodeMsgpack(got.body);
      assert.equal(m.transactionUuid, 'txn-2');
      assert.equal(Buffer.from(m.payload!).toString(), 'hi');
    }
  });

  it('headers mode: X-Xmidt-* fields and the body as payload, forwarded as msgpack', async () => {
    const res = await request(`${s.base}/api/v3/device`, {
      method: 'POST',
      headers: {
        'x-xmidt-message-type': 'SimpleRequestResponse',
        'x-xmidt-source': 'dns:scytale.test',
        'x-webpa-device-name': DEVICE,
        'x-xmidt-transaction-uuid': 'txn-3',
        'x-xmidt-metadata': ['a=1', 'b=2'],
        'x-xmidt-partner-id': 'comcast, cox',
        'x-xmidt-path': '/config',
        'content-type': 'text/plain',
      },
      body: 'payload text',
    });
    await res.body.dump();
    assert.equal(res.statusCode, 200);
    const m = decodeMsgpack(east.received[0]!.body);
    assert.equal(m.msgType, 3);
    assert.equal(m.source, 'dns:scytale.test');
    assert.equal(m.dest, DEVICE);
    assert.equal(m.transactionUuid, 'txn-3');
    assert.deepEqual(m.metadata, { a: '1', b: '2' });
    assert.deepEqual(m.partnerIds, ['comcast', 'cox']);
    assert.equal(m.path, '/config');
    assert.equal(m.contentType, 'text/plain');
    assert.equal(Buffer.from(m.payload!).toString(), 'payload text');
    assert.equal(east.received[0]!.headers.accept, 'application/msgpack');
  });

  it('an event without transaction uuid is fine; every datacenter 404 -> 404 with its body', async () => {
    east.behave = notFound;
    const res = await request(`${s.base}/api/v3/device`, {
      method: 'POST',
      headers: { 'content-type': 'application/msgpack' },
      body: encodeMsgpack({ msgType: 4, source: 'dns:x', dest: DEVICE }),
    });
    assert.equal(res.statusCode, 404);
    assert.equal(res.headers['x-xmidt-message-error'], 'device not found');
    assert.equal(res.headers['content-type'], 'application/json');
    assert.match(await res.body.text(), /device not found/);
  });

  it('stat: fanned out to {pathPrefix}/device/{id}/stat with the id header', async () => {
    east.behave = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"id":"mac:112233445566"}');
    };
    const res = await request(`${s.base}/api/v3/device/${DEVICE}/stat`);
    assert.equal(res.statusCode, 200);
    assert.equal(await res.body.text(), '{"id":"mac:112233445566"}');
    assert.equal(east.received[0]!.method, 'GET');
    assert.equal(east.received[0]!.url, `/api/v2/device/${DEVICE}/stat`);
    assert.equal(east.received[0]!.headers['x-webpa-device-name'], DEVICE);

    const bad = await request(`${s.base}/api/v3/device/nonsense/stat`);
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(await bad.body.json(), {
      code: 400,
      message: 'failed to extract device ID: invalid device name',
    });
  });

  it('validation: route matching, decoding, Accept, transaction uuid, destination', async () => {
    const post = (headers: Record<string, string>, body: string | Buffer = '') =>
      request(`${s.base}/api/v3/device`, { method: 'POST', headers, body });
    const msgpack = { 'content-type': 'application/msgpack' };

    for (const ct of [
      'text/plain',
      'application/json; charset=utf-8',
      'application/octet-stream',
    ]) {
      const res = await post({ 'content-type': ct }, '{}');
      assert.equal(res.statusCode, 400, ct);
      assert.deepEqual(await res.body.json(), { code: 400, message: 'Invalid endpoint' });
    }
    for (const path of ['/api/v3/devices', '/api/v4/device', '/']) {
      const res = await request(`${s.base}${path}`, {
        method: 'POST',
        headers: msgpack,
        body: 'x',
      });
      assert.equal(res.statusCode, 400, path);
      assert.deepEqual(await res.body.json(), { code: 400, message: 'Invalid endpoint' });
    }
    const get = await request(`${s.base}/api/v3/device`);
    assert.equal(get.statusCode, 405);
    await get.body.dump();

    const garbage = await post(msgpack, Buffer.from([0xc1, 0x00]));
    assert.equal(garbage.statusCode, 400);
    assert.match(await garbage.body.text(), /^failed to decode WRP message/);
    const badJson = await post({ 'content-type': 'application/json' }, '{"msg_type":');
    assert.equal(badJson.statusCode, 400);
    await badJson.body.dump();

    const ok = encodeMsgpack(REQUEST);
    for (const accept of ['*/*', 'text/html']) {
      const res = await post({ ...msgpack, accept }, ok);
      assert.equal(res.statusCode, 400, accept);
      assert.equal(await res.body.text(), 'failed to determine format of Accept header');
    }
    for (const msgType of [3, 5, 6, 7, 8]) {
      const res = await post(msgpack, encodeMsgpack({ msgType, source: 'dns:x', dest: DEVICE }));
      assert.equal(res.statusCode, 400, `type ${msgType}`);
      assert.match(await res.body.text(), /transaction_uuid is required/);
    }
    for (const dest of [undefined, 'mac:123', 'nonsense']) {
      const m: Message = { msgType: 4, source: 'dns:x', ...(dest ? { dest } : {}) };
      const res = await post(msgpack, encodeMsgpack(m));
      assert.equal(res.statusCode, 400, String(dest));
      assert.equal(res.headers['x-xmidt-error'], 'invalid device name');
      assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(await res.body.text(), '');
    }
    const badStatus = await post({
      'x-xmidt-message-type': '4',
      'x-webpa-device-name': DEVICE,
      'x-xmidt-status': 'x',
    });
    assert.equal(badStatus.statusCode, 400);
    await badStatus.body.dump();
    assert.equal(east.received.length, 0, 'nothing was forwarded');
    assert.equal(west.received.length, 0);

    const metrics = await (await request(`${s.admin}/metrics`)).body.text();
    assert.match(metrics, /xmidt_scytale_rejected_requests_total\{reason="accept_invalid"\} 2/);
    assert.match(
      metrics,
      /xmidt_scytale_api_requests_total\{route="\/api\/:version\/device",method="POST",code="400"\}/,
    );
  });
});

describe('scytale fan-out failures', () => {
  it('one Talaria hangs, the other 404s: 504 at the fan-out timeout, empty body', async () => {
    const a = await FakeTalaria.start('127.0.0.1');
    const b = await FakeTalaria.start('127.0.0.2');
    a.behave = a.hang();
    const s = await startScytale(
      scytaleConfig({ dc1: [a.url], dc2: [b.url] }, {}, { fanoutTimeout: '300ms' }),
    );
    try {
      const res = await sendRequest(s.base);
      assert.equal(res.statusCode, 504);
      assert.equal(await res.body.text(), '');
    } finally {
      await s.scytale.stop();
      await a.close();
      await b.close();
    }
  });

  it('one Talaria hangs past the client timeout, the other holds the device: 200', async () => {
    const a = await FakeTalaria.start('127.0.0.1');
    const b = await FakeTalaria.start('127.0.0.2');
    a.behave = a.hang();
    b.behave = holder;
    const s = await startScytale(
      scytaleConfig({ dc1: [a.url], dc2: [b.url] }, {}, { clientTimeout: '200ms' }),
    );
    try {
      const res = await sendRequest(s.base);
      assert.equal(res.statusCode, 200);
      await res.body.dump();
    } finally {
      await s.scytale.stop();
      await a.close();
      await b.close();
    }
  });

  it('the first answer below 400 wins and the request still outstanding is cancelled', async () => {
    const a = await FakeTalaria.start('127.0.0.1');
    const b = await FakeTalaria.start('127.0.0.2');
    a.behave = holder;
    let cancelled: Promise<void> | undefined;
    b.behave = (_req, res) => {
      cancelled = new Promise((resolve) => res.once('close', () => resolve()));
    };
    const s = await startScytale(scytaleConfig({ dc1: [a.url], dc2: [b.url] }));
    try {
      while (b.received.length === 0 || a.received.length === 0) {
        const res = await sendRequest(s.base);
        assert.equal(res.statusCode, 200);
        await res.body.dump();
      }
      assert.ok(cancelled, 'the hanging Talaria got the request');
      await cancelled; // the loser's connection is closed by Scytale, not left hanging
    } finally {
      await s.scytale.stop();
      await a.close();
      await b.close();
    }
  });

  it('the only Talaria hangs past the client timeout: 504 naming the timeout, request cancelled', async () => {
    const a = await FakeTalaria.start('127.0.0.1');
    let cancelled: Promise<void> | undefined;
    a.behave = (_req, res) => {
      cancelled = new Promise((resolve) => res.once('close', () => resolve()));
    };
    const s = await startScytale(
      scytaleConfig({ dc1: [a.url] }, {}, { clientTimeout: '200ms', fanoutTimeout: '5s' }),
    );
    try {
      const res = await sendRequest(s.base);
      assert.equal(res.statusCode, 504);
      assert.match(String(res.headers['x-xmidt-error']), /timeout/);
      assert.match(await res.body.text(), /timeout/);
      assert.ok(cancelled);
      await cancelled;
    } finally {
      await s.scytale.stop();
      await a.close();
    }
  });

  it('a Talaria answer larger than maxResponseBytes: 502 naming it', async () => {
    const a = await FakeTalaria.start('127.0.0.1');
    a.behave = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/msgpack' });
      res.end(Buffer.alloc(4096, 1));
    };
    const s = await startScytale(scytaleConfig({ dc1: [a.url] }, {}, { maxResponseBytes: 1024 }));
    try {
      const res = await sendRequest(s.base);
      assert.equal(res.statusCode, 502);
      assert.match(String(res.headers['x-xmidt-error']), /too large/);
      assert.match(await res.body.text(), /response body too large/);
    } finally {
      await s.scytale.stop();
      await a.close();
    }
  });

  it('connection refused everywhere: 503 with the error text and X-Xmidt-Error', async () => {
    const gone = await FakeTalaria.start('127.0.0.1');
    const url = gone.url;
    await gone.close();
    const s = await startScytale(scytaleConfig({ dc1: [url] }));
    try {
      const res = await sendRequest(s.base);
      assert.equal(res.statusCode, 503);
      assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
      assert.match(await res.body.text(), /ECONNREFUSED|connect/);
      assert.match(String(res.headers['x-xmidt-error']), new RegExp(url.replace(/[.:/]/g, '.')));
    } finally {
      await s.scytale.stop();
    }
  });

  it('no Talaria known: 500 with X-Xmidt-Error "no fanout URLs"', async () => {
    const s = await startScytale(scytaleConfig({}));
    try {
      const res = await sendRequest(s.base);
      assert.equal(res.statusCode, 500);
      assert.equal(res.headers['x-xmidt-error'], 'no fanout URLs');
      assert.equal(await res.body.text(), '');
    } finally {
      await s.scytale.stop();
    }
  });

  it('concurrency limit reached: 503 at once', async () => {
    const a = await FakeTalaria.start('127.0.0.1');
    a.behave = a.hang();
    const s = await startScytale(
      scytaleConfig({ dc1: [a.url] }, {}, { concurrency: 1, fanoutTimeout: '1s' }),
    );
    try {
      const send = () => sendRequest(s.base);
      const first = send();
      while (s.scytale.fanout.inFlight === 0) await new Promise((r) => setTimeout(r, 5));
      const second = await send();
      assert.equal(second.statusCode, 503);
      assert.equal(second.headers['x-xmidt-error'], 'fanout concurrency limit reached');
      await second.body.dump();
      const r1 = await first;
      assert.equal(r1.statusCode, 504);
      await r1.body.dump();
    } finally {
      await s.scytale.stop();
      await a.close();
    }
  });
});
