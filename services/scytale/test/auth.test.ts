import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { request } from 'undici';
import { decodeMsgpack, encodeMsgpack } from '@xmidt/wrp';
import type { Message } from '@xmidt/wrp';
import { FakeTalaria } from './fake-talaria.js';
import type { Behaviour } from './fake-talaria.js';
import { compactJws, nowSeconds } from './jwt.js';
import { scytaleConfig, startScytale } from './setup.js';
import type { Running } from './setup.js';
import { startThemis } from './themis.js';
import type { RunningThemis } from './themis.js';

const DEVICE = 'mac:112233445566';
const STAT = `/device/${DEVICE}/stat`;
const basic = (pair: string) => `Basic ${Buffer.from(pair).toString('base64')}`;
const TALARIA_AUTH = basic('scytale:s3cret');
const ok: Behaviour = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/msgpack' });
  res.end();
};

function event(partnerIds?: string[]): Buffer {
  const m: Message = { msgType: 4, source: 'dns:caller', dest: DEVICE };
  return encodeMsgpack(partnerIds ? { ...m, partnerIds } : m);
}

interface Call {
  authorization?: string;
  version?: string;
  partnerIds?: string[];
}

function send(base: string, c: Call = {}) {
  return request(`${base}/api/${c.version ?? 'v3'}/device`, {
    method: 'POST',
    headers: {
      'content-type': 'application/msgpack',
      ...(c.authorization === undefined ? {} : { authorization: c.authorization }),
    },
    body: event(c.partnerIds),
  });
}

function stat(base: string, c: Call = {}) {
  return request(`${base}/api/${c.version ?? 'v3'}${STAT}`, {
    headers: c.authorization === undefined ? {} : { authorization: c.authorization },
  });
}

async function status(p: ReturnType<typeof send>): Promise<number> {
  const res = await p;
  await res.body.dump();
  return res.statusCode;
}

describe('scytale Basic callers', () => {
  let talaria: FakeTalaria;
  let s: Running;

  before(async () => {
    talaria = await FakeTalaria.start('127.0.0.1');
    talaria.behave = ok;
    s = await startScytale(
      scytaleConfig(
        { dc1: [talaria.url] },
        {
          auth: { basic: ['alice:wonder', Buffer.from('bob:builder').toString('base64')] },
          // capabilities are a JWT matter: Basic callers are not checked
          capabilityCheck: { type: 'enforce', prefix: 'x1:webpa:api:' },
        },
      ),
    );
  });
  after(async () => {
    await s.scytale.stop();
    await talaria.close();
  });

  it('accepts configured credentials (user:pass and base64 forms); Talaria gets its own', async () => {
    for (const pair of ['alice:wonder', 'bob:builder']) {
      assert.equal(await status(send(s.base, { authorization: basic(pair) })), 200, pair);
      assert.equal(talaria.received.at(-1)?.headers.authorization, TALARIA_AUTH);
      assert.equal(await status(stat(s.base, { authorization: basic(pair) })), 200, pair);
      assert.equal(talaria.received.at(-1)?.headers.authorization, TALARIA_AUTH);
    }
  });

  it('v3: 401 missing or wrong credentials, 400 malformed header, 401 other scheme', async () => {
    const cases: Array<[string | undefined, number]> = [
      [undefined, 401],
      [basic('alice:wrong'), 401],
      [basic('mallory:wonder'), 401],
      ['Basic', 400],
      ['Basic !!notbase64!!', 400],
      ['Bearer a.b.c', 401],
    ];
    const before = talaria.received.length;
    for (const [authorization, want] of cases) {
      const c = authorization === undefined ? {} : { authorization };
      assert.equal(await status(send(s.base, c)), want, String(authorization));
    }
    assert.equal(talaria.received.length, before, 'nothing forwarded');
  });

  it('v2: 403 missing or wrong credentials, 400 malformed header', async () => {
    for (const [authorization, want] of [
      [undefined, 403],
      [basic('alice:wrong'), 403],
      ['Basic', 400],
    ] as const) {
      const c = authorization === undefined ? { version: 'v2' } : { authorization, version: 'v2' };
      assert.equal(await status(send(s.base, c)), want, String(authorization));
    }
  });
});

