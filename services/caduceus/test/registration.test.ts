import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createCaduceus, type Caduceus } from '../src/service.js';
import { http, register, testConfig } from './helpers.js';

const alice = { authorization: `Basic ${Buffer.from('alice:pw').toString('base64')}` };
const bob = { authorization: `Basic ${Buffer.from('bob:pw').toString('base64')}` };
let c: Caduceus;
let strict: Caduceus;
let base: string;
let strictBase: string;

before(async () => {
  c = createCaduceus(
    testConfig({
      auth: { basic: ['alice:pw', 'bob:pw'] },
      webhook: { validation: { ttl: { max: '10m', jitter: '10s' } }, maxRegistrations: 5 },
    }),
  );
  base = `http://127.0.0.1:${(await c.start()).primaryPort}`;
  // default (strict) URL rules
  strict = createCaduceus(
    testConfig({
      webhook: {
        validation: {
          url: { allowLoopback: false, allowIP: false, allowPrivate: false },
        },
      },
    }),
  );
  strictBase = `http://127.0.0.1:${(await strict.start()).primaryPort}`;
});
after(async () => {
  await c.stop();
  await strict.stop();
});

const reg = (url: string, extra: Record<string, unknown> = {}) => ({
  config: { url, content_type: 'json', secret: 'shh' },
  events: ['.*'],
  duration: '5m',
  ...extra,
});

test('POST /api/v3/hook stores; GET /api/v3/hooks lists with secrets obfuscated', async () => {
  const r = await register(base, reg('http://127.0.0.1:9/a'), {
    ...alice,
    'x-xmidt-partner-ids': 'comcast, sky',
  });
  assert.equal(r.status, 200);
  assert.equal(r.text, '{"message": "Success"}');
  assert.equal(r.headers.get('content-type'), 'application/json');
  const list = await http(`${base}/api/v3/hooks`, { headers: alice });
  assert.equal(list.status, 200);
  assert.ok(!list.text.includes('shh'));
  const hooks = JSON.parse(list.text) as Record<string, unknown>[];
  const h = hooks.find((x) => (x['config'] as { url: string }).url === 'http://127.0.0.1:9/a');
  assert.ok(h);
  assert.equal((h['config'] as { secret: string }).secret, '<obfuscated>');
  assert.equal(h['duration'], 300 * 1e9);
  assert.deepEqual(h['matcher'], { device_id: ['.*'] });
  assert.match(h['registered_from_address'] as string, /^127\.0\.0\.1:\d+$/);
  assert.ok(list.text.includes('\\u003cobfuscated\\u003e'));
  const stored = c.store.list().find((s) => s.webhook.config.url === 'http://127.0.0.1:9/a');
  assert.deepEqual(stored?.partnerIds, ['comcast', 'sky']);
  assert.equal(stored?.owner, 'alice');
});

test('the same URL replaces the registration; another owner may not', async () => {
  const url = 'http://127.0.0.1:9/replace';
  assert.equal((await register(base, reg(url, { events: ['a'] }), alice)).status, 200);
  assert.equal((await register(base, reg(url, { events: ['b'] }), alice)).status, 200);
  const mine = c.store.list().filter((s) => s.webhook.config.url === url);
  assert.equal(mine.length, 1);
  assert.deepEqual(mine[0]?.webhook.events, ['b']);
  const other = await register(base, reg(url), bob);
  assert.equal(other.status, 403);
  assert.equal(
    other.text,
    '{"message":"failed to add webhook to registry: resource owner mismatch"}\n',
  );
});

