import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import {
  ConfigError,
  durationSchema,
  envName,
  listenerSchema,
  loadConfig,
  logSchema,
  parseDuration,
  snakeUpper,
} from '@xmidt/runtime';

const schema = Type.Object({
  primary: listenerSchema({ port: 6200 }),
  admin: listenerSchema({ host: '127.0.0.1', port: 6201 }),
  log: logSchema(),
  device: Type.Object({
    pingPeriod: durationSchema('45s'),
    maxDevices: Type.Integer({ minimum: 1, default: 100000 }),
    idleTimeout: durationSchema('135s'),
  }),
  rehasher: Type.Object(
    {
      enabled: Type.Boolean({ default: true }),
      ratePerSecond: Type.Number({ default: 100 }),
    },
    { default: {} },
  ),
  partnerIds: Type.Array(Type.String(), { default: [] }),
  ports: Type.Array(Type.Integer(), { default: [] }),
  labels: Type.Record(Type.String(), Type.String(), { default: {} }),
});

const dir = mkdtempSync(join(tmpdir(), 'xmidt-runtime-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function yamlFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.code, 'config_invalid');
    return err;
  }
  assert.fail('expected a ConfigError');
}

describe('loadConfig', () => {
  it('fills every default from the schema when there is nothing else', () => {
    const cfg = loadConfig({ service: 'talaria', schema, env: {} });
    assert.deepEqual(cfg, {
      primary: { host: '0.0.0.0', port: 6200 },
      admin: { host: '127.0.0.1', port: 6201 },
      log: { level: 'info' },
      device: { pingPeriod: '45s', maxDevices: 100000, idleTimeout: '135s' },
      rehasher: { enabled: true, ratePerSecond: 100 },
      partnerIds: [],
      ports: [],
      labels: {},
    });
  });

  it('layers defaults < YAML file < environment < overrides', () => {
    const file = yamlFile(
      'layers.yaml',
      [
        'primary:',
        '  port: 7000',
        'device:',
        '  pingPeriod: 1m30s',
        '  maxDevices: 50',
        'rehasher:',
        '  enabled: false',
        'partnerIds: [comcast]',
        'labels:',
        '  dc: east',
      ].join('\n'),
    );
    const cfg = loadConfig({
      service: 'talaria',
      schema,
      file,
      env: {
        TALARIA_DEVICE_PING_PERIOD: '30s',
        TALARIA_REHASHER_RATE_PER_SECOND: '2.5',
        TALARIA_PARTNER_IDS: 'a, b ,c',
        TALARIA_PORTS: '[1, 2]',
        TALARIA_LOG_LEVEL: 'debug',
        OTHER_DEVICE_MAX_DEVICES: '1',
      },
      overrides: { primary: { port: 0 }, device: { maxDevices: 7 } },
    });
    assert.equal(cfg.primary.port, 0); // override beats file
    assert.equal(cfg.primary.host, '0.0.0.0'); // default kept next to a file value
    assert.equal(cfg.device.pingPeriod, '30s'); // env beats file
    assert.equal(parseDuration(cfg.device.pingPeriod), 30_000);
    assert.equal(cfg.device.maxDevices, 7);
    assert.equal(cfg.device.idleTimeout, '135s');
    assert.equal(cfg.rehasher.enabled, false);
    assert.equal(cfg.rehasher.ratePerSecond, 2.5);
    assert.deepEqual(cfg.partnerIds, ['a', 'b', 'c']);
    assert.deepEqual(cfg.ports, [1, 2]);
    assert.equal(cfg.log.level, 'debug');
    assert.deepEqual(cfg.labels, { dc: 'east' });
  });

  it('coerces environment strings to the schema type', () => {
    const cfg = loadConfig({
      service: 'talaria',
      schema,
      env: {
        TALARIA_REHASHER_ENABLED: 'false',
        TALARIA_DEVICE_MAX_DEVICES: '12',
        TALARIA_DEVICE_IDLE_TIMEOUT: '90', // number of seconds
        TALARIA_PRIMARY_TLS_CERT_FILE: '/c.pem',
        TALARIA_PRIMARY_TLS_KEY_FILE: '/k.pem',
        TALARIA_PRIMARY_TLS_REQUIRE_CLIENT_CERT: 'true',
        TALARIA_LABELS: '{"zone":"a"}',
      },
    });
    assert.equal(cfg.rehasher.enabled, false);
    assert.equal(cfg.device.maxDevices, 12);
    assert.equal(cfg.device.idleTimeout, 90);
    assert.equal(parseDuration(cfg.device.idleTimeout), 90_000);
    assert.deepEqual(cfg.primary.tls, {
      certFile: '/c.pem',
      keyFile: '/k.pem',
      requireClientCert: true,
    });
    assert.deepEqual(cfg.labels, { zone: 'a' });
  });

  it('matches environment names case-insensitively and without underscores in a key', () => {
    const cfg = loadConfig({
      service: 'talaria',
      schema,
      env: { talaria_device_pingperiod: '10s', TALARIA_DEVICE_MAXDEVICES: '3' },
    });
    assert.equal(cfg.device.pingPeriod, '10s');
    assert.equal(cfg.device.maxDevices, 3);
  });

  it('reports environment variables that match no key as warnings', () => {
    const warnings: string[] = [];
    loadConfig({
      service: 'talaria',
      schema,
      env: { TALARIA_DEVICE_PING_PERIDO: '1s' },
      onWarning: (m) => warnings.push(m),
    });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /TALARIA_DEVICE_PING_PERIDO/);
  });

  it('accepts YAML keys that differ only in case, as the original does', () => {
    const file = yamlFile('case.yaml', 'device:\n  pingperiod: 5s\n  MaxDevices: 9\n');
    const cfg = loadConfig({ service: 'talaria', schema, file, env: {} });
    assert.equal(cfg.device.pingPeriod, '5s');
    assert.equal(cfg.device.maxDevices, 9);
  });

  it('names the key path and the problem of an invalid value', () => {
    const file = yamlFile('bad.yaml', 'device:\n  pingPeriod: 45 seconds\n  maxDevices: 0\n');
    const err = configError(() => loadConfig({ service: 'talaria', schema, file, env: {} }));
    assert.match(err.message, /device\.pingPeriod: expected a duration/);
    assert.match(err.message, /device\.maxDevices: Expected integer to be greater or equal to 1/);
    assert.equal(err.issues.length, 2);
  });

  it('names the key and variable of a bad environment value', () => {
    const err = configError(() =>
      loadConfig({ service: 'talaria', schema, env: { TALARIA_DEVICE_MAX_DEVICES: 'many' } }),
    );
    assert.match(
      err.message,
      /device\.maxDevices \(from TALARIA_DEVICE_MAX_DEVICES\): expected integer, got "many"/,
    );
  });

  it('rejects unknown keys and suggests the intended one', () => {
    const file = yamlFile('typo.yaml', 'device:\n  pingPerod: 5s\nextra: 1\n');
    const err = configError(() => loadConfig({ service: 'talaria', schema, file, env: {} }));
    assert.match(err.message, /device\.pingPerod: unknown key \(did you mean pingPeriod\?\)/);
    assert.match(err.message, /extra: unknown key/);
  });

  it('names a missing required key', () => {
    const strict = Type.Object({ store: Type.Object({ dir: Type.String() }) });
    const err = configError(() => loadConfig({ service: 'caduceus', schema: strict, env: {} }));
    assert.match(err.message, /store\.dir: Expected required property/);
  });

  it('names array items by index', () => {
    const s = Type.Object({ urls: Type.Array(Type.String({ minLength: 1 }), { default: [] }) });
    const err = configError(() =>
      loadConfig({ service: 'scytale', schema: s, env: {}, overrides: { urls: ['a', ''] } }),
    );
    assert.match(err.message, /urls\[1\]: /);
  });

  it('fails with config_invalid on an unreadable or unparsable file', () => {
    const missing = configError(() =>
      loadConfig({ service: 'talaria', schema, file: join(dir, 'nope.yaml'), env: {} }),
    );
    assert.match(missing.message, /cannot read config file .*nope\.yaml/);
    const broken = yamlFile('broken.yaml', 'device: [unclosed\n');
    assert.match(
      configError(() => loadConfig({ service: 'talaria', schema, file: broken, env: {} })).message,
      /cannot parse config file/,
    );
    const list = yamlFile('list.yaml', '- a\n- b\n');
    assert.match(
      configError(() => loadConfig({ service: 'talaria', schema, file: list, env: {} })).message,
      /top level must be a mapping/,
    );
  });

  it('treats an empty file as no settings', () => {
    const file = yamlFile('empty.yaml', '# nothing\n');
    const cfg = loadConfig({ service: 'talaria', schema, file, env: {} });
    assert.equal(cfg.primary.port, 6200);
  });

  it('does not change the overrides object it is given', () => {
    const overrides = { device: { maxDevices: 5 } };
    loadConfig({ service: 'talaria', schema, env: {}, overrides });
    assert.deepEqual(overrides, { device: { maxDevices: 5 } });
  });
});

describe('env names', () => {
  it('maps camelCase key segments to upper snake case', () => {
    assert.equal(snakeUpper('pingPeriod'), 'PING_PERIOD');
    assert.equal(snakeUpper('maxTLSVersion'), 'MAX_TLS_VERSION');
    assert.equal(snakeUpper('http2'), 'HTTP2');
    assert.equal(snakeUpper('cut-off'), 'CUT_OFF');
    assert.equal(snakeUpper('disablePartnerIDs'), 'DISABLE_PARTNER_IDS');
    assert.equal(snakeUpper('customPIDs'), 'CUSTOM_PIDS');
    assert.equal(snakeUpper('altURLsFor'), 'ALT_URLS_FOR');
    assert.equal(snakeUpper('IDs'), 'IDS');
    assert.equal(envName('talaria', 'device.pingPeriod'), 'TALARIA_DEVICE_PING_PERIOD');
    assert.equal(envName('all-in-one', 'a.b'), 'ALL_IN_ONE_A_B');
  });
});
