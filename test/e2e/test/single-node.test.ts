// The all-in-one system (`xmidt start`): a request from an API caller through Scytale to a
// local service behind our Parodus agent, and device events delivered to a signed webhook.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { LibParodus } from '@xmidt/libparodus';
import { waitFor } from '@xmidt/testkit';
import { MessageType, type Message } from '@xmidt/wrp';
import { registerHook, sendThroughScytale } from '../src/api.js';
import { startParodus, TestDevice, type ParodusProcess } from '../src/devices.js';
import { startSystem, type XmidtSystem } from '../src/harness.js';
import { deliveredMessage, webpaSignature, WebhookReceiver } from '../src/webhook-receiver.js';

const PARTNER = 'e2e-partner';

describe('xmidt start: one instance of each service', () => {
  let system: XmidtSystem;

  before(async () => {
    system = await startSystem({ mode: 'start' });
  });

  after(async () => {
    await system?.stop();
  });

  test('system.json lists one instance of each service, all ready', async () => {
    for (const name of ['talaria', 'petasos', 'scytale', 'caduceus', 'themis']) {
      const list = system.instances(name);
      assert.equal(list.length, 1, `${name}: ${JSON.stringify(list)}`);
      const ready = await fetch(`${list[0]!.admin}/ready`);
      assert.equal(ready.status, 200, `${name} /ready`);
    }
    assert.ok(system.instance('themis').issuer, 'themis has an issuer URL');
  });

  test('a request through Scytale reaches a libparodus service behind the Parodus agent and its reply comes back', async (t) => {
    const agent: ParodusProcess = await startParodus(system.instance('petasos').url);
    t.after(() => agent.process.stop(5000));
    const service = await LibParodus.connect({
      serviceName: 'config',
      parodusUrl: agent.localUrl,
      clientUrl: 'tcp://127.0.0.1:0',
      authTimeoutMs: 30_000,
    });
    t.after(() => service.close());
    const seen: Message[] = [];
    void (async () => {
      for await (const msg of service) {
        seen.push(msg);
        if (msg.msgType !== MessageType.SimpleRequestResponse) continue;
        const asked = Buffer.from(msg.payload ?? new Uint8Array()).toString('utf8');
        await service.send({
          msgType: MessageType.SimpleRequestResponse,
          ...(msg.dest !== undefined ? { source: msg.dest } : {}),
          ...(msg.source !== undefined ? { dest: msg.source } : {}),
          ...(msg.transactionUuid !== undefined ? { transactionUuid: msg.transactionUuid } : {}),
          contentType: 'application/json',
          payload: Buffer.from(JSON.stringify({ answer: `config for ${asked}` }), 'utf8'),
        });
      }
    })().catch(() => {
      // the service was closed
    });

    const ask = async (): Promise<Awaited<ReturnType<typeof sendThroughScytale>>> =>
      sendThroughScytale(system.instance('scytale').url, system.authorization, {
        msgType: MessageType.SimpleRequestResponse,
        source: 'dns:e2e-caller',
        dest: `${agent.deviceId}/config`,
        transactionUuid: randomUUID(),
        contentType: 'text/plain',
        payload: Buffer.from('wifi', 'utf8'),
      });
    // Until the agent is connected Scytale answers 404 (unknown device); poll until 200.
    const res = await waitFor(
      async () => {
        const r = await ask();
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 40_000, intervalMs: 500, what: `${agent.deviceId} reachable through Scytale` },
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\nparodus output:\n${agent.process.output()}`);
    });
    assert.ok(res.reply, `a WRP reply (content type ${res.headers.get('content-type')})`);
    assert.equal(res.reply.msgType, MessageType.SimpleRequestResponse);
    assert.equal(res.reply.source, `${agent.deviceId}/config`);
    assert.equal(res.reply.dest, 'dns:e2e-caller');
    assert.deepEqual(JSON.parse(Buffer.from(res.reply.payload ?? []).toString('utf8')), {
      answer: 'config for wifi',
    });
    assert.ok(
      seen.some((m) => m.dest === `${agent.deviceId}/config` && m.source === 'dns:e2e-caller'),
      'the local service saw the request as the caller sent it',
    );

    // Without credentials Scytale refuses (401) and nothing reaches the device.
    const before = seen.length;
    const refused = await sendThroughScytale(system.instance('scytale').url, 'Basic ZTJlOndyb25n', {
      msgType: MessageType.SimpleRequestResponse,
      source: 'dns:e2e-caller',
      dest: `${agent.deviceId}/config`,
      transactionUuid: randomUUID(),
      payload: Buffer.from('x'),
    });
    assert.equal(refused.status, 401);
    assert.equal(seen.length, before);
  });

  test('an event from a libparodus service goes up through the Parodus agent to a signed webhook', async (t) => {
    const receiver = await WebhookReceiver.start();
    t.after(() => receiver.close());
    const agent = await startParodus(system.instance('petasos').url, {
      token: { issuerUrl: system.instance('themis').issuer!, partnerId: PARTNER },
    });
    t.after(() => agent.process.stop(5000));
    const secret = `s-${randomUUID()}`;
    const reg = await registerHook(
      system.instance('caduceus').url,
      system.authorization,
      {
        config: { url: `${receiver.url}/agent`, content_type: 'application/msgpack', secret },
        events: ['e2e-local/.*', 'device-status/.*/online'],
        matcher: { device_id: [agent.deviceId] },
        duration: '5m',
      },
      [PARTNER],
    );
    assert.equal(reg.status, 200, reg.body.toString());
    const service = await LibParodus.connect({
      serviceName: 'telemetry',
      parodusUrl: agent.localUrl,
      clientUrl: 'tcp://127.0.0.1:0',
      authTimeoutMs: 30_000,
    });
    t.after(() => service.close());
    // The agent is connected once its online event arrives (it carries the token's partner).
    await receiver
      .waitForEvent(new RegExp(`^event:device-status/${agent.deviceId}/online$`), 40_000)
      .catch((err: unknown) => {
        throw new Error(`${String(err)}\nparodus output:\n${agent.process.output()}`);
      });

    const payload = Buffer.from(JSON.stringify({ uptime: 7 }), 'utf8');
    await service.send({
      msgType: MessageType.SimpleEvent,
      source: `${agent.deviceId}/telemetry`,
      dest: `event:e2e-local/${agent.deviceId}/uptime`,
      contentType: 'application/json',
      payload,
    });
    const delivery = await receiver.waitForEvent(
      new RegExp(`^event:e2e-local/${agent.deviceId}/uptime$`),
    );
    const msg = deliveredMessage(delivery);
    assert.equal(msg.source, `${agent.deviceId}/telemetry`);
    assert.deepEqual(Buffer.from(msg.payload ?? []), payload);
    assert.deepEqual(msg.partnerIds, [PARTNER]);
    assert.equal(delivery.headers['x-webpa-signature'], webpaSignature(secret, delivery.body));
  });

  test('device events, online and offline reach a signed webhook registered at Caduceus', async (t) => {
    const receiver = await WebhookReceiver.start();
    t.after(() => receiver.close());
    // The device takes a token from Themis with a partner id; Talaria stamps that partner id
    // on its events, and Caduceus delivers only to webhooks registered for it.
    const device = new TestDevice({
      url: system.instance('petasos').url,
      token: { issuerUrl: system.instance('themis').issuer!, partnerId: PARTNER },
    });
    t.after(() => device.stop());
    const secret = `s-${randomUUID()}`;
    const reg = await registerHook(
      system.instance('caduceus').url,
      system.authorization,
      {
        config: { url: `${receiver.url}/hook`, content_type: 'application/msgpack', secret },
        events: ['.*'],
        matcher: { device_id: [device.id] },
        duration: '5m',
      },
      [PARTNER],
    );
    assert.equal(reg.status, 200, `registration: ${reg.body.toString()}`);

    await device.connect();
    const online = await receiver.waitForEvent(
      new RegExp(`^event:device-status/${device.id}/online$`),
    );
    const onlinePayload = JSON.parse(
      Buffer.from(deliveredMessage(online).payload ?? []).toString('utf8'),
    ) as { id?: string };
    assert.equal(onlinePayload.id, device.id);

    const payload = Buffer.from(JSON.stringify({ reading: 42 }), 'utf8');
    assert.ok(device.client.sendEvent(`event:e2e-reading/${device.id}/temp`, payload));
    const event = await receiver.waitForEvent(new RegExp(`^event:e2e-reading/${device.id}/temp$`));
    const msg = deliveredMessage(event);
    assert.equal(msg.msgType, MessageType.SimpleEvent);
    assert.equal(msg.source, device.id);
    assert.deepEqual(msg.partnerIds, [PARTNER]);
    assert.deepEqual(Buffer.from(msg.payload ?? []), payload);
    assert.equal(event.headers['content-type'], 'application/msgpack');

    await device.stop();
    await receiver.waitForEvent(new RegExp(`^event:device-status/${device.id}/offline$`));

    // Every delivery is signed with the registration's secret over the exact body.
    for (const d of receiver.deliveries) {
      assert.equal(d.headers['x-webpa-signature'], webpaSignature(secret, d.body));
    }
    // and only this device's events came (the matcher).
    for (const d of receiver.deliveries) {
      assert.match(deliveredMessage(d).dest ?? '', new RegExp(device.id));
    }
  });
});
