import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { AuthError, AuthErrorCode, encodeMsgpack } from '../src/deps/index.js';
import type { AccessRequest } from '../src/access.js';
import { FakeTalaria } from './fake-talaria.js';
import { scytaleConfig, startScytale } from './setup.js';
import type { Running } from './setup.js';

const DEVICE = 'mac:112233445566';
const basic = (pair: string) => `Basic ${Buffer.from(pair).toString('base64')}`;

describe('scytale caller authentication', () => {
  let talaria: FakeTalaria;
  let s: Running;
  const seen: AccessRequest[] = [];

  before(async () => {
    talaria = await FakeTalaria.start('127.0.0.1');
    talaria.behave = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/msgpack' });
      res.end();
    };
    s = await startScytale(
      scytaleConfig(
        { dc1: [talaria.url] },
        { auth: { basic: ['alice:wonder', Buffer.from('bob:builder').toString('base64')] } },
      ),
      {
        // a drop-in check, as capability / partner checks will be
        checks: [
          (principal, req) => {
            seen.push(req);
            if (principal.subject === 'bob' && req.path.endsWith('/stat'))
              throw new AuthError(AuthErrorCode.Forbidden, 'no capability for this endpoint');
          },
        ],
      },
    );
  });
  after(async () => {
    await s.scytale.stop();
    await talaria.close();
  });

  const send = (authorization: string | undefined, version = 'v3') =>
    request(`${s.base}/api/${version}/device`, {
      method: 'POST',
      headers: {
        'content-type': 'application/msgpack',
        ...(authorization === undefined ? {} : { authorization }),
      },
      body: encodeMsgpack({ msgType: 4, source: 'dns:x', dest: DEVICE }),
    });

  it('accepts configured Basic credentials (user:pass and base64 forms)', async () => {
    for (const pair of ['alice:wonder', 'bob:builder']) {
      const res = await send(basic(pair));
      await res.body.dump();
      assert.equal(res.statusCode, 200, pair);
    }
    const last = talaria.received.at(-1)!;
    assert.equal(
      last.headers.authorization,
      basic('scytale:s3cret'),
      'caller credentials are replaced',
    );
    assert.equal(seen.at(-1)?.path, '/device');
    assert.equal(seen.at(-1)?.method, 'POST');
    assert.equal(seen.at(-1)?.message?.dest, DEVICE);
  });

  it('v3: 401 missing or wrong credentials, 400 malformed header', async () => {
    const cases: Array<[string | undefined, number]> = [
      [undefined, 401],
      [basic('alice:wrong'), 401],
      [basic('mallory:wonder'), 401],
      ['Basic', 400],
      ['Basic !!notbase64!!', 400],
    ];
    const before = talaria.received.length;
    for (const [authorization, status] of cases) {
      const res = await send(authorization);
      await res.body.dump();
      assert.equal(res.statusCode, status, String(authorization));
    }
    assert.equal(talaria.received.length, before, 'nothing forwarded');
  });

  it('v2: 403 for missing or wrong credentials', async () => {
    for (const authorization of [undefined, basic('alice:wrong')]) {
      const res = await send(authorization, 'v2');
      await res.body.dump();
      assert.equal(res.statusCode, 403, String(authorization));
    }
  });

  it('a refusing access check answers 403 and nothing is forwarded', async () => {
    const before = talaria.received.length;
    const res = await request(`${s.base}/api/v3/device/${DEVICE}/stat`, {
      headers: { authorization: basic('bob:builder') },
    });
    assert.equal(res.statusCode, 403);
    assert.equal(await res.body.text(), 'no capability for this endpoint');
    assert.equal(seen.at(-1)?.path, `/device/${DEVICE}/stat`);
    assert.equal(talaria.received.length, before);
    const ok = await request(`${s.base}/api/v3/device/${DEVICE}/stat`, {
      headers: { authorization: basic('alice:wonder') },
    });
    assert.equal(ok.statusCode, 200);
    await ok.body.dump();
  });
});
