import { test, after } from 'node:test';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import assert from 'node:assert/strict';
import { decodeMsgpack, encodeMsgpack, type Message } from '@xmidt/wrp';
import { createCaduceus, type Caduceus } from '../src/service.js';
import { OutboundEvent } from '../src/outbound-event.js';
import { CUT_OFF_TEXT } from '../src/sender.js';
import { verifySignature } from '../src/signature.js';
import { webhookId } from '../src/webhook.js';
import { notify, register, sleep, startReceiver, testConfig, type Receiver } from './helpers.js';
import { waitFor } from '@xmidt/testkit';

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

async function caduceus(over: Record<string, unknown> = {}) {
  const c = createCaduceus(testConfig(over), { shutdownTimeoutMs: 2000 });
  const base = `http://127.0.0.1:${(await c.start()).primaryPort}`;
  cleanup.push(() => c.stop());
  return { c, base };
}

async function receiver(opts: Parameters<typeof startReceiver>[0] = {}): Promise<Receiver> {
  const r = await startReceiver(opts);
  cleanup.push(() => r.close());
  return r;
}

const PIDS = { 'x-xmidt-partner-ids': 'comcast' };

function event(over: Partial<Message> = {}): Buffer {
  return encodeMsgpack({
    msgType: 4,
    source: 'mac:112233445566/emu',
    dest: 'event:device-status/mac:112233445566/online',
    partnerIds: ['comcast'],
    contentType: 'application/json',
    transactionUuid: 'tx-1',
    payload: Buffer.from('{"hello":"world"}'),
    ...over,
  });
}

