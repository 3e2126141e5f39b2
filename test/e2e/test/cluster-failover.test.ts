// `xmidt cluster` (etcd discovery, 3 Talaria, 2 Caduceus sharing the webhook store): one
// Talaria is killed with SIGKILL; its devices come back on the others, requests reach them
// again, and no webhook registration is lost.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@xmidt/testkit';
import { MessageType } from '@xmidt/wrp';
import { listHookUrls, registerHook, sendThroughScytale } from '../src/api.js';
import { TestDevice } from '../src/devices.js';
import { startSystem, type XmidtSystem } from '../src/harness.js';
import { alive } from '../src/processes.js';
import { WebhookReceiver } from '../src/webhook-receiver.js';

const DEVICES = 8;

describe('xmidt cluster: a Talaria dies', () => {
  let system: XmidtSystem;
  let receiver: WebhookReceiver;
  const devices: TestDevice[] = [];

  before(async () => {
    system = await startSystem({
      mode: 'cluster',
      noRestart: true,
      // The cluster refuses loopback webhook targets by default; the receiver is local.
      env: {
        CADUCEUS_WEBHOOK_VALIDATION_URL_ALLOW_LOOPBACK: 'true',
        CADUCEUS_WEBHOOK_VALIDATION_URL_ALLOW_IP: 'true',
      },
    });
    receiver = await WebhookReceiver.start();
  });

  after(async () => {
    await Promise.all(devices.map((d) => d.stop()));
    await receiver?.close();
    await system?.stop();
  });

  /** Sends a request through Scytale and returns the device's echo text, or the status. */
  async function echo(device: TestDevice, text: string): Promise<string> {
    const res = await sendThroughScytale(system.instance('scytale').url, system.authorization, {
      msgType: MessageType.SimpleRequestResponse,
      source: 'dns:e2e-caller',
      dest: `${device.id}/e2e`,
      transactionUuid: randomUUID(),
      payload: Buffer.from(text, 'utf8'),
    });
    if (res.status !== 200 || res.reply === undefined) return `HTTP ${res.status}`;
    return Buffer.from(res.reply.payload ?? []).toString('utf8');
  }

  test('the cluster has 3 Talaria, 2 Caduceus and one of the rest', () => {
    assert.equal(system.instances('talaria').length, 3);
    assert.equal(system.instances('caduceus').length, 2);
    for (const name of ['petasos', 'scytale', 'themis']) {
      assert.equal(system.instances(name).length, 1, name);
    }
  });

  test('a webhook registered at one Caduceus is listed by the other', async () => {
    const target = `${receiver.url}/cluster-hook`;
    const reg = await registerHook(
      system.instance('caduceus', 0).url,
      system.authorization,
      {
        config: { url: target, content_type: 'application/msgpack', secret: 'cluster-secret' },
        events: ['device-status/.*/online'],
        duration: '10m',
      },
      ['e2e-partner'],
    );
    assert.equal(reg.status, 200, reg.body.toString());
    for (const caduceus of system.instances('caduceus')) {
      await waitFor(
        async () => (await listHookUrls(caduceus.url, system.authorization)).includes(target),
        {
          timeoutMs: 15_000,
          intervalMs: 200,
          what: `the registration listed by ${caduceus.url}`,
        },
      );
    }
  });

  test('after kill -9 of a Talaria its devices reconnect to the others and are reachable', async () => {
    const talariaUrls = system.instances('talaria').map((t) => t.url);
    for (let i = 0; i < DEVICES; i++) {
      devices.push(
        new TestDevice({
          url: system.instance('petasos').url,
          backoffUnitMs: 100,
          backoffMaxExponent: 3,
          token: { issuerUrl: system.instance('themis').issuer!, partnerId: 'e2e-partner' },
        }),
      );
    }
    await Promise.all(devices.map((d) => d.connect()));
    for (const d of devices) {
      assert.ok(
        d.talariaUrl !== undefined && talariaUrls.includes(d.talariaUrl),
        `${d.id} is on a Talaria of system.json (${d.talariaUrl ?? 'none'} in ${talariaUrls.join(' ')})`,
      );
      assert.equal(await echo(d, `hello ${d.id}`), `echo:hello ${d.id}`);
    }

    // The Talaria holding the most devices dies without any goodbye.
    const counts = new Map<string, number>();
    for (const d of devices) counts.set(d.talariaUrl!, (counts.get(d.talariaUrl!) ?? 0) + 1);
    const [victimUrl] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]!;
    const victim = system.instances('talaria').find((t) => t.url === victimUrl)!;
    const moved = devices.filter((d) => d.talariaUrl === victimUrl);
    const stayed = devices.filter((d) => d.talariaUrl !== victimUrl);
    const onlineBefore = new Map(moved.map((d) => [d, d.onlineCount]));
    process.kill(victim.pid, 'SIGKILL');
    await waitFor(() => !alive(victim.pid), { timeoutMs: 5000, what: 'the Talaria to die' });

    // Each moved device is back, on a surviving Talaria (the ring follows etcd), and the
    // online event of its new connection reaches the webhook.
    for (const d of moved) {
      await d.waitOnlineCount((onlineBefore.get(d) ?? 0) + 1, 60_000);
      assert.notEqual(d.talariaUrl, victimUrl, `${d.id} moved off the dead Talaria`);
      assert.ok(talariaUrls.includes(d.talariaUrl!), `${d.id} on ${d.talariaUrl}`);
    }
    // Scytale's ring follows too: requests reach every device again.
    for (const d of devices) {
      const text = `again ${d.id}`;
      await waitFor(async () => (await echo(d, text)) === `echo:${text}`, {
        timeoutMs: 30_000,
        intervalMs: 250,
        what: `${d.id} reachable through Scytale after the failover`,
      });
    }
    // Devices on the survivors were not moved by the failover.
    for (const d of stayed) assert.equal(d.onlineCount, 1, `${d.id} stayed connected`);
    for (const d of moved) {
      const online = receiver.withDest(new RegExp(`^event:device-status/${d.id}/online$`));
      await waitFor(
        () => receiver.withDest(new RegExp(`^event:device-status/${d.id}/online$`)).length >= 2,
        { timeoutMs: 20_000, what: `two online events of ${d.id} (got ${online.length})` },
      );
    }

    // No registration was lost: both Caduceus still list it.
    for (const caduceus of system.instances('caduceus')) {
      const urls = await listHookUrls(caduceus.url, system.authorization);
      assert.ok(
        urls.includes(`${receiver.url}/cluster-hook`),
        `${caduceus.url}: ${urls.join(' ')}`,
      );
    }
  });
});
