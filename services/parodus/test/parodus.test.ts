import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { decodeMsgpack, encodeMsgpack, MessageType, type Message } from '@xmidt/wrp';
import { PullSocket, PushSocket } from '@xmidt/sp';
import { LibParodus } from '@xmidt/libparodus';
import {
  createParodus,
  parseParodusArgs,
  PARODUS_DEFAULTS,
  validateParodusConfig,
  type Parodus,
} from '../src/index.js';
import { startCloud, withTimeout, type Cloud } from './helpers.js';

const MAC = 'mac:112233445566';

/** A local service speaking the libparodus wire protocol over the SP bus. */
class LocalService {
  readonly pull = new PullSocket();
  push!: PushSocket;
  readonly inbox: Message[] = [];
  readonly raw: Buffer[] = [];
  private waiters: { pred: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];

  async start(parodusUrl: string, name: string): Promise<void> {
    await this.pull.bind('tcp://127.0.0.1:0');
    this.pull.on('message', (body) => {
      this.raw.push(body);
      const m = decodeMsgpack(body);
      const i = this.waiters.findIndex((w) => w.pred(m));
      if (i >= 0) this.waiters.splice(i, 1)[0]?.resolve(m);
      else this.inbox.push(m);
    });
    this.push = new PushSocket(parodusUrl);
    await this.push.send(
      encodeMsgpack({
        msgType: MessageType.ServiceRegistration,
        serviceName: name,
        url: this.pull.url,
      }),
    );
  }

  next(pred: (m: Message) => boolean = () => true): Promise<Message> {
    const i = this.inbox.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0] as Message);
    return withTimeout(
      new Promise((resolve) => this.waiters.push({ pred, resolve })),
      5000,
      'local message',
    );
  }

  async stop(): Promise<void> {
    await Promise.all([this.pull.close(), this.push.close()]);
  }
}

