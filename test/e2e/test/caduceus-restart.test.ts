// Caduceus goes down and comes back (`xmidt start --no-restart`, then the same command line
// the CLI used, by hand): registrations survive (file store), an event sent while it was down
// is retried by Talaria and delivered, and an event whose retries run out is counted as dropped
// in Talaria's metrics.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@xmidt/testkit';
import { answers200, listHookUrls, metricSum, registerHook, scrapeMetrics } from '../src/api.js';
import { TestDevice } from '../src/devices.js';
import { startSystem, type XmidtSystem } from '../src/harness.js';
import { alive, ManagedProcess } from '../src/processes.js';
import { webpaSignature, WebhookReceiver } from '../src/webhook-receiver.js';

const DROPPED = 'xmidt_talaria_outbound_dropped_messages';
const RETRIES = 'xmidt_talaria_outbound_retries';

describe('Caduceus restart', () => {
  let system: XmidtSystem;
  let receiver: WebhookReceiver;
  let device: TestDevice;
  let restarted: ManagedProcess | undefined;

  before(async () => {
    system = await startSystem({
      mode: 'start',
      noRestart: true,
      // Talaria's retry bounds for events: 4 retries, 1 s doubling (about 15 s in all), so
      // that a Caduceus started again by hand is back within them.
      env: {
        TALARIA_DEVICE_OUTBOUND_RETRIES: '4',
        TALARIA_DEVICE_OUTBOUND_RETRY_BACKOFF: '1s',
        TALARIA_DEVICE_OUTBOUND_MAX_RETRY_BACKOFF: '8s',
      },
    });
    receiver = await WebhookReceiver.start();
    device = new TestDevice({
      url: system.instance('petasos').url,
      token: { issuerUrl: system.instance('themis').issuer!, partnerId: 'e2e-partner' },
    });
  });

  after(async () => {
    await device?.stop();
    await restarted?.stop(5000);
    await receiver?.close();
    await system?.stop();
  });

  test('registrations survive, events are retried while it is down, and drops are counted', async () => {
    const caduceus = system.instance('caduceus');
    const talaria = system.instance('talaria');
    const secret = `s-${randomUUID()}`;
    const target = `${receiver.url}/restart-hook`;
    const reg = await registerHook(
      caduceus.url,
      system.authorization,
      {
        config: { url: target, content_type: 'application/msgpack', secret },
        events: ['e2e-restart/.*'],
        matcher: { device_id: [device.id] },
        duration: '10m',
      },
      ['e2e-partner'],
    );
    assert.equal(reg.status, 200, reg.body.toString());
    await device.connect();
    const event = (name: string): boolean =>
      device.client.sendEvent(
        `event:e2e-restart/${device.id}/${name}`,
        Buffer.from(JSON.stringify({ name }), 'utf8'),
      );
    assert.ok(event('before'));
    await receiver.waitForEvent(/\/before$/);

    // Caduceus dies (no goodbye); Talaria's deliveries to it fail from now on.
    process.kill(caduceus.pid, 'SIGKILL');
    await waitFor(() => !alive(caduceus.pid), { timeoutMs: 5000, what: 'Caduceus to die' });
    const metricsBefore = await scrapeMetrics(talaria.admin);
    const droppedBefore = metricSum(metricsBefore, DROPPED);
    const retriesBefore = metricSum(metricsBefore, RETRIES);

    // An event sent now outlives Talaria's retries (Caduceus stays down): dropped, counted.
    assert.ok(event('lost'));
    const droppedAfter = await waitFor(
      async () => {
        const n = metricSum(await scrapeMetrics(talaria.admin), DROPPED);
        return n > droppedBefore ? n : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500, what: `${DROPPED} to grow` },
    );
    assert.equal(droppedAfter, droppedBefore + 1, 'exactly the one event was dropped');
    assert.ok(
      metricSum(await scrapeMetrics(talaria.admin), RETRIES) > retriesBefore,
      'Talaria retried before dropping',
    );

    // An event sent while it is down, with Caduceus back within Talaria's retry window:
    // delivered by a retry. Caduceus is started once the first attempt has failed.
    const retriesAtDrop = metricSum(await scrapeMetrics(talaria.admin), RETRIES);
    assert.ok(event('retried'));
    await waitFor(
      async () => metricSum(await scrapeMetrics(talaria.admin), RETRIES) > retriesAtDrop,
      { timeoutMs: 20_000, intervalMs: 100, what: 'a retry of the second event' },
    );
    restarted = new ManagedProcess({
      args: ['--import', 'tsx', 'services/caduceus/src/main.ts', '--config', caduceus.config],
    });
    await waitFor(() => answers200(`${caduceus.admin}/ready`), {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: `the restarted Caduceus ready (output: ${restarted.output()})`,
    });

    // The registration is still there after the restart …
    assert.ok((await listHookUrls(caduceus.url, system.authorization)).includes(target));
    // … and the retried event arrives, signed.
    const retried = await receiver.waitForEvent(/\/retried$/, 60_000);
    assert.equal(retried.headers['x-webpa-signature'], webpaSignature(secret, retried.body));
    // The dropped one never does, and an event sent now is delivered as usual.
    assert.ok(event('after'));
    await receiver.waitForEvent(/\/after$/);
    assert.equal(receiver.withDest(/\/lost$/).length, 0, 'the dropped event was not delivered');
    assert.equal(
      metricSum(await scrapeMetrics(talaria.admin), DROPPED),
      droppedAfter,
      'nothing else was dropped',
    );
  });
});
