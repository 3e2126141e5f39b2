import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageType, type Message } from '@xmidt/wrp';
import { LibParodus, LibParodusError, serviceOfDest } from '../src/index.js';
import { FakeParodus } from './fake-parodus.js';

const CLIENT = 'tcp://127.0.0.1:0';

async function setup(
  t: { after(fn: () => Promise<void> | void): void },
  options: Partial<Parameters<typeof LibParodus.connect>[0]> = {},
): Promise<{ fake: FakeParodus; client: LibParodus }> {
  const fake = await FakeParodus.start();
  t.after(() => fake.close());
  const client = await LibParodus.connect({
    serviceName: 'config',
    parodusUrl: fake.url,
    clientUrl: CLIENT,
    ...options,
  });
  t.after(() => client.close());
  return { fake, client };
}

const req = (dest: string, n = 1): Message => ({
  msgType: MessageType.SimpleRequestResponse,
  source: 'dns:scytale',
  dest,
  transactionUuid: `tx-${n}`,
  payload: new Uint8Array([n]),
});

test('registers {msg_type 9, service_name, url} and waits for AUTH 200', async (t) => {
  const { fake, client } = await setup(t);
  assert.equal(client.authReceived, true);
  assert.equal(fake.registrations.length, 1);
  const reg = fake.registrations[0];
  assert.equal(reg?.msgType, 9);
  assert.equal(reg?.serviceName, 'config');
  assert.match(client.clientUrl, /^tcp:\/\/127\.0\.0\.1:\d+$/);
  assert.notEqual(client.clientUrl, CLIENT);
  assert.equal(reg?.url, client.clientUrl);
  assert.equal(client.connected, true);
});

test('delivers REQ, EVENT and CRUD for this service; skips keep-alives and other services', async (t) => {
  const { fake, client } = await setup(t);
  await fake.sendTo('config', { msgType: MessageType.ServiceAlive });
  await fake.sendTo('config', req('mac:112233445566/other/x', 1));
  await fake.sendTo('config', req('mac:112233445566/configX/x', 2));
  await fake.sendTo('config', req('mac:112233445566', 3));
  await fake.sendTo('config', req('mac:112233445566/config/x', 4));
  await fake.sendTo('config', {
    msgType: MessageType.SimpleEvent,
    source: 'dns:x',
    dest: 'event:device-status/mac:1/config',
  });
  await fake.sendTo('config', {
    msgType: MessageType.SimpleEvent,
    source: 'dns:x',
    dest: 'mac:112233445566/config',
  });
  await fake.sendTo('config', {
    msgType: MessageType.Retrieve,
    source: 'dns:x',
    dest: 'mac:112233445566/config/a/b',
    transactionUuid: 't5',
  });
  await fake.sendTo('config', {
    msgType: MessageType.ServiceRegistration,
    serviceName: 'x',
    url: 'tcp://127.0.0.1:1',
  });

  const first = await client.receive(5000);
  assert.equal(first?.transactionUuid, 'tx-4');
  assert.deepEqual([...(first?.payload ?? [])], [4]);
  const second = await client.receive(5000);
  assert.equal(second?.msgType, MessageType.SimpleEvent);
  assert.equal(second?.dest, 'mac:112233445566/config');
  const third = await client.receive(5000);
  assert.equal(third?.msgType, MessageType.Retrieve);
  assert.equal(client.stats.keepAlives, 1);
  assert.equal(client.stats.received, 3);
  assert.equal(client.stats.filtered, 5);
});

test('request downstream, response upstream, event upstream', async (t) => {
  const { fake, client } = await setup(t);
  await fake.sendTo('config', req('mac:112233445566/config/get', 7));
  for await (const msg of client) {
    await client.send({
      msgType: MessageType.SimpleRequestResponse,
      source: msg.dest,
      dest: msg.source,
      transactionUuid: msg.transactionUuid,
      contentType: 'application/json',
      payload: new TextEncoder().encode('{"ok":true}'),
    });
    break;
  }
  await client.send({
    msgType: MessageType.SimpleEvent,
    source: 'mac:112233445566/config',
    dest: 'event:config-changed/mac:112233445566',
    payload: new Uint8Array([1, 2]),
  });
  await fake.until(() => fake.upstream.length === 2);
  const [reply, event] = fake.upstream;
  assert.equal(reply?.msgType, MessageType.SimpleRequestResponse);
  assert.equal(reply?.dest, 'dns:scytale');
  assert.equal(reply?.source, 'mac:112233445566/config/get');
  assert.equal(reply?.transactionUuid, 'tx-7');
  assert.equal(new TextDecoder().decode(reply?.payload), '{"ok":true}');
  assert.equal(event?.msgType, MessageType.SimpleEvent);
  assert.equal(event?.dest, 'event:config-changed/mac:112233445566');
});