test('validation failures: 400 with the original body', async () => {
  const cases: [unknown, string][] = [
    [reg(''), 'failed webhook validation: invalid Config URL: url cannot be an empty string'],
    [
      reg('http://127.0.0.1:9/x', { events: [] }),
      'failed webhook validation: cannot have zero events',
    ],
    [
      reg('http://127.0.0.1:9/x', { events: ['(?<bad'] }),
      'failed webhook validation: event cannot be parsed',
    ],
    [
      reg('http://127.0.0.1:9/x', { duration: '1h' }),
      'failed webhook validation: duration value of webhook is out of bounds: 1h0m0s not between 0 and 10m0s',
    ],
    [
      reg('http://127.0.0.1:9/x', { duration: undefined }),
      'failed webhook validation: until and duration are both absent',
    ],
  ];
  for (const [body, message] of cases) {
    const r = await register(base, body, alice);
    assert.equal(r.status, 400, message);
    assert.equal(r.text, `${JSON.stringify({ message })}\n`);
  }
  const bad = await register(base, '{"config":', alice);
  assert.equal(bad.status, 400);
  assert.match(JSON.parse(bad.text).message, /^failed to JSON unmarshal webhook: /);
  const huge = await register(
    base,
    JSON.stringify(reg('http://127.0.0.1:9/x', { pad: 'x'.repeat(100_000) })),
    alice,
  );
  assert.equal(huge.status, 413);
  assert.equal((await register(base, reg('http://127.0.0.1:9/x'))).status, 401);
});

test('/api/v2/hook is lenient about lifetimes and says so in X-Xmidt-Warning', async () => {
  const r = await register(
    base,
    reg('http://127.0.0.1:9/v2', { duration: undefined }),
    alice,
    'v2',
  );
  assert.equal(r.status, 200);
  assert.equal(
    r.headers.get('x-xmidt-warning'),
    'Unset duration and until fields will not be accepted in v3, webhook duration defaulted to 10m0s',
  );
  const s = c.store.list().find((x) => x.webhook.config.url === 'http://127.0.0.1:9/v2');
  assert.equal(s?.webhook.durationMs, 600_000);
});

test('DELETE /api/v3/hook and until in the past remove a registration', async () => {
  const url = 'http://127.0.0.1:9/del';
  await register(base, reg(url), alice);
  assert.equal(
    (
      await http(`${base}/api/v3/hook?url=${encodeURIComponent(url)}`, {
        method: 'DELETE',
        headers: bob,
      })
    ).status,
    403,
  );
  const d = await http(`${base}/api/v3/hook?url=${encodeURIComponent(url)}`, {
    method: 'DELETE',
    headers: alice,
  });
  assert.equal(d.status, 200);
  assert.equal(
    (
      await http(`${base}/api/v3/hook?url=${encodeURIComponent(url)}`, {
        method: 'DELETE',
        headers: alice,
      })
    ).status,
    404,
  );
  await register(base, reg(url), alice);
  const past = await register(
    base,
    reg(url, { duration: undefined, until: '2001-01-01T00:00:00Z' }),
    alice,
  );
  assert.equal(past.status, 200);
  assert.equal(
    c.store.list().some((s) => s.webhook.config.url === url),
    false,
  );
});

test('the number of registrations is bounded', async () => {
  let status = 200;
  for (let i = 0; i < 10 && status === 200; i++) {
    status = (await register(base, reg(`http://127.0.0.1:9/many/${i}`), alice)).status;
  }
  assert.equal(status, 400);
});

test('SSRF targets are refused by default', async () => {
  const targets = [
    ['http://127.0.0.1:8080/', 'cannot use loopback host: 127.0.0.1'],
    ['http://localhost:8080/', 'cannot use loopback host: localhost lookup includes'],
    ['http://[::1]/', 'cannot use loopback host: ::1'],
    ['http://10.0.0.1/', 'cannot use IP as host: 10.0.0.1'],
    ['http://169.254.169.254/latest', 'cannot use IP as host: 169.254.169.254'],
    ['file:///etc/passwd', 'bad URL protocol: file'],
    ['gopher://x/', 'bad URL protocol: gopher'],
  ];
  for (const [url, text] of targets) {
    const r = await register(strictBase, reg(url as string));
    assert.equal(r.status, 400, url);
    assert.ok((JSON.parse(r.text).message as string).includes(text as string), `${url}: ${r.text}`);
  }
  // v2 allows IP literals but still not private or loopback ones
  for (const url of ['http://169.254.169.254/', 'http://192.168.0.1/', 'http://127.0.0.1/']) {
    assert.equal((await register(strictBase, reg(url), {}, 'v2')).status, 400, url);
  }
  // failure_url and alt_urls are checked too
  const alt = await register(
    strictBase,
    reg('http://93.184.216.34/', {
      config: { url: 'http://93.184.216.34/', alt_urls: ['http://10.0.0.1/'] },
    }),
    {},
    'v2',
  );
  assert.equal(alt.status, 400);
});
