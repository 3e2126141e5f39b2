import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { decodeMsgpack, encodeMsgpack, MessageType, type Message } from '@xmidt/wrp';
import {
  Backoff,
  DeviceClient,
  deviceUrl,
  tokenRefreshAt,
  type ConnectFailure,
  type DeviceClientOptions,
  type OfflineInfo,
} from '../src/index.js';
import { sleep, startServer, waitFor, type TestServer } from './ws-test-server.js';

const device = {
  hwMac: '11:22:33:44:55:66',
  hwModel: 'TestModel',
  hwSerialNumber: 'SN123',
  hwManufacturer: 'TestMfr',
  fwName: 'fw-1.0',
  bootTime: 1700000000,
  hwLastRebootReason: 'unknown',
  webpaProtocol: 'PARODUS-2.0-test',
  partnerId: 'comcast',
};

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function server(...args: Parameters<typeof startServer>): Promise<TestServer> {
  const s = await startServer(...args);
  cleanups.push(() => s.close());
  return s;
}

function client(opts: Partial<DeviceClientOptions> & { url: string }): DeviceClient {
  const c = new DeviceClient({
    device,
    backoff: { unitMs: 20, maxExponent: 3 },
    ...opts,
  });
  cleanups.push(() => c.stop());
  return c;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function conveyOf(req: IncomingMessage): Record<string, unknown> {
  return JSON.parse(Buffer.from(header(req, 'x-webpa-convey') ?? '', 'base64').toString('utf8'));
}

/** A token server returning tok-1, tok-2, … (or what `body` makes) and recording request headers. */
async function tokenServer(
  body: (n: number) => string = (n) => `tok-${n}`,
): Promise<{ url: string; requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = [];
  const s = createServer((req, res) => {
    requests.push(req);
    res.setHeader('Content-Type', 'application/jose');
    res.end(body(requests.length));
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/issue`, requests };
}

describe('Backoff', () => {
  it('follows Parodus caps 3, 7, 15 … with at least 3 units and the configured ceiling', () => {
    let r = 0;
    const seq = [0.0, 0.5, 0.99, 0.1, 0.99, 0.99];
    const b = new Backoff({ unitMs: 1, maxExponent: 4, random: () => seq[r++ % seq.length] ?? 0 });
    assert.equal(b.next(), 3); // cap 3: exactly 3
    assert.equal(b.currentCap, 3);
    const d2 = b.next(); // cap 7
    assert.equal(b.currentCap, 7);
    assert.ok(d2 >= 3 && d2 < 8, `wait ${d2}`);
    b.next();
    assert.equal(b.currentCap, 15);
    b.next();
    assert.equal(b.currentCap, 15, 'cap stops at 2^4-1');
    for (let i = 0; i < 50; i++) {
      const d = b.next();
      assert.ok(d >= 3 && d < 16, `wait ${d}`);
    }
    b.reset();
    assert.equal(b.next(), 3);
  });

  it('waits exactly 3 units when the max exponent is 0 or 1', () => {
    for (const maxExponent of [0, 1, 2]) {
      const b = new Backoff({ unitMs: 1000, maxExponent });
      for (let i = 0; i < 5; i++) assert.equal(b.next(), 3000);
    }
  });
});

describe('deviceUrl', () => {
  it('keeps scheme, host and port only and uses /api/v2/device', () => {
    assert.equal(
      deviceUrl('http://petasos:6400/some/path?x=1').href,
      'ws://petasos:6400/api/v2/device',
    );
    assert.equal(deviceUrl('https://[::1]:8080').href, 'wss://[::1]:8080/api/v2/device');
    assert.equal(deviceUrl('https://h').href, 'wss://h/api/v2/device');
    assert.throws(() => deviceUrl('ftp://h'), { code: 'device_client_invalid_url' });
  });
});

describe('tokenRefreshAt', () => {
  it('refetches at 90% of the iat..exp lifetime', () => {
    const payload = Buffer.from(JSON.stringify({ iat: 1000, exp: 2000 })).toString('base64url');
    assert.equal(tokenRefreshAt(`h.${payload}.s`, 0), 1_900_000);
    assert.equal(tokenRefreshAt('opaque', 0), Infinity);
  });
});

describe('DeviceClient', () => {
  it('sends Parodus headers, convey and the token fetched with X-Midt headers', async () => {
    const tokens = await tokenServer();
    const s = await server();
    const c = client({ url: `${s.url}/ignored/path`, token: { url: tokens.url } });
    const online = waitFor<unknown>((r) => c.once('online', r), 5000, 'online');
    const status = waitFor<string>((r) => c.once('cloud-status', r));
    c.start();
    await online;
    assert.equal(await status, 'online');
    assert.equal(c.cloudStatus, 'online');
    const req = s.requests[0];
    assert.ok(req);
    assert.equal(req.url, '/api/v2/device');
    assert.equal(header(req, 'authorization'), 'Bearer tok-1');
    assert.equal(header(req, 'x-webpa-device-name'), 'mac:112233445566');
    assert.equal(header(req, 'x-webpa-device-protocols'), 'wrp-0.11,getset-0.1');
    assert.equal(header(req, 'user-agent'), 'PARODUS-2.0-test (fw-1.0; TestModel/TestMfr;)');
    const conveyText = Buffer.from(header(req, 'x-webpa-convey') ?? '', 'base64').toString();
    assert.equal(
      conveyText,
      '{"hw-model":"TestModel","hw-serial-number":"SN123","hw-manufacturer":"TestMfr","fw-name":"fw-1.0","boot-time":1700000000,"webpa-protocol":"PARODUS-2.0-test","hw-last-reboot-reason":"unknown","webpa-last-reconnect-reason":"webpa_process_starts"}',
    );
    // header order as Parodus sends them
    const names = req.rawHeaders.filter((_, i) => i % 2 === 0).map((h) => h.toLowerCase());
    const order = [
      'authorization',
      'x-webpa-device-name',
      'x-webpa-device-protocols',
      'user-agent',
      'x-webpa-convey',
    ];
    assert.deepEqual(
      names.filter((n) => order.includes(n)),
      order,
    );
    const t = tokens.requests[0];
    assert.ok(t);
    assert.equal(header(t, 'x-midt-mac-address'), '112233445566');
    assert.equal(header(t, 'x-midt-serial-number'), 'SN123');
    assert.equal(header(t, 'x-midt-partner-id'), 'comcast');
    assert.equal(header(t, 'x-midt-hardware-model'), 'TestModel');
    assert.equal(header(t, 'x-midt-hardware-manufacturer'), 'TestMfr');
    assert.equal(header(t, 'x-midt-firmware-name'), 'fw-1.0');
    assert.equal(header(t, 'x-midt-protocol'), 'PARODUS-2.0-test');
    assert.equal(header(t, 'x-midt-last-reconnect-reason'), 'webpa_process_starts');
    assert.equal(header(t, 'x-midt-boot-retry-wait'), '0');
    assert.match(header(t, 'x-midt-uuid') ?? '', /^[0-9a-f-]{36}$/);
    const offline = waitFor<string>((r) => c.once('cloud-status', r));
    await c.stop();
    assert.equal(await offline, 'offline');
    assert.equal(c.cloudStatus, 'offline');
  });

  it('follows a 307 to another port with the path /api/v2/device', async () => {
    const talaria = await server();
    const petasos = await server(() => ({
      kind: 'status',
      status: 307,
      headers: { Location: `http://127.0.0.1:${talaria.port}/elsewhere/entirely` },
    }));
    const c = client({ url: petasos.url });
    const redirect = waitFor<{ to: string; status: number }>((r) => c.once('redirect', r));
    const online = waitFor<{ url: string; redirects: number }>((r) => c.once('online', r));
    c.start();
    assert.deepEqual((await redirect).status, 307);
    const info = await online;
    assert.equal(info.redirects, 1);
    assert.equal(info.url, `ws://127.0.0.1:${talaria.port}/api/v2/device`);
    assert.equal(talaria.requests[0]?.url, '/api/v2/device');
    assert.equal(
      header(talaria.requests[0] as IncomingMessage, 'x-webpa-device-name'),
      'mac:112233445566',
    );
  });

  it('ends a redirect loop after the redirect limit and backs off', async () => {
    let self = '';
    const loop = await server(() => ({ kind: 'status', status: 302, headers: { Location: self } }));
    self = `${loop.url}/api/v2/device`;
    const c = client({ url: loop.url, maxRedirects: 3 });
    const failures: ConnectFailure[] = [];
    c.on('connect-failure', (f) => failures.push(f));
    c.start();
    await waitFor<void>((r) => c.once('connect-failure', () => r()));
    await sleep(300);
    await c.stop();
    assert.ok(failures.length >= 1);
    for (const f of failures) {
      assert.equal(f.reason, 'redirect_limit');
      assert.ok(f.delayMs >= 60, `delay ${f.delayMs}`);
    }
    // Each attempt is 1 + 3 requests; the backoff (>= 60 ms) bounds attempts in the window.
    assert.ok(
      loop.requests.length <= 4 * (failures.length + 1),
      `${loop.requests.length} requests`,
    );
    assert.ok(loop.requests.length < 40, `${loop.requests.length} requests in ~300 ms`);
  });

  it('refetches the token after a 403 and does not retry in a tight loop', async () => {
    const tokens = await tokenServer();
    const s = await server(() => ({ kind: 'status', status: 403 }));
    const c = client({ url: s.url, token: { url: tokens.url, attempts: 1 } });
    const failures: ConnectFailure[] = [];
    c.on('connect-failure', (f) => failures.push(f));
    c.start();
    await sleep(400);
    await c.stop();
    const auth = s.requests.map((r) => header(r, 'authorization'));
    assert.ok(auth.length >= 2, `${auth.length} attempts`);
    // A new token for every attempt after a 403.
    auth.forEach((a, i) => assert.equal(a, `Bearer tok-${i + 1}`));
    // Stopping may land between a token fetch and the connect that would have used it.
    assert.ok(
      tokens.requests.length === auth.length || tokens.requests.length === auth.length + 1,
      `${tokens.requests.length} tokens for ${auth.length} attempts`,
    );
    // The first 403 is retried at once, the next ones back off (>= 3 units of 20 ms).
    assert.equal(failures[0]?.delayMs, 0);
    assert.ok((failures[1]?.delayMs ?? 0) >= 60);
    // Parodus made thousands of attempts in a window like this; here the backoff bounds it.
    assert.ok(auth.length <= 12, `${auth.length} attempts in ~400 ms`);
  });

  it('refetches a token that is close to expiry before reconnecting', async () => {
    const now = Math.floor(Date.now() / 1000);
    // Lifetime mostly used up: 90 % of iat..exp is already behind us.
    const claims = Buffer.from(JSON.stringify({ iat: now - 100, exp: now + 5 })).toString(
      'base64url',
    );
    const tokens = await tokenServer((n) => `e30.${claims}.sig${n}`);
    const s = await server();
    const c = client({ url: s.url, token: { url: tokens.url }, stableAfterMs: 0 });
    const first = s.nextSocket();
    c.start();
    (await first).close(1001, 'going away');
    await s.nextSocket();
    assert.equal(tokens.requests.length, 2);
    assert.equal(
      header(s.requests[1] as IncomingMessage, 'authorization'),
      `Bearer e30.${claims}.sig2`,
    );
  });

  it('reconnects with Ping_Miss when no ping with a payload arrives', async () => {
    const s = await server();
    const c = client({ url: s.url, pingTimeoutMs: 150, pingCheckIntervalMs: 25 });
    const first = s.nextSocket();
    c.start();
    const ws1 = await first;
    // Empty pings do not count.
    const pinger = setInterval(() => ws1.ping(), 20);
    const serverClose = waitFor<{ code: number; reason: string }>((r) =>
      ws1.once('close', (code, reason) => r({ code, reason: reason.toString() })),
    );
    const second = s.nextSocket();
    const offline = await waitFor<OfflineInfo>((r) => c.once('offline', r), 5000, 'offline');
    clearInterval(pinger);
    assert.equal(offline.reconnectReason, 'Ping_Miss');
    assert.deepEqual(await serverClose, { code: 1000, reason: 'parodus_stopping' });
    await second;
    const convey = conveyOf(s.requests[1] as IncomingMessage);
    assert.equal(convey['webpa-last-reconnect-reason'], 'Ping_Miss');
  });

  it('stays connected while pings with a payload arrive', async () => {
    const s = await server();
    const c = client({ url: s.url, pingTimeoutMs: 200, pingCheckIntervalMs: 25 });
    const first = s.nextSocket();
    c.start();
    const ws = await first;
    const pinger = setInterval(() => ws.ping('mac:112233445566'), 30);
    let offline = 0;
    c.on('offline', () => offline++);
    await sleep(600);
    clearInterval(pinger);
    assert.equal(offline, 0);
    assert.equal(s.requests.length, 1);
  });

  it('receives a request, replies, and sends events as binary WRP frames', async () => {
    const s = await server();
    const c = client({ url: s.url });
    c.on('message', (msg) => {
      if (msg.msgType === MessageType.SimpleRequestResponse) {
        c.reply(msg, {
          contentType: msg.contentType ?? 'application/octet-stream',
          payload: msg.payload ?? new Uint8Array(),
        });
      }
    });
    const first = s.nextSocket();
    c.start();
    const ws = await first;
    const frames: { msg: Message; binary: boolean }[] = [];
    const got = new Promise<void>((resolve) => {
      ws.on('message', (data: Buffer, isBinary) => {
        frames.push({ msg: decodeMsgpack(data), binary: isBinary });
        if (frames.length === 2) resolve();
      });
    });
    ws.send(
      encodeMsgpack({
        msgType: MessageType.SimpleRequestResponse,
        source: 'dns:scytale',
        dest: 'mac:112233445566/config',
        transactionUuid: 'txn-1',
        contentType: 'text/plain',
        payload: Buffer.from('hello'),
      }),
    );
    await waitFor<void>((r) => c.once('message', () => r()));
    assert.equal(
      c.sendEvent('event:device-status/mac:112233445566/boot', Buffer.from('{"a":1}')),
      true,
    );
    await got;
    const reply = frames[0];
    assert.ok(reply?.binary);
    assert.equal(reply.msg.msgType, MessageType.SimpleRequestResponse);
    assert.equal(reply.msg.source, 'mac:112233445566/config');
    assert.equal(reply.msg.dest, 'dns:scytale');
    assert.equal(reply.msg.transactionUuid, 'txn-1');
    assert.equal(Buffer.from(reply.msg.payload ?? []).toString(), 'hello');
    const event = frames[1];
    assert.ok(event?.binary);
    assert.equal(event.msg.msgType, MessageType.SimpleEvent);
    assert.equal(event.msg.source, 'mac:112233445566');
    assert.equal(event.msg.dest, 'event:device-status/mac:112233445566/boot');
  });

  it('drops sends while offline and backs off on a refused connection', async () => {
    const s = await server();
    const port = s.port;
    await s.close();
    const c = client({ url: `http://127.0.0.1:${port}` });
    const failure = waitFor<ConnectFailure>((r) => c.once('connect-failure', r));
    c.start();
    const f = await failure;
    assert.equal(f.reason, 'connect_refused');
    assert.equal(f.delayMs, 60);
    assert.equal(c.send({ msgType: MessageType.SimpleEvent, dest: 'event:x' }), false);
  });

  it('reports SSL_Socket_Close after the server drops the socket', async () => {
    const s = await server();
    const c = client({ url: s.url, stableAfterMs: 0 });
    const first = s.nextSocket();
    c.start();
    (await first).terminate();
    const off = await waitFor<OfflineInfo>((r) => c.once('offline', r));
    assert.equal(off.code, 1006);
    assert.equal(off.reconnectReason, 'SSL_Socket_Close');
    await s.nextSocket();
    assert.equal(
      conveyOf(s.requests[1] as IncomingMessage)['webpa-last-reconnect-reason'],
      'SSL_Socket_Close',
    );
  });
});
