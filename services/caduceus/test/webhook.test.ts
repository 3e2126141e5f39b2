import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { signBody, verifySignature } from '../src/signature.js';
import { UrlGuard, v2Policy } from '../src/ssrf-guard.js';
import { caduceusConfigSchema } from '../src/config.js';
import { loadConfig } from '@xmidt/runtime';
import {
  applyDefaults,
  decodeWebhook,
  fixV2Duration,
  goJson,
  storedFromJson,
  storedToJson,
  validateWebhook,
  webhookId,
  WebhookError,
  type Webhook,
} from '../src/webhook.js';
import { compileMatcher, eventString, eventType, matches } from '../src/matcher.js';

const cfg = loadConfig({ service: 'caduceus', schema: caduceusConfigSchema, env: {} });
const strictUrl = cfg.webhook.validation.url;

const fakeDns: Record<string, string[]> = {
  'good.hooks.net': ['93.184.216.34'],
  'loop.hooks.net': ['127.0.0.1'],
  'private.hooks.net': ['10.1.2.3'],
  'meta.hooks.net': ['169.254.169.254'],
  'mixed.hooks.net': ['93.184.216.34', '192.168.1.1'],
  'v6.hooks.net': ['::1'],
};
const lookupAll = async (host: string): Promise<LookupAddress[]> => {
  const a = fakeDns[host];
  if (!a) throw new Error(`lookup ${host}: no such host`);
  return a.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

const ttl = { maxMs: 3_600_000, jitterMs: 10_000 };

function hook(over: Partial<Webhook> = {}): Webhook {
  return {
    registeredFromAddress: '',
    config: { url: 'https://good.hooks.net/hook', contentType: 'wrp', secret: 's', altUrls: [] },
    failureUrl: '',
    events: ['.*'],
    matcher: { deviceId: [] },
    durationMs: 60_000,
    untilMs: 0,
    ...over,
  };
}

async function validationError(w: Webhook, guard = new UrlGuard(strictUrl, lookupAll)) {
  try {
    await validateWebhook(w, guard, ttl, Date.now());
  } catch (err) {
    assert.ok(err instanceof WebhookError);
    return err.message;
  }
  return undefined;
}

test('decodes the registration JSON: duration as Go string or seconds, until RFC 3339', () => {
  const w = decodeWebhook(
    JSON.stringify({
      config: {
        url: 'https://x.hooks.net/a',
        content_type: 'json',
        secret: 'k',
        alt_urls: ['https://y/'],
      },
      failure_url: 'https://f/',
      events: ['device-status.*'],
      matcher: { device_id: ['mac:.*'] },
      duration: '1h30m',
      until: '2030-01-02T03:04:05.5Z',
      registered_from_address: 'spoofed',
      unknown_key: 1,
    }),
  );
  assert.equal(w.durationMs, 5_400_000);
  assert.equal(w.untilMs, Date.UTC(2030, 0, 2, 3, 4, 5, 500));
  assert.equal(w.registeredFromAddress, '');
  assert.deepEqual(w.config.altUrls, ['https://y/']);
  assert.equal(decodeWebhook('{"duration": 300, "events": []}').durationMs, 300_000);
});

test('decode errors carry the original texts', () => {
  const msg = (body: string) => {
    try {
      decodeWebhook(body);
    } catch (err) {
      return (err as Error).message;
    }
    return '';
  };
  assert.match(msg('{not json'), /^failed to JSON unmarshal webhook: /);
  assert.equal(
    msg('{"config":{"url":5}}'),
    'failed to JSON unmarshal webhook: config.url must be of type string',
  );
  assert.equal(
    msg('{"duration":"5 minutes"}'),
    `failed to JSON unmarshal webhook: duration must be of type int or string (ex:'5m'); Invalid value: "5 minutes"`,
  );
  assert.equal(
    msg('{"duration":true}'),
    `failed to JSON unmarshal webhook: duration must be of type int or string (ex:'5m'); Invalid value: true`,
  );
  assert.match(msg('{"events":"x"}'), /events must be of type \[\]string/);
});

test('validators run in the original order with the original messages', async () => {
  assert.equal(
    await validationError(hook({ config: { ...hook().config, url: '' } })),
    'invalid Config URL: url cannot be an empty string',
  );
  assert.equal(
    await validationError(hook({ config: { ...hook().config, url: 'ftp://good.hooks.net/' } })),
    'invalid Config URL: bad URL protocol: ftp',
  );
  assert.equal(await validationError(hook({ events: [] })), 'cannot have zero events');
  assert.equal(await validationError(hook({ events: ['(?<=x)'] })), 'event cannot be parsed');
  assert.equal(
    await validationError(hook({ matcher: { deviceId: ['[unclosed'] } })),
    'deviceID cannot be parsed',
  );
  assert.equal(
    await validationError(hook({ durationMs: 0, untilMs: 0 })),
    'until and duration are both absent',
  );
  assert.equal(
    await validationError(hook({ durationMs: 7_200_000 })),
    'duration value of webhook is out of bounds: 2h0m0s not between 0 and 1h0m0s',
  );
  assert.match(
    (await validationError(hook({ untilMs: Date.now() + 86_400_000 }))) ?? '',
    /^until value of webhook is out of bounds: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC after /,
  );
  assert.equal(
    await validationError(hook({ failureUrl: 'http://loop.hooks.net/' })),
    'invalid Failure URL: cannot use loopback host: loop.hooks.net lookup includes 127.0.0.1',
  );
  assert.equal(
    await validationError(hook({ config: { ...hook().config, altUrls: [''] } })),
    "invalid Alternative URL(s) '': url cannot be an empty string",
  );
  assert.equal(await validationError(hook()), undefined);
});

test('SSRF: loopback, private, link-local, special-use and unknown hosts are refused', async () => {
  const g = new UrlGuard(strictUrl, lookupAll);
  const check = async (u: string) => {
    try {
      await g.check(u);
      return 'ok';
    } catch (err) {
      return (err as Error).message;
    }
  };
  assert.equal(await check('http://127.0.0.1:8080/'), 'cannot use loopback host: 127.0.0.1');
  assert.equal(await check('http://[::1]/'), 'cannot use loopback host: ::1');
  assert.equal(await check('http://[::ffff:127.0.0.1]/'), 'cannot use loopback host: 127.0.0.1');
  assert.equal(
    await check('http://v6.hooks.net/'),
    'cannot use loopback host: v6.hooks.net lookup includes ::1',
  );
  assert.equal(await check('http://93.184.216.34/'), 'cannot use IP as host: 93.184.216.34');
  await assert.rejects(
    new UrlGuard({ ...strictUrl, allowLoopback: true }, lookupAll).check('http://localhost:80/'),
    { message: 'host is blocked: localhost' },
  );
  assert.match(await check('http://nope.invalid/'), /^host does not exist: /);
  assert.equal(
    await check('http://private.hooks.net/'),
    'cannot use private host: private.hooks.net lookup includes 10.1.2.3',
  );
  assert.equal(
    await check('http://meta.hooks.net/latest/meta-data'),
    'cannot use private host: meta.hooks.net lookup includes 169.254.169.254',
  );
  assert.equal(
    await check('http://mixed.hooks.net/'),
    'cannot use private host: mixed.hooks.net lookup includes 192.168.1.1',
  );
  assert.equal(
    await check('http://user:pw@good.hooks.net/'),
    'URL must not carry user information',
  );
  assert.equal(await check('http://good.hooks.net/'), 'ok');

  const withSubnets = new UrlGuard(
    { ...strictUrl, invalidSubnets: ['93.184.0.0/16'], invalidHosts: ['bad'] },
    lookupAll,
  );
  await assert.rejects(withSubnets.check('http://good.hooks.net/'), {
    message: 'IP is within a blocked subnet: ip 93.184.216.34 in 93.184.0.0/16',
  });
  const withHosts = new UrlGuard(
    { ...strictUrl, allowLoopback: true, invalidHosts: ['bad'] },
    lookupAll,
  );
  await assert.rejects(withHosts.check('http://bad.good.hooks.net/'), {
    message: 'host is blocked: bad.good.hooks.net',
  });
  await assert.rejects(
    new UrlGuard({ ...strictUrl, httpsOnly: true }, lookupAll).check('http://good.hooks.net/'),
    {
      message: 'URL scheme is not HTTPS: http',
    },
  );

  // the v2 policy allows IPs and ignores the lists, but never loopback or private targets
  const v2 = new UrlGuard(v2Policy({ ...strictUrl, invalidHosts: ['good'] }), lookupAll);
  await v2.check('http://93.184.216.34/');
  await v2.check('http://good.hooks.net/');
  await assert.rejects(v2.check('http://127.0.0.1/'));
  await assert.rejects(v2.check('http://10.0.0.1/'));
  assert.equal(g.refuseAddress('127.0.0.1'), 'loopback address 127.0.0.1');
  assert.equal(g.refuseAddress('169.254.169.254'), 'private address 169.254.169.254');
  assert.equal(g.refuseAddress('93.184.216.34'), undefined);
});

test('v2 leniency rewrites the lifetime with the original warnings', () => {
  const now = Date.now();
  const a = hook({ durationMs: 0 });
  assert.equal(
    fixV2Duration(a, ttl, now),
    'Unset duration and until fields will not be accepted in v3, webhook duration defaulted to 1h0m0s',
  );
  assert.equal(a.durationMs, ttl.maxMs);
  const b = hook({ durationMs: 10 * 3_600_000 });
  assert.equal(
    fixV2Duration(b, ttl, now),
    'Invalid duration will not be accepted in v3: duration value of webhook is out of bounds: 10h0m0s not between 0 and 1h0m0s, webhook duration defaulted to 1h0m0s',
  );
  const c = hook({ durationMs: 0, untilMs: now + 86_400_000 });
  assert.match(
    fixV2Duration(c, ttl, now) ?? '',
    /^Invalid until value will not be accepted in v3: until value of webhook is out of bounds: .*, webhook duration defaulted to 5m$/,
  );
  assert.equal(c.untilMs, 0);
  assert.equal(fixV2Duration(hook(), ttl, now), undefined);
});

test('stored record layout: PartnerIDs/Webhook, duration in ns, until RFC 3339; round trip', () => {
  const w = hook({ durationMs: 300_000 });
  applyDefaults(w, '10.0.0.1:1234', Date.UTC(2030, 0, 1));
  assert.deepEqual(w.matcher.deviceId, ['.*']);
  const s = { id: webhookId(w.config.url), partnerIds: ['comcast'], owner: 'me', webhook: w };
  const json = storedToJson(s, 'XxxxxX', false);
  assert.deepEqual(Object.keys(json), ['PartnerIDs', 'Webhook']);
  assert.equal(
    JSON.stringify(json),
    '{"PartnerIDs":["comcast"],"Webhook":{"registered_from_address":"10.0.0.1:1234","config":{"url":"https://good.hooks.net/hook","content_type":"wrp","secret":"XxxxxX"},"failure_url":"","events":[".*"],"matcher":{"device_id":[".*"]},"duration":300000000000,"until":"2030-01-01T00:05:00Z"}}',
  );
  const back = storedFromJson(JSON.parse(JSON.stringify(storedToJson(s))));
  assert.deepEqual(back, s);
  assert.equal(goJson({ a: '<x>&' }), '{"a":"\\u003cx\\u003e\\u0026"}');
  assert.match(webhookId('http://a/'), /^[0-9a-f]{64}$/);
});

test('matching: partner overlap, unanchored events on dest without event:, device on source or dest', () => {
  const s = {
    id: 'x',
    partnerIds: ['comcast'],
    owner: '',
    webhook: hook({ events: ['online$'], matcher: { deviceId: ['mac:1122'] } }),
  };
  const m = compileMatcher(s);
  const opts: { disablePartnerIDs: boolean; customPIDs: string[] } = {
    disablePartnerIDs: false,
    customPIDs: [],
  };
  const ev = (dest: string, source: string, partnerIds?: string[]) => ({
    msg: { msgType: 4, dest, source, ...(partnerIds ? { partnerIds } : {}) },
    event: eventString(dest),
  });
  const t = (e: ReturnType<typeof ev>, o = opts) => matches(m, e.msg, e.event, o);
  assert.equal(
    t(ev('event:device-status/mac:112233445566/online', 'dns:talaria', ['comcast'])),
    true,
  );
  assert.equal(
    t(ev('event:device-status/mac:112233445566/online', 'mac:112233445566', ['x'])),
    false,
  );
  assert.equal(t(ev('event:device-status/mac:112233445566/online', 'x', undefined)), false);
  assert.equal(
    t(ev('event:device-status/mac:112233445566/online', 'x', undefined), {
      disablePartnerIDs: false,
      customPIDs: ['comcast'],
    }),
    true,
  );
  assert.equal(
    t(ev('event:device-status/mac:ffffff/online', 'mac:112233445566', ['comcast'])),
    true,
  );
  assert.equal(t(ev('event:device-status/mac:ffffff/online', 'mac:ffff', ['comcast'])), false);
  assert.equal(t(ev('event:device-status/mac:112233445566/offline', 'x', ['comcast'])), false);
  assert.equal(eventType('event:device-status/mac:1/online'), 'device-status');
  assert.equal(eventType('event:{weird label}/x'), 'unknown');
  assert.equal(eventType('mac:112233445566'), 'unknown');
});

test('an evil pattern compiles to a linear-time matcher', () => {
  const s = { id: 'x', partnerIds: ['p'], owner: '', webhook: hook({ events: ['(a+)+$'] }) };
  const m = compileMatcher(s);
  const dest = `event:${'a'.repeat(5000)}!`;
  for (let i = 0; i < 100; i++) {
    assert.equal(
      matches(m, { msgType: 4, dest, partnerIds: ['p'] }, eventString(dest), {
        disablePartnerIDs: false,
        customPIDs: [],
      }),
      false,
    );
  }
});

test('signatures: sha1 HMAC, verified as wrp-listener does', () => {
  const body = Buffer.from('{"a":1}');
  const sig = signBody('secret', body);
  assert.match(sig, /^sha1=[0-9a-f]{40}$/);
  assert.equal(verifySignature({ 'x-webpa-signature': sig }, body, ['other', 'secret']), true);
  assert.equal(verifySignature({ 'x-webpa-signature': sig }, body, ['other']), false);
  assert.equal(verifySignature({}, body, ['secret']), false);
  assert.equal(verifySignature({ 'x-webpa-signature': 'sha1' }, body, ['secret']), false);
  assert.equal(verifySignature({ 'x-webpa-signature': 'sha1=zz' }, body, ['secret']), false);
  // Xmidt-Signature wins over X-Webpa-Signature when present
  assert.equal(
    verifySignature({ 'xmidt-signature': 'sha1=00', 'x-webpa-signature': sig }, body, ['secret']),
    false,
  );
});
