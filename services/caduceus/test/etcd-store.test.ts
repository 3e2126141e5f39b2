import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Etcd3 } from 'etcd3';
import { encodeMsgpack } from '../src/wrp.js';
import { createCaduceus, type Caduceus } from '../src/service.js';
import {
  http,
  notify,
  register,
  sleep,
  startReceiver,
  testConfig,
  waitFor,
  type Receiver,
} from './helpers.js';
import { startTestEtcd, type TestEtcd } from './etcd.js';

let etcd: TestEtcd;
let a: Caduceus;
let b: Caduceus;
let baseA: string;
let baseB: string;
let rx: Receiver;
const prefix = `/caduceus-test-${randomUUID()}`;

before(async () => {
  etcd = await startTestEtcd();
  const cfg = testConfig({ store: { type: 'etcd', etcd: { endpoints: [etcd.endpoint], prefix } } });
  a = createCaduceus(cfg, { shutdownTimeoutMs: 2000 });
  b = createCaduceus(cfg, { shutdownTimeoutMs: 2000 });
  baseA = `http://127.0.0.1:${(await a.start()).primaryPort}`;
  baseB = `http://127.0.0.1:${(await b.start()).primaryPort}`;
  rx = await startReceiver({ secrets: ['shared'] });
});
after(async () => {
  await a?.stop();
  await b?.stop();
  await rx?.close();
  await etcd?.stop();
});

const PIDS = { 'x-xmidt-partner-ids': 'comcast' };
const ev = (tx: string) =>
  encodeMsgpack({
    msgType: 4,
    source: 'mac:112233445566',
    dest: 'event:device-status/mac:112233445566/online',
    transactionUuid: tx,
    partnerIds: ['comcast'],
    payload: new Uint8Array([1]),
  });
const txs = () => rx.received.map((r) => String(r.headers['x-webpa-transaction-id']));

test('one registration: both instances deliver; a deletion stops both', async () => {
  const url = `${rx.url}/shared`;
  const hook = { config: { url, secret: 'shared' }, events: ['.*'], duration: '5m' };
  assert.equal((await register(baseA, hook, PIDS)).status, 200);
  await waitFor('B sees it', () => b.store.list().length === 1);
  await notify(baseA, ev('via-a'));
  await notify(baseB, ev('via-b'));
  await waitFor('both delivered', () => txs().includes('via-a') && txs().includes('via-b'));
  assert.ok(rx.received.every((r) => r.signatureOk));

  // replacement on B is seen by A
  assert.equal(
    (await register(baseB, { ...hook, events: ['nothing-matches-this'] }, PIDS)).status,
    200,
  );
  await waitFor(
    'A sees the replacement',
    () => a.store.list()[0]?.webhook.events[0] === 'nothing-matches-this',
  );
  await register(baseB, hook, PIDS);
  await waitFor('A sees it back', () => a.store.list()[0]?.webhook.events[0] === '.*');

  const del = await http(`${baseB}/api/v3/hook?url=${encodeURIComponent(url)}`, {
    method: 'DELETE',
  });
  assert.equal(del.status, 200);
  await waitFor('A sees the deletion', () => a.store.list().length === 0 && a.senders.size === 0);
  const n = rx.received.length;
  await notify(baseA, ev('after-a'));
  await notify(baseB, ev('after-b'));
  await sleep(300);
  assert.equal(rx.received.length, n);
});

test('expiry happens in etcd (lease) and reaches every instance', async () => {
  const url = `${rx.url}/short`;
  assert.equal(
    (await register(baseA, { config: { url }, events: ['.*'], duration: '2s' }, PIDS)).status,
    200,
  );
  await waitFor('B sees it', () => b.store.list().some((s) => s.webhook.config.url === url));
  const client = new Etcd3({ hosts: [etcd.endpoint] });
  try {
    const keys = await client.getAll().prefix(`${prefix}/webhooks/`).keys();
    assert.equal(keys.length, 1);
    await waitFor(
      'key expired in etcd',
      async () => (await client.getAll().prefix(`${prefix}/webhooks/`).keys()).length === 0,
      10_000,
    );
  } finally {
    client.close();
  }
  await waitFor('gone on both', () => a.store.list().length === 0 && b.store.list().length === 0);
});

test('the watch reconnects after etcd restarts', async () => {
  await etcd.restart();
  const url = `${rx.url}/after-restart`;
  await waitFor(
    'registration accepted',
    async () =>
      (await register(baseA, { config: { url }, events: ['.*'], duration: '5m' }, PIDS)).status ===
      200,
    15_000,
  );
  await waitFor(
    'B sees it after the restart',
    () => b.store.list().some((s) => s.webhook.config.url === url),
    15_000,
  );
});