describe('parodus agent', () => {
  let cloud: Cloud;
  let agent: Parodus;
  let busUrl: string;
  const services: LocalService[] = [];

  before(async () => {
    cloud = await startCloud();
    agent = createParodus(
      {
        ...PARODUS_DEFAULTS,
        hwMac: '11:22:33:44:55:66',
        hwModel: 'TestModel',
        hwSerialNumber: 'SN123',
        hwManufacturer: 'TestMfr',
        fwName: 'fw-1.0',
        bootTime: 1700000000,
        webpaUrl: cloud.url,
        webpaPingTimeout: 180,
        parodusLocalUrl: 'tcp://127.0.0.1:0',
        partnerId: 'comcast',
      },
      { keepAliveMs: 150, serviceSendTimeoutMs: 150, backoffUnitMs: 20 },
    );
    const online = once(agent.client, 'online');
    await agent.start();
    busUrl = agent.bus.url;
    await withTimeout(online, 5000, 'online');
  });

  after(async () => {
    for (const s of services) await s.stop();
    await agent.stop();
    await cloud.close();
  });

  async function service(name: string): Promise<LocalService> {
    const s = new LocalService();
    services.push(s);
    await s.start(busUrl, name);
    return s;
  }

  it('answers a registration with Auth 200, routes a request to the service and its reply up', async () => {
    const svc = await service('config');
    const auth = await svc.next((m) => m.msgType === MessageType.Authorization);
    assert.equal(auth.status, 200);
    const ws = await cloud.socket();
    const request = encodeMsgpack({
      msgType: MessageType.SimpleRequestResponse,
      source: 'dns:scytale/api',
      dest: `${MAC}/config/Device.X`,
      transactionUuid: 'txn-req-1',
      contentType: 'application/json',
      partnerIds: ['comcast'],
      payload: Buffer.from('{"names":["Device.X"]}'),
    });
    ws.send(request);
    const got = await svc.next((m) => m.msgType === MessageType.SimpleRequestResponse);
    assert.equal(got.transactionUuid, 'txn-req-1');
    // the original bytes are forwarded unchanged
    assert.ok(svc.raw.some((b) => b.equals(request)));
    await svc.push.send(
      encodeMsgpack({
        msgType: MessageType.SimpleRequestResponse,
        source: got.dest,
        dest: got.source,
        transactionUuid: got.transactionUuid,
        contentType: 'application/json',
        payload: Buffer.from('{"statusCode":200}'),
      }),
    );
    const reply = await cloud.next((m) => m.transactionUuid === 'txn-req-1');
    assert.equal(reply.msgType, MessageType.SimpleRequestResponse);
    assert.equal(reply.dest, 'dns:scytale/api');
    assert.equal(Buffer.from(reply.payload ?? []).toString(), '{"statusCode":200}');
    assert.equal(reply.metadata?.['hw-mac'], '11:22:33:44:55:66');
  });

  it('serves a @xmidt/libparodus service: request down, reply up, event up', async () => {
    const lib = await LibParodus.connect({
      serviceName: 'libsvc',
      parodusUrl: busUrl,
      clientUrl: 'tcp://127.0.0.1:0',
    });
    try {
      assert.equal(lib.authReceived, true);
      assert.equal(agent.bus.has('libsvc'), true);
      const ws = await cloud.socket();
      ws.send(
        encodeMsgpack({
          msgType: MessageType.SimpleRequestResponse,
          source: 'dns:scytale',
          dest: `${MAC}/libsvc/x`,
          transactionUuid: 'txn-lib',
          contentType: 'text/plain',
          payload: Buffer.from('ping'),
        }),
      );
      const req = await withTimeout(lib.receive(5000), 6000, 'libparodus receive');
      assert.ok(req);
      assert.equal(req.transactionUuid, 'txn-lib');
      await lib.send({
        msgType: MessageType.SimpleRequestResponse,
        source: req.dest,
        dest: req.source,
        transactionUuid: req.transactionUuid,
        contentType: 'text/plain',
        payload: Buffer.from('pong'),
      });
      const reply = await cloud.next((m) => m.transactionUuid === 'txn-lib');
      assert.equal(Buffer.from(reply.payload ?? []).toString(), 'pong');
      assert.equal(reply.dest, 'dns:scytale');
      assert.equal(reply.metadata?.['webpa-uuid'], '1234567-345456546');
      await lib.send({
        msgType: MessageType.SimpleEvent,
        source: `${MAC}/libsvc`,
        dest: 'event:lib-event/mac:112233445566',
        contentType: 'application/json',
        payload: Buffer.from('{}'),
      });
      const ev = await cloud.next((m) => m.dest === 'event:lib-event/mac:112233445566');
      assert.equal(ev.metadata?.['hw-model'], 'TestModel');
      assert.deepEqual(ev.partnerIds, ['comcast']);
    } finally {
      await lib.close();
    }
  });

  it('answers an unknown service with 531', async () => {
    const ws = await cloud.socket();
    ws.send(
      encodeMsgpack({
        msgType: MessageType.SimpleRequestResponse,
        source: 'dns:scytale',
        dest: `${MAC}/nosuch`,
        transactionUuid: 'txn-531',
        payload: Buffer.from('x'),
      }),
    );
    const reply = await cloud.next((m) => m.transactionUuid === 'txn-531');
    assert.equal(reply.msgType, MessageType.SimpleRequestResponse);
    assert.equal(reply.source, `${MAC}/nosuch`);
    assert.equal(reply.dest, 'dns:scytale');
    assert.deepEqual(JSON.parse(Buffer.from(reply.payload ?? []).toString()), {
      statusCode: 531,
      message: 'Service Unavailable',
    });
  });

  it('answers a RETRIEVE of cloud-status', async () => {
    const ws = await cloud.socket();
    ws.send(
      encodeMsgpack({
        msgType: MessageType.Retrieve,
        source: 'dns:scytale',
        dest: `${MAC}/parodus/cloud-status`,
        transactionUuid: 'txn-cs',
      }),
    );
    const reply = await cloud.next((m) => m.transactionUuid === 'txn-cs');
    assert.equal(reply.msgType, MessageType.Retrieve);
    assert.equal(reply.status, 200);
    assert.equal(reply.source, `${MAC}/parodus/cloud-status`);
    assert.deepEqual(JSON.parse(Buffer.from(reply.payload ?? []).toString()), {
      'cloud-status': 'online',
    });
  });

  it('checks partner ids without failing on events that carry none', async () => {
    const ws = await cloud.socket();
    ws.send(
      encodeMsgpack({ msgType: MessageType.SimpleEvent, source: 'dns:x', dest: `${MAC}/config` }),
    );
    ws.send(
      encodeMsgpack({
        msgType: MessageType.SimpleEvent,
        source: 'dns:x',
        dest: `${MAC}/config`,
        partnerIds: ['other'],
      }),
    );
    ws.send(
      encodeMsgpack({
        msgType: MessageType.SimpleRequestResponse,
        source: 'dns:x',
        dest: `${MAC}/config`,
        transactionUuid: 'txn-partner',
        partnerIds: ['Other'],
      }),
    );
    const reply = await cloud.next((m) => m.transactionUuid === 'txn-partner');
    assert.deepEqual(JSON.parse(Buffer.from(reply.payload ?? []).toString()), {
      statusCode: 403,
      message: 'Invalid partner_id',
    });
    assert.equal(agent.client.cloudStatus, 'online');
  });

  it('sends a local event upstream with the appended metadata and partner ids', async () => {
    const svc = await service('evsvc');
    await svc.next((m) => m.msgType === MessageType.Authorization);
    await svc.push.send(
      encodeMsgpack({
        msgType: MessageType.SimpleEvent,
        source: `${MAC}/evsvc`,
        dest: 'event:device-status/mac:112233445566/hello',
        contentType: 'application/json',
        metadata: { own: 'kept' },
        payload: Buffer.from('{"hello":1}'),
      }),
    );
    const ev = await cloud.next((m) => m.msgType === MessageType.SimpleEvent);
    assert.equal(ev.dest, 'event:device-status/mac:112233445566/hello');
    assert.deepEqual(ev.partnerIds, ['comcast']);
    assert.deepEqual(ev.metadata, {
      own: 'kept',
      'hw-model': 'TestModel',
      'hw-serial-number': 'SN123',
      'hw-manufacturer': 'TestMfr',
      'hw-mac': '11:22:33:44:55:66',
      'hw-last-reboot-reason': '',
      'fw-name': 'fw-1.0',
      'boot-time': '1700000000',
      'webpa-last-reconnect-reason': 'webpa_process_starts',
      'webpa-protocol': 'PARODUS-2.0-xmidt-ts-0.1.0',
      'webpa-uuid': '1234567-345456546',
      'webpa-interface-used': '',
      'partner-id': 'comcast',
    });
  });

  it('sends ServiceAlive and removes a service that went away', async () => {
    const svc = await service('shortlived');
    await svc.next((m) => m.msgType === MessageType.Authorization);
    await svc.next((m) => m.msgType === MessageType.ServiceAlive);
    assert.equal(agent.bus.has('shortlived'), true);
    const removed = new Promise<[{ name: string }, string]>((resolve) => {
      const on = (info: { name: string }, reason: string): void => {
        if (info.name !== 'shortlived') return;
        agent.bus.off('removed', on);
        resolve([info, reason]);
      };
      agent.bus.on('removed', on);
    });
    await svc.pull.close();
    const [info, reason] = await withTimeout(removed, 5000, 'removal');
    assert.equal(info.name, 'shortlived');
    assert.equal(reason, 'keepalive_failed');
    assert.equal(agent.bus.has('shortlived'), false);
    const ws = await cloud.socket();
    ws.send(
      encodeMsgpack({
        msgType: MessageType.Retrieve,
        source: 'dns:scytale',
        dest: `${MAC}/parodus/service-status/shortlived`,
        transactionUuid: 'txn-ss',
      }),
    );
    const reply = await cloud.next((m) => m.transactionUuid === 'txn-ss');
    assert.deepEqual(JSON.parse(Buffer.from(reply.payload ?? []).toString()), {
      'service-status': 'offline',
    });
  });
});