test('no AUTH: connect fails with libparodus_auth_timeout and frees the client port', async (t) => {
  const fake = await FakeParodus.start({ authStatus: undefined });
  t.after(() => fake.close());
  const err = await LibParodus.connect({
    serviceName: 'config',
    parodusUrl: fake.url,
    clientUrl: CLIENT,
    authTimeoutMs: 200,
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof LibParodusError);
  assert.equal(err.code, 'libparodus_auth_timeout');
  assert.equal(fake.registrations.length, 1);
  const url = fake.registrations[0]?.url ?? '';
  // the port is free again: a new client can bind it
  const again = await LibParodus.connect({
    serviceName: 'config',
    parodusUrl: fake.url,
    clientUrl: url,
    waitForAuth: false,
  });
  assert.equal(again.clientUrl, url);
  await again.close();
});

test('AUTH with another status is refused', async (t) => {
  const fake = await FakeParodus.start({ authStatus: 403 });
  t.after(() => fake.close());
  await assert.rejects(
    LibParodus.connect({ serviceName: 'config', parodusUrl: fake.url, clientUrl: CLIENT }),
    { code: 'libparodus_auth_refused' },
  );
});

test('parodus unreachable: connect fails, nothing left open', async () => {
  const fake = await FakeParodus.start();
  const url = fake.url;
  await fake.close();
  await assert.rejects(
    LibParodus.connect({
      serviceName: 'config',
      parodusUrl: url,
      clientUrl: CLIENT,
      authTimeoutMs: 200,
    }),
    { code: 'libparodus_auth_timeout' },
  );
});

test('re-registers when parodus restarts', async (t) => {
  const fake = await FakeParodus.start();
  const port = fake.port;
  const client = await LibParodus.connect({
    serviceName: 'config',
    parodusUrl: fake.url,
    clientUrl: CLIENT,
    reconnectMinMs: 20,
    reconnectMaxMs: 100,
  });
  t.after(() => client.close());
  await fake.close();
  const restarted = await FakeParodus.start({ authStatus: 200, port });
  t.after(() => restarted.close());
  await restarted.until(() => restarted.registrations.length === 1);
  assert.equal(restarted.registrations[0]?.url, client.clientUrl);
  await restarted.sendTo('config', req('mac:112233445566/config/x', 9));
  assert.equal((await client.receive(5000))?.transactionUuid, 'tx-9');
  assert.equal(client.authReceived, true);
  assert.equal(client.stats.registrations, 2);
});

test('keep-alive watchdog registers again after silence', async (t) => {
  const { fake, client } = await setup(t, { keepaliveTimeoutMs: 150, reregisterDelaysMs: [10] });
  await fake.until(() => fake.registrations.length >= 2);
  assert.ok(client.stats.keepaliveReregistrations >= 1);
  assert.equal(fake.registrations[1]?.url, client.clientUrl);
});

test('a full receive queue drops and counts further messages', async (t) => {
  const { fake, client } = await setup(t, { queueSize: 2 });
  for (let n = 1; n <= 5; n++) await fake.sendTo('config', req('mac:1/config', n));
  await fake.sendTo('config', { msgType: MessageType.ServiceAlive });
  while (client.stats.keepAlives === 0) await new Promise((r) => setTimeout(r, 5));
  assert.equal(client.stats.received, 2);
  assert.equal(client.stats.dropped, 3);
  assert.equal((await client.receive())?.transactionUuid, 'tx-1');
  assert.equal((await client.receive())?.transactionUuid, 'tx-2');
  assert.equal(await client.receive(20), undefined);
});

test('malformed bytes are counted and skipped', async (t) => {
  const { fake, client } = await setup(t);
  await fake.sendRaw('config', Buffer.from('---END-PARODUS---\n'));
  await fake.sendRaw('config', Buffer.from([0xc1]));
  await fake.sendTo('config', req('mac:1/config', 3));
  assert.equal((await client.receive(5000))?.transactionUuid, 'tx-3');
  assert.equal(client.stats.malformed, 2);
});

test('close ends receive() and the iterator', async (t) => {
  const { client } = await setup(t);
  const pending = client.receive().then(
    () => 'resolved',
    (e: { code: string }) => e.code,
  );
  const iterated = (async () => {
    const got: Message[] = [];
    for await (const m of client) got.push(m);
    return got;
  })();
  await client.close();
  assert.equal(await pending, 'libparodus_closed');
  assert.deepEqual(await iterated, []);
  await assert.rejects(client.send({ msgType: 4 }), { code: 'libparodus_closed' });
});

test('send-only client: no registration, sends upstream', async (t) => {
  const fake = await FakeParodus.start();
  t.after(() => fake.close());
  const client = await LibParodus.connect({
    serviceName: 'sender',
    parodusUrl: fake.url,
    receive: false,
  });
  t.after(() => client.close());
  await client.send({ msgType: MessageType.SimpleEvent, source: 'mac:1/sender', dest: 'event:x' });
  await fake.until(() => fake.upstream.length === 1);
  assert.equal(fake.registrations.length, 0);
  await assert.rejects(client.receive(), { code: 'libparodus_receive_disabled' });
});

test('send fails with libparodus_send_failed when parodus is unreachable', async () => {
  const fake = await FakeParodus.start();
  const url = fake.url;
  await fake.close();
  const client = await LibParodus.connect({
    serviceName: 'x',
    parodusUrl: url,
    receive: false,
    sendTimeoutMs: 50,
  });
  await assert.rejects(client.send({ msgType: 4, source: 'a', dest: 'event:b' }), {
    code: 'libparodus_send_failed',
  });
  await client.close();
});

test('invalid config is refused', async () => {
  for (const options of [
    { serviceName: '' },
    { serviceName: 'a/b' },
    { serviceName: 'x'.repeat(32) },
    { serviceName: 'ok', parodusUrl: 'ipc:///tmp/x' },
    { serviceName: 'ok', clientUrl: 'tcp://127.0.0.1' },
  ]) {
    await assert.rejects(LibParodus.connect(options), { code: 'libparodus_config_invalid' });
  }
});

test('serviceOfDest', () => {
  assert.equal(serviceOfDest('mac:112233445566/config/x'), 'config');
  assert.equal(serviceOfDest('mac:112233445566/config'), 'config');
  assert.equal(serviceOfDest('mac:112233445566'), undefined);
  assert.equal(serviceOfDest('mac:1//x'), '');
});