async function metricValue(c: Caduceus, name: string, labels: Record<string, string> = {}) {
  const text = await c.runtime.registry.metrics();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

test('signed deliveries: msgpack body, payload body, and every header', async () => {
  const { base } = await caduceus();
  const wrpRx = await receiver({ secrets: ['s3cret'] });
  const payloadRx = await receiver({ secrets: ['other'] });
  const plainRx = await receiver();
  const hook = (url: string, contentType: string, secret: string) => ({
    config: { url, content_type: contentType, secret },
    events: ['device-status/.*/online'],
    duration: 60,
  });
  assert.equal((await register(base, hook(`${wrpRx.url}/w`, 'wrp', 's3cret'), PIDS)).status, 200);
  assert.equal(
    (await register(base, hook(`${payloadRx.url}/p`, 'application/json', 'other'), PIDS)).status,
    200,
  );
  assert.equal((await register(base, hook(`${plainRx.url}/n`, '', ''), PIDS)).status, 200);

  assert.equal(
    (await notify(base, event({ transactionUuid: undefined, contentType: undefined }))).status,
    202,
  );
  await waitFor(
    () =>
      wrpRx.received.length === 1 &&
      payloadRx.received.length === 1 &&
      plainRx.received.length === 1,
    { what: 'deliveries' },
  );

  const w = wrpRx.received[0]!;
  assert.equal(w.signatureOk, true);
  assert.equal(w.path, '/w');
  assert.equal(w.headers['content-type'], 'application/msgpack');
  assert.match(String(w.headers['x-webpa-signature']), /^sha1=[0-9a-f]{40}$/);
  const msg = decodeMsgpack(w.body);
  assert.equal(msg.msgType, 4);
  assert.equal(msg.contentType, 'application/json'); // fixed at intake
  assert.match(msg.transactionUuid ?? '', /^[0-9a-f-]{36}$/);
  assert.deepEqual(Buffer.from(msg.payload ?? []), Buffer.from('{"hello":"world"}'));
  assert.equal(w.headers['x-webpa-event'], 'device-status/mac:112233445566/online');
  assert.equal(w.headers['x-webpa-device-id'], 'mac:112233445566');
  assert.equal(w.headers['x-webpa-device-name'], 'mac:112233445566');
  assert.equal(w.headers['x-webpa-source'], 'mac:112233445566/emu');
  assert.equal(w.headers['x-webpa-destination'], 'event:device-status/mac:112233445566/online');
  assert.equal(w.headers['x-webpa-transaction-id'], msg.transactionUuid);
  assert.equal(w.headers['x-xmidt-source'], 'mac:112233445566/emu');

  const p = payloadRx.received[0]!;
  assert.equal(p.signatureOk, true);
  assert.equal(p.body.toString(), '{"hello":"world"}');
  assert.equal(p.headers['content-type'], 'application/json');
  assert.equal(p.headers['x-webpa-event'], 'device-status/mac:112233445566/online');

  const n = plainRx.received[0]!;
  assert.equal(n.headers['x-webpa-signature'], undefined);
  assert.equal(n.body.toString(), '{"hello":"world"}');
});

test('one event, many webhooks: each delivery is signed with its own secret over its own body', async () => {
  const { base } = await caduceus();
  // one receiver per registration; secrets shared across webhooks and across body kinds
  const specs = [
    { name: 'wrp-a1', contentType: 'wrp', secret: 'alpha' },
    { name: 'wrp-a2', contentType: 'application/msgpack', secret: 'alpha' },
    { name: 'json-a', contentType: 'application/json', secret: 'alpha' },
    { name: 'wrp-b', contentType: 'wrp', secret: 'beta' },
    { name: 'json-b', contentType: 'application/json', secret: 'beta' },
    { name: 'wrp-none', contentType: 'wrp', secret: '' },
    { name: 'json-none', contentType: 'application/json', secret: '' },
  ];
  const rxs = new Map<string, Receiver>();
  for (const s of specs) {
    const rx = await receiver(s.secret ? { secrets: [s.secret] } : {});
    rxs.set(s.name, rx);
    const reg = {
      config: { url: `${rx.url}/${s.name}`, content_type: s.contentType, secret: s.secret },
      events: ['.*'],
      duration: 60,
    };
    assert.equal((await register(base, reg, PIDS)).status, 200);
  }
  for (let i = 0; i < 3; i++) {
    const payload = Buffer.from(JSON.stringify({ n: i }));
    assert.equal((await notify(base, event({ transactionUuid: `tx-${i}`, payload }))).status, 202);
  }
  await waitFor(() => [...rxs.values()].every((r) => r.received.length === 3), {
    what: 'three deliveries to every webhook',
  });
  const sig = (name: string, i: number) =>
    String(rxs.get(name)!.received[i]!.headers['x-webpa-signature']);
  for (const s of specs) {
    const got = rxs.get(s.name)!.received;
    got.forEach((r, i) => {
      // the receiver checked the signature against this webhook's secret only
      assert.equal(r.signatureOk, true, `${s.name} #${i}`);
      const wrp = s.contentType !== 'application/json';
      assert.equal(r.headers['content-type'], wrp ? 'application/msgpack' : 'application/json');
      if (wrp) assert.equal(decodeMsgpack(r.body).transactionUuid, `tx-${i}`);
      else assert.equal(r.body.toString(), JSON.stringify({ n: i }));
      assert.equal(r.headers['x-webpa-transaction-id'], `tx-${i}`);
      if (s.secret === '') assert.equal(r.headers['x-webpa-signature'], undefined);
    });
  }
  for (let i = 0; i < 3; i++) {
    // same secret and same body: the same signature; another body or secret: another one
    assert.equal(sig('wrp-a1', i), sig('wrp-a2', i));
    assert.notEqual(sig('wrp-a1', i), sig('json-a', i));
    assert.notEqual(sig('wrp-a1', i), sig('wrp-b', i));
    assert.notEqual(sig('json-a', i), sig('json-b', i));
  }
});

test('a backlog is delivered in full, each event once, never more than numWorkersPerSender at once', async () => {
  const { base } = await caduceus({ sender: { numWorkersPerSender: 3 } });
  let open = 0;
  let most = 0;
  const order: string[] = [];
  const server = createServer((req, res) => {
    open++;
    most = Math.max(most, open);
    order.push(String(req.headers['x-webpa-transaction-id']));
    req.resume();
    setTimeout(() => {
      open--;
      res.end();
    }, 5);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/backlog`;
  const reg = { config: { url, content_type: 'wrp', secret: 'k' }, events: ['.*'], duration: 60 };
  assert.equal((await register(base, reg, PIDS)).status, 200);
  const n = 40;
  for (let i = 0; i < n; i++) {
    assert.equal((await notify(base, event({ transactionUuid: `tx-${i}` }))).status, 202);
  }
  await waitFor(() => order.length === n, { what: 'the whole backlog' });
  assert.ok(most <= 3, `at most 3 deliveries at once (saw ${most})`);
  assert.ok(most >= 2, `deliveries overlap (saw ${most})`);
  // each event exactly once
  assert.deepEqual([...order].sort(), Array.from({ length: n }, (_, i) => `tx-${i}`).sort());
});

test('matching: partner ids, events and device matcher decide who receives', async () => {
  const { base } = await caduceus();
  const all = await receiver();
  const otherPartner = await receiver();
  const offlineOnly = await receiver();
  const otherDevice = await receiver();
  const reg = (url: string, extra: Record<string, unknown>, pids = 'comcast') =>
    register(
      base,
      { config: { url }, events: ['.*'], duration: 60, ...extra },
      { 'x-xmidt-partner-ids': pids },
    );
  await reg(all.url, {});
  await reg(otherPartner.url, {}, 'sky');
  await reg(offlineOnly.url, { events: ['/offline$'] });
  await reg(otherDevice.url, { matcher: { device_id: ['mac:aabbccddeeff'] } });
  for (let i = 0; i < 5; i++) assert.equal((await notify(base, event())).status, 202);
  await waitFor(() => all.received.length === 5, { what: '5 deliveries' });
  await sleep(200);
  assert.equal(otherPartner.received.length, 0);
  assert.equal(offlineOnly.received.length, 0);
  assert.equal(otherDevice.received.length, 0);
  await notify(
    base,
    event({ dest: 'event:device-status/mac:aabbccddeeff/offline', partnerIds: ['sky', 'comcast'] }),
  );
  await waitFor(
    () =>
      offlineOnly.received.length === 1 &&
      otherDevice.received.length === 1 &&
      otherPartner.received.length === 1,
    { what: 'matches' },
  );
});

test('alt_urls: deliveries rotate over the alternative URLs', async () => {
  const { base } = await caduceus();
  const a = await receiver();
  const b = await receiver();
  await register(
    base,
    {
      config: { url: `${a.url}/primary`, alt_urls: [`${a.url}/alt`, `${b.url}/alt`] },
      events: ['.*'],
      duration: 60,
    },
    PIDS,
  );
  for (let i = 0; i < 10; i++) await notify(base, event());
  await waitFor(() => a.received.length + b.received.length === 10, { what: '10 deliveries' });
  assert.ok(a.received.length > 0 && b.received.length > 0);
  assert.ok(a.received.every((r) => r.path === '/alt'));
});

test('retries with backoff on 503/429/408 then success; no retry on 400', async () => {
  const { c, base } = await caduceus({ sender: { deliveryRetries: 3 } });
  const flaky = await receiver({
    secrets: ['k'],
    status: (n) => [503, 429, 408][n] ?? 200,
  });
  const refusing = await receiver({ status: () => 400 });
  await register(
    base,
    { config: { url: flaky.url, secret: 'k' }, events: ['.*'], duration: 60 },
    PIDS,
  );
  await register(base, { config: { url: refusing.url }, events: ['.*'], duration: 60 }, PIDS);
  await notify(base, event());
  await waitFor(() => flaky.received.length === 1, { what: 'delivered after retries' });
  assert.equal(flaky.attempts, 4);
  assert.equal(flaky.received[0]!.signatureOk, true);
  await waitFor(() => refusing.attempts === 1, { what: 'refused once' });
  await sleep(150);
  assert.equal(refusing.attempts, 1);
  assert.equal(await metricValue(c, 'xmidt_caduceus_delivery_retry_count', { url: flaky.url }), 3);
  assert.equal(
    await metricValue(c, 'xmidt_caduceus_delivery_count', { url: flaky.url, code: '200' }),
    1,
  );
  assert.equal(
    await metricValue(c, 'xmidt_caduceus_delivery_count', { url: refusing.url, code: '400' }),
    1,
  );
});

test('a transport failure is retried, then counted as dropped', async () => {
  const { c, base } = await caduceus({ sender: { deliveryRetries: 2 } });
  const gone = await receiver();
  const url = gone.url;
  await gone.close();
  await register(base, { config: { url }, events: ['.*'], duration: 60 }, PIDS);
  await notify(base, event());
  await waitFor(
    async () =>
      (await metricValue(c, 'xmidt_caduceus_delivery_count', { url, code: 'message_dropped' })) ===
      1,
    { what: 'dropped' },
  );
  assert.equal(await metricValue(c, 'xmidt_caduceus_delivery_retry_count', { url }), 2);
  assert.equal(
    await metricValue(c, 'xmidt_caduceus_slow_consumer_dropped_message_count', {
      url,
      reason: 'op_error',
    }),
    1,
  );
});

test('a slow receiver is cut off, told at failure_url (signed), and served again later', async () => {
  const { c, base } = await caduceus({
    sender: {
      numWorkersPerSender: 1,
      queueSizePerSender: 3,
      cutOffPeriod: '700ms',
      deliveryRetries: 0,
    },
  });
  const slow = await receiver({ delayMs: 150 });
  const told = await receiver({ secrets: ['sekrit'] });
  await register(
    base,
    {
      config: { url: slow.url, content_type: 'wrp', secret: 'sekrit' },
      failure_url: `${told.url}/failure`,
      events: ['.*'],
      duration: 60,
    },
    PIDS,
  );
  await Promise.all(Array.from({ length: 20 }, () => notify(base, event())));
  await waitFor(() => told.received.length === 1, { what: 'cut-off notice' });
  const notice = told.received[0]!;
  assert.equal(notice.signatureOk, true);
  assert.equal(notice.headers['content-type'], 'application/json');
  const body = JSON.parse(notice.body.toString()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body), [
    'text',
    'webhook_registration',
    'cut_off_period',
    'queue_size',
    'worker_count',
  ]);
  assert.equal(body['text'], CUT_OFF_TEXT);
  assert.equal(body['cut_off_period'], '700ms');
  assert.equal(body['queue_size'], 3);
  assert.equal(body['worker_count'], 1);
  const regn = body['webhook_registration'] as {
    PartnerIDs: string[];
    Webhook: { config: { secret: string; url: string } };
  };
  assert.deepEqual(Object.keys(regn), ['PartnerIDs', 'Webhook']);
  assert.deepEqual(regn.PartnerIDs, ['comcast']);
  assert.equal(regn.Webhook.config.secret, 'XxxxxX');
  assert.equal(regn.Webhook.config.url, slow.url);
  assert.ok(!notice.body.toString().includes('sekrit'));
  assert.equal(verifySignature(notice.headers, notice.body, ['sekrit']), true);
  assert.equal(
    await metricValue(c, 'xmidt_caduceus_slow_consumer_cut_off_count', { url: slow.url }),
    1,
  );
  assert.ok(
    (await metricValue(c, 'xmidt_caduceus_slow_consumer_dropped_message_count', {
      url: slow.url,
      reason: 'queue_full',
    })) >= 1,
  );

  // delivery resumes by itself after the cut-off period
  await sleep(800);
  const before = slow.received.length;
  await notify(base, event({ transactionUuid: 'after-cut-off' }));
  await waitFor(
    () => slow.received.some((r) => decodeMsgpack(r.body).transactionUuid === 'after-cut-off'),
    { what: 'resumed' },
  );
  assert.ok(slow.received.length > before);
});

test('expiry: a registration stops receiving once its lifetime is over', async () => {
  const { c, base } = await caduceus();
  const rx = await receiver();
  assert.equal(
    (await register(base, { config: { url: rx.url }, events: ['.*'], duration: '800ms' }, PIDS))
      .status,
    200,
  );
  await notify(base, event());
  await waitFor(() => rx.received.length === 1, { what: 'delivered' });
  await waitFor(() => c.store.list().length === 0 && c.senders.size === 0, {
    what: 'expired',
    timeoutMs: 5000,
  });
  await notify(base, event());
  await sleep(200);
  assert.equal(rx.received.length, 1);
});

test('evil regexes do not stall delivery (RE2 semantics)', async () => {
  const { base } = await caduceus({ sender: { queueSizePerSender: 5000 } });
  const evil = await receiver();
  const matching = await receiver();
  await register(
    base,
    {
      config: { url: evil.url },
      events: ['(a+)+$'],
      matcher: { device_id: ['(x+x+)+y'] },
      duration: 60,
    },
    PIDS,
  );
  await register(
    base,
    { config: { url: matching.url }, events: ['^(a|aa)+!$', '(a+)+!'], duration: 60 },
    PIDS,
  );
  const bytes = event({ dest: `event:${'a'.repeat(40)}!`, source: `mac:${'x'.repeat(40)}` });
  const N = 200;
  let sent = 0;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (sent < N) {
        sent++;
        assert.equal((await notify(base, bytes)).status, 202);
      }
    }),
  );
  await waitFor(() => matching.received.length === N, {
    what: `${N} deliveries`,
    timeoutMs: 30_000,
  });
  assert.equal(evil.received.length, 0);
});

test('delivery-time guard: stored loopback targets are not contacted when loopback is refused', async () => {
  const { c, base } = await caduceus({
    webhook: { validation: { url: { allowLoopback: false, allowPrivate: false, allowIP: true } } },
    sender: { deliveryRetries: 0 },
  });
  const rx = await receiver();
  const byName = rx.url.replace('127.0.0.1', 'localhost');
  // bypass registration checks, as a record written by another instance could
  for (const url of [rx.url, byName]) {
    await c.store.put({
      id: webhookId(url),
      partnerIds: ['comcast'],
      owner: '',
      webhook: {
        registeredFromAddress: '',
        config: { url, contentType: 'wrp', secret: '', altUrls: [] },
        failureUrl: '',
        events: ['.*'],
        matcher: { deviceId: ['.*'] },
        durationMs: 60_000,
        untilMs: Date.now() + 60_000,
      },
    });
  }
  await notify(base, event());
  await waitFor(
    async () =>
      (await metricValue(c, 'xmidt_caduceus_delivery_count', { code: 'message_dropped' })) === 2,
    { what: 'both dropped' },
  );
  assert.equal(rx.attempts, 0);
  assert.equal(
    await metricValue(c, 'xmidt_caduceus_slow_consumer_dropped_message_count', {
      url: rx.url,
      reason: 'invalid_address',
    }),
    1,
  );

  // a long queue of refused deliveries is worked off one answer at a time, every one counted
  const many = 5_000; // below the default queue size (no cut-off)
  const sender = c.senders.get(webhookId(rx.url))!;
  const ev = new OutboundEvent(decodeMsgpack(event()));
  for (let i = 0; i < many; i++) sender.offer(ev);
  await waitFor(
    async () =>
      (await metricValue(c, 'xmidt_caduceus_slow_consumer_dropped_message_count', {
        url: rx.url,
        reason: 'invalid_address',
      })) ===
      1 + many,
    { what: 'every refused delivery counted' },
  );
  assert.equal(sender.queueLength, 0);
  assert.equal(sender.inFlight, 0);
  assert.equal(rx.attempts, 0);
});