describe('parodus command line', () => {
  it('parses long and short options with Parodus defaults', () => {
    const { config, warnings, help } = parseParodusArgs([
      '--hw-mac=11:22:33:44:55:66',
      '-u',
      'https://petasos:6400',
      '-t180',
      '--webpa-backoff-max',
      '9',
      '--token-server-url=http://themis:6501/issue',
      '--bogus',
    ]);
    assert.equal(help, false);
    assert.equal(config.hwMac, '11:22:33:44:55:66');
    assert.equal(config.webpaUrl, 'https://petasos:6400');
    assert.equal(config.webpaPingTimeout, 180);
    assert.equal(config.webpaBackoffMax, 9);
    assert.equal(config.parodusLocalUrl, 'tcp://127.0.0.1:6666');
    assert.equal(config.dnsTxtUrl, 'fabric');
    assert.equal(config.tokenServerUrl, 'http://themis:6501/issue');
    assert.deepEqual(warnings, ["unrecognized option '--bogus'"]);
    validateParodusConfig(config);
    assert.throws(() => validateParodusConfig({ ...config, hwMac: '1122' }), {
      code: 'parodus_config',
    });
    assert.throws(() => validateParodusConfig({ ...config, webpaUrl: 'ws://x' }), {
      code: 'parodus_config',
    });
    assert.throws(() => parseParodusArgs(['-t', 'abc']), { code: 'parodus_usage' });
  });

  it('prints --help and exits 0', () => {
    const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', main, '--help'], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /--webpa-url/);
    assert.match(r.stdout, /--parodus-local-url/);
  });
});
