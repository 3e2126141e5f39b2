import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Etcd3 } from 'etcd3';
import { encodeMsgpack } from '@xmidt/wrp';
import { createCaduceus, type Caduceus } from '../src/service.js';
import {
  http,
  notify,
  register,
  sleep,
  startReceiver,
  testConfig,
  type Receiver,
} from './helpers.js';
import { startEtcd, type TestEtcd, waitFor } from '@xmidt/testkit';

let etcd: TestEtcd;
let a: Caduceus;
let b: Caduceus;
let baseA: string;
let baseB: string;
let rx: Receiver;
const prefix = `/caduceus-test-${randomUUID()}`;

before(async () => {
  etcd = await startEtcd();
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
  await waitFor(() => b.store.list().length === 1, { what: 'B sees it' });
  await notify(baseA, ev('via-a'));
  await notify(baseB, ev('via-b'));
  await waitFor(() => txs().includes('via-a') && txs().includes('via-b'), {
    what: 'both delivered',
  });
  assert.ok(rx.received.every((r) => r.signatureOk));

  // replacement on B is seen by A
  assert.equal(
    (await register(baseB, { ...hook, events: ['nothing-matches-this'] }, PIDS)).status,
    200,
  );
  await waitFor(() => a.store.list()[0]?.webhook.events[0] === 'nothing-matches-this', {
    what: 'A sees the replacement',
  });
  await register(baseB, hook, PIDS);
  await waitFor(() => a.store.list()[0]?.webhook.events[0] === '.*', { what: 'A sees it back' });

  const del = await http(`${baseB}/api/v3/hook?url=${encodeURIComponent(url)}`, {
    method: 'DELETE',
  });
  assert.equal(del.status, 200);
  await waitFor(() => a.store.list().length === 0 && a.senders.size === 0, {
    what: 'A sees the deletion',
  });
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
  await waitFor(() => b.store.list().some((s) => s.webhook.config.url === url), {
    what: 'B sees it',
  });
  const client = new Etcd3({ hosts: [etcd.endpoint] });
  try {
    const keys = await client.getAll().prefix(`${prefix}/webhooks/`).keys();
    assert.equal(keys.length, 1);
    await waitFor(
      async () => (await client.getAll().prefix(`${prefix}/webhooks/`).keys()).length === 0,
      { what: 'key expired in etcd', timeoutMs: 10_000 },
    );
  } finally {
    client.close();
  }
  await waitFor(() => a.store.list().length === 0 && b.store.list().length === 0, {
    what: 'gone on both',
  });
});

test('the watch reconnects after etcd restarts', async () => {
  await etcd.restart();
  const url = `${rx.url}/after-restart`;
  await waitFor(
    async () =>
      (await register(baseA, { config: { url }, events: ['.*'], duration: '5m' }, PIDS)).status ===
      200,
    { what: 'registration accepted', timeoutMs: 15_000 },
  );
  await waitFor(() => b.store.list().some((s) => s.webhook.config.url === url), {
    what: 'B sees it after the restart',
    timeoutMs: 15_000,
  });
});
