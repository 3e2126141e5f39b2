import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, loadConfig } from '@xmidt/runtime';
import { createThemis, themisConfigSchema, type Themis } from '@xmidt/themis';
import { encodeMsgpack } from '@xmidt/wrp';
import { waitFor } from '@xmidt/testkit';
import { createCaduceus, type Caduceus } from '../src/service.js';
import { webhookId } from '../src/webhook.js';
import { notify, register, startReceiver, testConfig, type Receiver } from './helpers.js';

// Two real Themis issuers (in-process, ports 0): one whose tokens carry
// allowedResources.allowedPartners, one whose tokens carry only a device partner-id.

interface Issuer {
  themis: Themis;
  issueUrl: string;
  keysUrl: string;
}

const dir = mkdtempSync(join(tmpdir(), 'caduceus-themis-'));
const issuers: Issuer[] = [];
let c: Caduceus;
let base: string;
let rx: Receiver;

async function startIssuer(name: string, claims: Record<string, unknown>[]): Promise<Issuer> {
  const config = loadConfig({
    service: 'themis',
    schema: themisConfigSchema,
    env: {},
    overrides: {
      log: { level: 'silent' },
      servers: {
        key: { host: '127.0.0.1', port: 0 },
        issuer: { host: '127.0.0.1', port: 0 },
        admin: { host: '127.0.0.1', port: 0 },
      },
      token: {
        key: { directory: join(dir, name), kid: name },
        claims,
        partnerID: { claim: 'partner-id', header: 'X-Midt-Partner-ID', default: 'device-partner' },
      },
    },
  });
  const themis = await createThemis(config, {
    logger: createLogger({ service: 'themis', level: 'silent' }),
    shutdownTimeoutMs: 2000,
  });
  const ports = await themis.start();
  const issuer = {
    themis,
    issueUrl: `http://127.0.0.1:${ports.issuerPort}/issue`,
    keysUrl: `http://127.0.0.1:${ports.keyPort}/keys/{kid}`,
  };
  issuers.push(issuer);
  return issuer;
}

async function token(issuer: Issuer): Promise<string> {
  const res = await fetch(issuer.issueUrl);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/jose');
  return res.text();
}

let partners: Issuer;
let deviceOnly: Issuer;

before(async () => {
  partners = await startIssuer('partners', [
    { key: 'sub', value: 'registrant-service' },
    { key: 'iss', value: 'themis' },
    { key: 'allowedResources', json: '{"allowedPartners":["sky","comcast"]}' },
  ]);
  deviceOnly = await startIssuer('device', [
    { key: 'sub', value: 'some-device' },
    { key: 'iss', value: 'themis' },
  ]);
  c = createCaduceus(
    testConfig({
      auth: { basic: ['user:pass'], jwt: { keysUrl: partners.keysUrl } },
    }),
    { shutdownTimeoutMs: 2000 },
  );
  base = `http://127.0.0.1:${(await c.start()).primaryPort}`;
  rx = await startReceiver({ secrets: ['jwt-secret'] });
});

after(async () => {
  await c?.stop();
  await rx?.close();
  for (const i of issuers) await i.themis.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a Themis JWT registers a webhook whose partner ids come from allowedResources.allowedPartners', async () => {
  const bearer = { authorization: `Bearer ${await token(partners)}` };
  const url = `${rx.url}/jwt`;
  const r = await register(
    base,
    { config: { url, secret: 'jwt-secret' }, events: ['device-status'], duration: '5m' },
    // a JWT registrant cannot widen its partners with the Basic-only header
    { ...bearer, 'x-xmidt-partner-ids': 'evil' },
  );
  assert.equal(r.status, 200, r.text);
  const stored = c.store.get(webhookId(url));
  assert.deepEqual(stored?.partnerIds, ['sky', 'comcast']);
  assert.equal(stored?.owner, 'registrant-service');

  const event = (tx: string, partnerIds: string[]) =>
    encodeMsgpack({
      msgType: 4,
      source: 'mac:112233445566',
      dest: 'event:device-status/mac:112233445566/online',
      transactionUuid: tx,
      partnerIds,
      payload: new Uint8Array([1]),
    });
  const basic = { authorization: `Basic ${Buffer.from('user:pass').toString('base64')}` };
  assert.equal((await notify(base, event('for-evil', ['evil']), basic)).status, 202);
  assert.equal((await notify(base, event('for-sky', ['sky']), basic)).status, 202);
  await waitFor(() => rx.received.length >= 1, { what: 'delivery' });
  const txs = rx.received.map((x) => x.headers['x-webpa-transaction-id']);
  assert.deepEqual(txs, ['for-sky']);
  assert.ok(rx.received.every((x) => x.signatureOk));
});

test('a JWT without allowedPartners cannot register (400, failed getting partnerIDs)', async () => {
  // a second Caduceus trusts the device-only issuer, whose tokens carry just `partner-id`
  const c2 = createCaduceus(testConfig({ auth: { jwt: { keysUrl: deviceOnly.keysUrl } } }), {
    shutdownTimeoutMs: 2000,
  });
  try {
    const base2 = `http://127.0.0.1:${(await c2.start()).primaryPort}`;
    const r = await register(
      base2,
      { config: { url: `${rx.url}/device` }, events: ['.*'], duration: '5m' },
      { authorization: `Bearer ${await token(deviceOnly)}` },
    );
    assert.equal(r.status, 400);
    assert.equal(r.text, '{"message":"failed getting partnerIDs: partnerIDs do not exist"}\n');
    assert.equal(c2.store.size(), 0);
    // and the first Caduceus does not accept tokens signed by a key it does not know
    const other = await register(
      base,
      { config: { url: `${rx.url}/other` }, events: ['.*'], duration: '5m' },
      { authorization: `Bearer ${await token(deviceOnly)}` },
    );
    assert.equal(other.status, 401);
  } finally {
    await c2.stop();
  }
});
