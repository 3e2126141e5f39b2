import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, loadConfig } from '@xmidt/runtime';
import { DEFAULT_CLAIMS, createThemis, themisConfigSchema } from '@xmidt/themis';
import type { Themis, ThemisPorts } from '@xmidt/themis';
import {
  EventReceiver,
  connectDevice,
  rejectedConnect,
  startTalaria,
  waitUntil,
} from './helpers.js';
import type { Running } from './helpers.js';

// Device JWT auth against a real Themis: Themis signs with a key file the test owns (kid `dev`),
// so the test can also mint tokens Themis would never issue (expired, other key, alg none).

const KID = 'dev';
const NAME = 'X-Webpa-Device-Name';

let dir: string;
let themisKey: KeyObject;
let themis: Themis;
let ports: ThemisPorts;
let strict: Running; // deviceAuth.failOpen: false (the default)
let open: Running; // deviceAuth.failOpen: true
let events: EventReceiver;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'talaria-auth-'));
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  themisKey = pair.privateKey;
  const keyFile = join(dir, 'themis.pem');
  writeFileSync(keyFile, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const config = loadConfig({
    service: 'themis',
    schema: themisConfigSchema,
    env: {},
    overrides: {
      servers: {
        key: { host: '127.0.0.1', port: 0 },
        issuer: { host: '127.0.0.1', port: 0 },
        admin: { host: '127.0.0.1', port: 0 },
      },
      token: {
        key: { file: keyFile, kid: KID, directory: '' },
        duration: '1h',
        claims: [...DEFAULT_CLAIMS, { key: 'device-id', header: 'X-Midt-Mac-Address' }],
      },
    },
  });
  themis = await createThemis(config, {
    logger: createLogger({ service: 'themis', level: 'silent' }),
    shutdownTimeoutMs: 2000,
  });
  ports = await themis.start();

  events = new EventReceiver();
  await events.start();
  const deviceAuth = (failOpen: boolean) => ({
    deviceAuth: {
      failOpen,
      jwt: { keysUrl: `http://127.0.0.1:${ports.keyPort}/keys/{kid}` },
    },
    device: { outbound: { eventEndpoints: { default: events.url } } },
  });
  strict = await startTalaria(deviceAuth(false));
  open = await startTalaria(deviceAuth(true));
});

