import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { PullSocket, PushSocket } from '../src/index.js';
import {
  PULL_HEADER,
  PUSH_HEADER,
  boundPull,
  collect,
  deadPort,
  delay,
  frame,
  rawServer,
  readBytes,
} from './helpers.js';

test('PUSH sends exactly 00 53 50 00 00 50 00 00, waits for the peer header, then frames', async (t) => {
  const sockets: Socket[] = [];
  const server = await rawServer((s) => sockets.push(s));
  t.after(() => server.close());
  const push = new PushSocket(`tcp://127.0.0.1:${server.port}`);
  t.after(() => push.close());
  const sent = push.send(Buffer.from('hello'));
  await once(server.server, 'connection');
  const peer = sockets[0];
  assert.ok(peer);
  assert.deepEqual(await readBytes(peer, 8), PUSH_HEADER);
  assert.equal(push.connected, false);
  peer.write(PULL_HEADER);
  await sent;
  assert.deepEqual(await readBytes(peer, 13), frame('hello'));
});

test('a peer announcing the wrong protocol is dropped and redialed', async (t) => {
  let connections = 0;
  const server = await rawServer((s) => {
    connections++;
    s.write(PUSH_HEADER); // PUSH is not a valid peer for PUSH
  });
  t.after(() => server.close());
  const push = new PushSocket(`tcp://127.0.0.1:${server.port}`, {
    reconnectMinMs: 10,
    reconnectMaxMs: 20,
  });
  t.after(() => push.close());
  while (push.stats.connectFailures < 3) await delay(10);
  assert.equal(push.stats.connects, 0);
  assert.ok(connections >= 3);
});

test('reconnects after the PULL side restarts and delivers what was queued meanwhile', async (t) => {
  const pull1 = await boundPull();
  const port = pull1.port;
  const url = pull1.url;
  const push = new PushSocket(url, { reconnectMinMs: 20, reconnectMaxMs: 100 });
  t.after(() => push.close());
  const first = collect(pull1, 1);
  await push.send(Buffer.from('before'));
  assert.equal((await first)[0]?.toString(), 'before');

  const disconnected = once(push, 'disconnect');
  await pull1.close();
  await disconnected;
  assert.equal(push.connected, false);
  const queued = push.send(Buffer.from('during'));
  assert.equal(push.stats.queued, 1);

  const pull2 = new PullSocket();
  await pull2.bind(`tcp://127.0.0.1:${port}`);
  t.after(() => pull2.close());
  const second = collect(pull2, 2);
  await queued;
  await push.send(Buffer.from('after'));
  assert.deepEqual(
    (await second).map((b) => b.toString()),
    ['during', 'after'],
  );
  assert.equal(push.stats.connects, 2);
});

test('queue is bounded while disconnected: the newest send is rejected and counted', async (t) => {
  const push = new PushSocket(`tcp://127.0.0.1:${await deadPort()}`, {
    maxQueue: 3,
    reconnectMinMs: 50,
  });
  const pending = [1, 2, 3].map((n) =>
    push.send(Buffer.from([n])).then(
      () => 'sent',
      (e: { code: string }) => e.code,
    ),
  );
  await assert.rejects(push.send(Buffer.from([4])), { code: 'sp_queue_full' });
  assert.equal(push.stats.rejected, 1);
  assert.equal(push.stats.queued, 3);
  await push.close();
  assert.deepEqual(await Promise.all(pending), ['sp_closed', 'sp_closed', 'sp_closed']);
  await assert.rejects(push.send(Buffer.from([5])), { code: 'sp_closed' });
  t.diagnostic(`connect failures: ${push.stats.connectFailures}`);
});

test('byte bound, message size bound and send timeout', async (t) => {
  const push = new PushSocket(`tcp://127.0.0.1:${await deadPort()}`, {
    maxQueueBytes: 10,
    maxMessageSize: 8,
  });
  t.after(() => push.close());
  await assert.rejects(push.send(Buffer.alloc(9)), { code: 'sp_message_too_large' });
  const a = push.send(Buffer.alloc(8), { timeoutMs: 30 });
  await assert.rejects(push.send(Buffer.alloc(3)), { code: 'sp_queue_full' });
  await assert.rejects(a, { code: 'sp_send_timeout' });
  assert.equal(push.stats.timedOut, 1);
  assert.equal(push.stats.queued, 0);
  assert.equal(push.stats.queuedBytes, 0);
});

test('a peer that never reads fills the bounded queue instead of memory', async (t) => {
  const server = await rawServer((s) => {
    s.write(PULL_HEADER);
    s.pause(); // never reads
  });
  t.after(() => server.close());
  const push = new PushSocket(`tcp://127.0.0.1:${server.port}`, { maxQueue: 4 });
  t.after(() => push.close());
  await push.whenConnected();
  const chunk = Buffer.alloc(256 * 1024, 1);
  const outcomes: Promise<string>[] = [];
  let attempts = 0;
  while (push.stats.rejected === 0 && attempts < 400) {
    attempts++;
    outcomes.push(
      push.send(chunk).then(
        () => 'sent',
        (e: { code: string }) => e.code,
      ),
    );
    await delay(2);
  }
  assert.equal(push.stats.rejected, 1, 'a send was refused once the socket stopped draining');
  assert.equal(push.stats.queued, 4);
  assert.ok(push.stats.sent < attempts);
  await push.close();
  const codes = await Promise.all(outcomes);
  assert.equal(codes.filter((c) => c === 'sp_queue_full').length, 1);
  assert.equal(codes.filter((c) => c === 'sp_closed').length, 4);
  t.diagnostic(`written before the peer's window filled: ${push.stats.sent} x 256 KiB`);
});