describe('scytale JWT callers, tokens from a real Themis', () => {
  let themis: RunningThemis;
  let talaria: FakeTalaria;
  let enforce: Running;
  let monitor: Running;
  /** Issued by Themis from its static claims: may POST /device for partner comcast. */
  let token: string;
  /** Signs claims with Themis' own active key and kid (for claims Themis is not set up to issue). */
  let signed: (claims: Record<string, unknown>, header?: Record<string, unknown>) => string;

  before(async () => {
    themis = await startThemis([
      { key: 'sub', value: 'api-client' },
      { key: 'capabilities', value: ['x1:webpa:api:device:post'] },
      { key: 'allowedResources', json: '{"allowedPartners":["comcast"]}' },
    ]);
    token = await themis.issue();
    const key = themis.themis.keys.active();
    signed = (claims, header = {}) =>
      compactJws({ alg: 'RS256', typ: 'JWT', kid: key.kid, ...header }, claims, {
        rs256: key.privateKey,
      });
    talaria = await FakeTalaria.start('127.0.0.1');
    const checks = (type: string) => ({
      auth: { jwt: { keysUrl: themis.keysUrl } },
      capabilityCheck: {
        type,
        prefix: 'x1:webpa:api:',
        endpointBuckets: ['device/.*/stat', 'device'],
      },
      wrpCheck: { type },
    });
    enforce = await startScytale(scytaleConfig({ dc1: [talaria.url] }, checks('enforce')));
    monitor = await startScytale(scytaleConfig({ dc1: [talaria.url] }, checks('monitor')));
  });
  after(async () => {
    await enforce?.scytale.stop();
    await monitor?.scytale.stop();
    await talaria?.close();
    await themis?.stop();
  });
  beforeEach(() => {
    talaria.received.length = 0;
    talaria.behave = ok;
  });

  const bearer = (t: string) => `Bearer ${t}`;

  it('accepts the Themis token for what its capabilities and partners allow', async () => {
    const res = await send(enforce.base, { authorization: bearer(token), partnerIds: ['comcast'] });
    await res.body.dump();
    assert.equal(res.statusCode, 200);
    assert.equal(talaria.received.length, 1);
    const got = talaria.received[0]!;
    assert.equal(
      got.headers.authorization,
      TALARIA_AUTH,
      "Scytale's credentials, not the caller's",
    );
    assert.ok(!JSON.stringify(got.headers).includes(token), 'the token never reaches Talaria');
    assert.deepEqual(decodeMsgpack(got.body).partnerIds, ['comcast']);
  });

  it('capability mismatch: 403, nothing forwarded; counted by endpoint bucket', async () => {
    const res = await stat(enforce.base, { authorization: bearer(token) });
    assert.equal(res.statusCode, 403);
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    assert.match(await res.body.text(), /capability/);
    assert.equal(talaria.received.length, 0);
    const metrics = await (await request(`${enforce.admin}/metrics`)).body.text();
    assert.match(
      metrics,
      /xmidt_scytale_auth_capability_check\{outcome="rejected",reason="no_capabilities_match",clientid="api-client",partnerid="comcast",endpoint="device\/\.\*\/stat"\} 1/,
    );
    assert.match(
      metrics,
      /xmidt_scytale_auth_capability_check\{outcome="accepted",reason="",clientid="api-client",partnerid="comcast",endpoint="device"\} [1-9]/,
    );
  });

  it('partner mismatch: 403, no partner ids: 400, both as JSON; nothing forwarded', async () => {
    for (const [partnerIds, want, text] of [
      [['cox'], 403, 'Unauthorized partners credentials in WRP message'],
      [['comcast', 'cox'], 403, 'Unauthorized partners credentials in WRP message'],
      [undefined, 400, 'WRP PartnerIDs field must not be empty'],
    ] as const) {
      const res = await send(enforce.base, {
        authorization: bearer(token),
        ...(partnerIds ? { partnerIds: [...partnerIds] } : {}),
      });
      assert.equal(res.statusCode, want, String(partnerIds));
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
      assert.deepEqual(await res.body.json(), { code: want, text });
    }
    assert.equal(talaria.received.length, 0);
  });

  it('a token allowing partner * and every endpoint is accepted for any partner and stat', async () => {
    const wildcard = signed({
      sub: 'tr1d1um',
      exp: nowSeconds() + 60,
      capabilities: 'x1:webpa:api:.*:all',
      allowedResources: { allowedPartners: ['*'] },
    });
    assert.equal(
      await status(send(enforce.base, { authorization: bearer(wildcard), partnerIds: ['cox'] })),
      200,
    );
    assert.equal(await status(stat(enforce.base, { authorization: bearer(wildcard) })), 200);
    assert.equal(talaria.received.length, 2);
  });

  it('a token without allowedResources.allowedPartners: 403 even for stat', async () => {
    for (const allowedResources of [undefined, { allowedPartners: [] }, { allowedPartners: 'x' }]) {
      const t = signed({
        sub: 'no-partners',
        capabilities: ['x1:webpa:api:.*:all'],
        ...(allowedResources ? { allowedResources } : {}),
      });
      assert.equal(await status(stat(enforce.base, { authorization: bearer(t) })), 403);
    }
  });

  it('expired: 401 (v2: 403); unknown kid, no kid, alg none, HS256 with the public key, malformed: 400', async () => {
    const good = {
      sub: 'api-client',
      capabilities: ['x1:webpa:api:.*:all'],
      allowedResources: { allowedPartners: ['*'] },
    };
    const expired = signed({ ...good, exp: nowSeconds() - 120 });
    assert.equal(await status(send(enforce.base, { authorization: bearer(expired) })), 401);
    assert.equal(
      await status(send(enforce.base, { authorization: bearer(expired), version: 'v2' })),
      403,
    );

    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const unknownKid = compactJws({ alg: 'RS256', kid: 'no-such-key' }, good, { rs256: stranger });
    const noKid = compactJws({ alg: 'RS256' }, good, {
      rs256: themis.themis.keys.active().privateKey,
    });
    const none = compactJws({ alg: 'none', kid: themis.themis.keys.active().kid }, good, 'none');
    const kid = themis.themis.keys.active().kid;
    const pem = await (await fetch(themis.keysUrl.replace('{kid}', kid))).text();
    assert.match(pem, /BEGIN PUBLIC KEY/);
    const hs256 = compactJws({ alg: 'HS256', kid }, good, { hs256: pem });
    for (const [name, t] of [
      ['unknown kid', unknownKid],
      ['no kid', noKid],
      ['alg none', none],
      ['HS256 keyed with the RSA public key', hs256],
      ['not a JWS', 'not-a-token'],
      ['two parts', 'abc.def'],
    ] as const) {
      assert.equal(await status(send(enforce.base, { authorization: bearer(t) })), 400, name);
      assert.equal(
        await status(send(enforce.base, { authorization: bearer(t), version: 'v2' })),
        400,
        `${name} v2`,
      );
    }
    for (const authorization of ['Bearer', `Bearer  ${token}`, `Bearer${token}`]) {
      assert.equal(await status(send(enforce.base, { authorization })), 400, authorization);
    }
    assert.equal(await status(send(enforce.base)), 401, 'no Authorization');
    assert.equal(await status(send(enforce.base, { version: 'v2' })), 403, 'no Authorization v2');
    assert.equal(talaria.received.length, 0, 'nothing forwarded');
  });

  it('monitor mode: refusals are only counted; unauthorized partner ids are replaced', async () => {
    assert.equal(await status(stat(monitor.base, { authorization: bearer(token) })), 200);
    assert.equal(
      await status(send(monitor.base, { authorization: bearer(token), partnerIds: ['cox'] })),
      200,
    );
    assert.equal(await status(send(monitor.base, { authorization: bearer(token) })), 200);
    const [, mismatch, empty] = talaria.received;
    assert.deepEqual(decodeMsgpack(mismatch!.body).partnerIds, ['comcast']);
    assert.deepEqual(decodeMsgpack(empty!.body).partnerIds, ['comcast']);
    const metrics = await (await request(`${monitor.admin}/metrics`)).body.text();
    assert.match(
      metrics,
      /received_wrp_message_total\{outcome="accepted",clientid="api-client",reason="wrp_pid_mismatch"\} 1/,
    );
    assert.match(
      metrics,
      /received_wrp_message_total\{outcome="accepted",clientid="api-client",reason="wrp_pid_missing"\} 1/,
    );
    assert.match(
      metrics,
      /auth_capability_check\{outcome="rejected",reason="no_capabilities_match"/,
    );
  });
});

describe('scytale auth configuration', () => {
  it('wrpCheck needs auth.jwt and cannot be combined with auth.basic', async () => {
    for (const auth of [
      { basic: ['a:b'] },
      { basic: ['a:b'], jwt: { keysUrl: 'http://x/{kid}' } },
    ]) {
      await assert.rejects(
        startScytale(scytaleConfig({}, { auth, wrpCheck: { type: 'enforce' } })),
        /wrpCheck/,
      );
    }
  });

  it('without fanout.authorization Talaria gets no Authorization at all', async () => {
    const talaria = await FakeTalaria.start('127.0.0.1');
    talaria.behave = ok;
    const s = await startScytale(
      scytaleConfig(
        { dc1: [talaria.url] },
        { auth: { basic: ['alice:wonder'] } },
        { authorization: '' },
      ),
    );
    try {
      assert.equal(await status(send(s.base, { authorization: basic('alice:wonder') })), 200);
      assert.equal(talaria.received.length, 1);
      assert.equal(talaria.received[0]!.headers.authorization, undefined);
    } finally {
      await s.scytale.stop();
      await talaria.close();
    }
  });
});