after(async () => {
  await strict?.stop();
  await open?.stop();
  await events?.stop();
  await themis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A device token from Themis' `GET /issue`, as Parodus fetches it. */
async function issue(mac: string, partner = 'comcast'): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${ports.issuerPort}/issue`, {
    headers: { 'X-Midt-Mac-Address': mac, 'X-Midt-Partner-ID': partner },
  });
  assert.equal(res.status, 200);
  return res.text();
}

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

/** A compact JWS signed here (RS256 with `key`, or unsigned with alg none). */
function mint(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  key?: KeyObject,
): string {
  const input = `${b64(header)}.${b64(claims)}`;
  const sig = key ? sign('sha256', Buffer.from(input), key).toString('base64url') : '';
  return `${input}.${sig}`;
}

const now = (): number => Math.floor(Date.now() / 1000);
const deviceClaims = (mac: string) => ({
  sub: 'client-supplied',
  'device-id': mac,
  'partner-id': 'comcast',
  iat: now() - 60,
});

async function refused(
  t: Running,
  mac: string,
  authorization: string | undefined,
  path = '/api/v2/device',
): Promise<number> {
  const r = await rejectedConnect(t.ws, { [NAME]: mac, Authorization: authorization }, path);
  return r.status;
}

test('a device with a token from Themis connects; partner-id and trust come from the token', async () => {
  const mac = 'mac:112233445566';
  const token = await issue(mac);
  const d = await connectDevice(strict.ws, 'mac:11:22:33:44:55:66', {
    headers: { Authorization: `Bearer ${token}` },
  });
  await waitUntil(() => strict.talaria.devices.has(mac));
  const info = strict.talaria.devices.get(mac)?.info;
  assert.deepEqual(info?.partnerIds, ['comcast']);
  assert.equal(info?.claims['device-id'], mac);
  assert.equal(info?.trust, 0); // Themis: no client certificate
  const online = await events.waitFor((m) => m.dest === `event:device-status/${mac}/online`);
  assert.deepEqual(online.partnerIds, ['comcast']);
  await d.close();
  await waitUntil(() => !strict.talaria.devices.has(mac));
});

test('no token: 403 on v2, 401 on v3 (the original table)', async () => {
  assert.equal(await refused(strict, 'mac:112233445566', undefined), 403);
  assert.equal(await refused(strict, 'mac:112233445566', undefined, '/api/v3/device'), 401);
});

test('expired token: 403 on v2 (Parodus fetches a new one), 401 on v3', async () => {
  const mac = 'mac:112233445566';
  const token = mint(
    { alg: 'RS256', kid: KID, typ: 'JWT' },
    { ...deviceClaims(mac), iat: now() - 7200, exp: now() - 3600 },
    themisKey,
  );
  assert.equal(await refused(strict, mac, `Bearer ${token}`), 403);
  assert.equal(await refused(strict, mac, `Bearer ${token}`, '/api/v3/device'), 401);
});

test('invalid tokens answer 400 on both versions: wrong key, unknown kid, alg none, garbage', async () => {
  const mac = 'mac:112233445566';
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const tokens = {
    wrongKey: mint({ alg: 'RS256', kid: KID }, deviceClaims(mac), other),
    unknownKid: mint({ alg: 'RS256', kid: 'no-such-key' }, deviceClaims(mac), other),
    algNone: mint({ alg: 'none', kid: KID }, deviceClaims(mac)),
    garbage: 'not.a.jwt',
  };
  for (const [what, token] of Object.entries(tokens)) {
    assert.equal(await refused(strict, mac, `Bearer ${token}`), 400, what);
    assert.equal(await refused(strict, mac, `Bearer ${token}`, '/api/v3/device'), 400, what);
  }
});

test('a token for another device id is refused with 401, never 403', async () => {
  const token = await issue('mac:aabbccddeeff');
  const r = await rejectedConnect(strict.ws, {
    [NAME]: 'mac:112233445566',
    Authorization: `Bearer ${token}`,
  });
  assert.equal(r.status, 401);
  assert.match(r.body, /mac:aabbccddeeff/);
  assert.equal(await refused(strict, 'mac:112233445566', `Bearer ${token}`, '/api/v3/device'), 401);
  assert.equal(strict.talaria.devices.size, 0);
});

test('Basic credentials on the device route: unsupported scheme (403, as the original)', async () => {
  const basic = 'Basic ' + Buffer.from('user:pass').toString('base64');
  assert.equal(await refused(strict, 'mac:112233445566', basic), 403);
});

test('failOpen: no token connects as partner unknown; a token that is sent must be valid', async () => {
  const mac = 'mac:665544332211';
  const anonymous = await connectDevice(open.ws, mac);
  await waitUntil(() => open.talaria.devices.has(mac));
  assert.deepEqual(open.talaria.devices.get(mac)?.info.partnerIds, ['unknown']);
  assert.deepEqual(open.talaria.devices.get(mac)?.info.claims, {});
  await anonymous.close();
  await waitUntil(() => !open.talaria.devices.has(mac));

  const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const forged = mint({ alg: 'RS256', kid: KID }, deviceClaims(mac), other);
  assert.equal(await refused(open, mac, `Bearer ${forged}`), 400);
  assert.equal(await refused(open, mac, `Bearer ${await issue('mac:aabbccddeeff')}`), 401);

  const d = await connectDevice(open.ws, mac, {
    headers: { Authorization: `Bearer ${await issue(mac, 'cox')}` },
  });
  await waitUntil(() => open.talaria.devices.has(mac));
  assert.deepEqual(open.talaria.devices.get(mac)?.info.partnerIds, ['cox']);
  await d.close();
});
