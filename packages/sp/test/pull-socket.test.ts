import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { PullSocket, PushSocket, type SpError } from '../src/index.js';
import {
  PULL_HEADER,
  PUSH_HEADER,
  boundPull,
  collect,
  delay,
  frame,
  rawClient,
  readBytes,
  whenClosed,
} from './helpers.js';

test('PULL sends exactly 00 53 50 00 00 51 00 00 and accepts a PUSH header', async (t) => {
  const pull = await boundPull();
  t.after(() => pull.close());
  assert.equal(pull.url, `tcp://127.0.0.1:${pull.port}`);
  const client = await rawClient(pull.port);
  t.after(() => client.destroy());
  assert.deepEqual(await readBytes(client, 8), PULL_HEADER);
  const got = collect(pull, 1);
  client.write(Buffer.concat([PUSH_HEADER, frame('hi')]));
  assert.equal((await got)[0]?.toString(), 'hi');
});

test('a message split across many tiny TCP writes', async (t) => {
  const pull = await boundPull();
  t.after(() => pull.close());
  const client = await rawClient(pull.port);
  t.after(() => client.destroy());
  const body = Buffer.from('x'.repeat(20) + 'split-me');
  const stream = Buffer.concat([PUSH_HEADER, frame(body), frame('next')]);
  const got = collect(pull, 2);
  for (let i = 0; i < stream.length; i += 3) {
    await new Promise<void>((resolve) => client.write(stream.subarray(i, i + 3), () => resolve()));
    await delay(1);
  }
  const [first, second] = await got;
  assert.deepEqual(first, body);
  assert.equal(second?.toString(), 'next');
});

test('several messages in one chunk arrive in order', async (t) => {
  const pull = await boundPull();
  t.after(() => pull.close());
  const client = await rawClient(pull.port);
  t.after(() => client.destroy());
  const got = collect(pull, 4);
  client.write(Buffer.concat([PUSH_HEADER, frame('1'), frame('2'), frame(''), frame('4')]));
  assert.deepEqual(
    (await got).map((b) => b.toString()),
    ['1', '2', '', '4'],
  );
  assert.equal(pull.stats.messages, 4);
});

test('an oversized length prefix closes that connection only', async (t) => {
  const pull = await boundPull({ maxMessageSize: 100 });
  t.after(() => pull.close());
  const disconnected = once(pull, 'disconnect');
  const bad = await rawClient(pull.port);
  const closed = whenClosed(bad);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64BE(101n);
  bad.write(Buffer.concat([PUSH_HEADER, frame('ok'), prefix]));
  await closed;
  const [, reason] = (await disconnected) as [unknown, SpError | undefined];
  assert.equal(reason?.code, 'sp_message_too_large');
  assert.equal(pull.stats.oversized, 1);
  assert.equal(pull.stats.messages, 1);

  const push = new PushSocket(pull.url);
  t.after(() => push.close());
  const got = collect(pull, 1);
  await push.send(Buffer.alloc(100, 1));
  assert.equal((await got)[0]?.length, 100);
});

test('garbage instead of the header is disconnected; the server keeps serving others', async (t) => {
  const pull = await boundPull();
  t.after(() => pull.close());
  const push = new PushSocket(pull.url);
  t.after(() => push.close());
  await push.whenConnected();

  const garbage = await rawClient(pull.port);
  const closed = whenClosed(garbage);
  const disconnected = once(pull, 'disconnect');
  garbage.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await closed;
  const [, reason] = (await disconnected) as [unknown, SpError | undefined];
  assert.equal(reason?.code, 'sp_handshake_invalid');

  const got = collect(pull, 1);
  await push.send(Buffer.from('still here'));
  assert.equal((await got)[0]?.toString(), 'still here');
  assert.equal(pull.stats.handshakeFailures, 1);
});

test('wrong peer protocol, non-zero reserved bytes and silence are refused', async (t) => {
  const pull = await boundPull({ handshakeTimeoutMs: 200 });
  t.after(() => pull.close());
  const variants = [
    PULL_HEADER, // PULL talking to PULL
    Buffer.from([0x00, 0x53, 0x50, 0x00, 0x00, 0x50, 0x00, 0x01]), // reserved byte set
    Buffer.from([0x00, 0x53, 0x50, 0x01, 0x00, 0x50, 0x00, 0x00]), // version byte
  ];
  for (const header of variants) {
    const c = await rawClient(pull.port);
    const closed = whenClosed(c);
    c.write(header);
    await closed;
  }
  const silent = await rawClient(pull.port);
  const disconnected = once(pull, 'disconnect');
  await whenClosed(silent);
  const [, reason] = (await disconnected) as [unknown, SpError | undefined];
  assert.equal(reason?.code, 'sp_handshake_timeout');
  assert.equal(pull.stats.handshakeFailures, 4);
  assert.equal(pull.stats.connections, 0);
});

test('many PUSH peers into one PULL', async (t) => {
  const pull = await boundPull();
  t.after(() => pull.close());
  const pushes = [0, 1, 2].map(() => new PushSocket(pull.url));
  t.after(() => Promise.all(pushes.map((p) => p.close())));
  const got = collect(pull, 30);
  await Promise.all(
    pushes.flatMap((p, i) =>
      Array.from({ length: 10 }, (_, j) => p.send(Buffer.from(`${i}:${j}`))),
    ),
  );
  const texts = (await got).map((b) => b.toString());
  for (let i = 0; i < 3; i++) {
    const mine = texts.filter((s) => s.startsWith(`${i}:`));
    assert.deepEqual(
      mine,
      Array.from({ length: 10 }, (_, j) => `${i}:${j}`),
    );
  }
});

test('maxConnections refuses extra peers', async (t) => {
  const pull = await boundPull({ maxConnections: 1 });
  t.after(() => pull.close());
  const first = await rawClient(pull.port);
  t.after(() => first.destroy());
  await readBytes(first, 8);
  const second = await rawClient(pull.port);
  await whenClosed(second);
  assert.equal(pull.stats.refused, 1);
});

test('pause stops delivery, resume delivers what was held back', async (t) => {
  const pull = await boundPull();
  t.after(() => pull.close());
  const push = new PushSocket(pull.url);
  t.after(() => push.close());
  await push.whenConnected();
  pull.pause();
  let count = 0;
  pull.on('message', () => count++);
  await Promise.all([1, 2, 3].map((n) => push.send(Buffer.from([n]))));
  await delay(50);
  assert.equal(count, 0);
  const got = collect(pull, 3);
  pull.resume();
  assert.deepEqual(
    (await got).map((b) => b[0]),
    [1, 2, 3],
  );
});

test('binding a port in use rejects', async (t) => {
  const pull = await boundPull();
  t.after(() => pull.close());
  const second = new PullSocket();
  await assert.rejects(second.bind(pull.url), { code: 'EADDRINUSE' });
  await assert.rejects(pull.bind('tcp://127.0.0.1:0'), { code: 'sp_already_bound' });
});
