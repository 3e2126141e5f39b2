import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '@xmidt/runtime';
import { PARODUS_OPTIONS, parseParodusArgs, validateParodusConfig } from '@xmidt/parodus';
import { parodusArgsFromYaml } from '../src/parodus-config.js';
import { DEFAULT_PORTS } from '../src/ports.js';
import { SERVICE_SCHEMAS, YAML_SERVICES } from '../src/service-schemas.js';

const deploy = (file: string): string =>
  new URL(`../../../deploy/${file}`, import.meta.url).pathname;

/** Every object key in a loaded configuration (not inside arrays). */
function keysOf(value: unknown, out = new Set<string>()): Set<string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return out;
  for (const [k, v] of Object.entries(value)) {
    out.add(k);
    keysOf(v, out);
  }
  return out;
}

describe('deploy/ samples load through each service’s own config loader', () => {
  for (const service of YAML_SERVICES) {
    it(`deploy/${service}.yaml`, () => {
      const file = deploy(`${service}.yaml`);
      // Unknown or mistyped keys make loadConfig throw, naming them.
      const config = loadConfig({ service, schema: SERVICE_SCHEMAS[service], file, env: {} });
      // Every key the schema has (defaults included) is shown, set or commented.
      const text = readFileSync(file, 'utf8');
      const missing = [...keysOf(config)].filter(
        (k) => !new RegExp(`(^|[\\s{,#])${k}:`, 'm').test(text),
      );
      assert.deepEqual(missing, [], `keys not documented in deploy/${service}.yaml`);
    });
  }

  it('deploy/parodus.yaml becomes valid Parodus options, all of them', () => {
    const file = deploy('parodus.yaml');
    const parsed = parseParodusArgs(parodusArgsFromYaml(file));
    assert.deepEqual(parsed.warnings, []);
    validateParodusConfig(parsed.config);
    assert.equal(parsed.config.hwMac, '112233445566');
    const text = readFileSync(file, 'utf8');
    for (const o of PARODUS_OPTIONS) assert.match(text, new RegExp(`^${o.long}:`, 'm'));
  });

  it('a Parodus YAML with an unknown key or an unquoted MAC is refused', () => {
    assert.throws(() => parodusArgsFromYaml(deploy('prometheus.yml')), /unknown key global/);
    const dir = mkdtempSync(join(tmpdir(), 'xmidt-parodus-'));
    try {
      const file = join(dir, 'parodus.yaml');
      writeFileSync(file, 'hw-mac: 001122334455\nwebpa-url: http://127.0.0.1:6400\n');
      assert.throws(() => parodusArgsFromYaml(file), /hw-mac must be a quoted string/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('deploy/prometheus.yml scrapes every admin listener on the default ports', () => {
    const doc = parseYaml(readFileSync(deploy('prometheus.yml'), 'utf8')) as {
      scrape_configs: {
        job_name: string;
        metrics_path: string;
        static_configs: { targets: string[] }[];
      }[];
    };
    const targets = new Map(
      doc.scrape_configs.map((j) => [j.job_name, j.static_configs.flatMap((s) => s.targets)]),
    );
    for (const job of doc.scrape_configs) assert.equal(job.metrics_path, '/metrics');
    assert.deepEqual(targets.get('caduceus'), [`127.0.0.1:${DEFAULT_PORTS.caduceus.admin}`]);
    assert.deepEqual(targets.get('talaria'), [`127.0.0.1:${DEFAULT_PORTS.talaria.admin}`]);
    assert.deepEqual(targets.get('scytale'), [`127.0.0.1:${DEFAULT_PORTS.scytale.admin}`]);
    assert.deepEqual(targets.get('petasos'), [`127.0.0.1:${DEFAULT_PORTS.petasos.admin}`]);
    assert.deepEqual(targets.get('themis'), [`127.0.0.1:${DEFAULT_PORTS.themis.admin}`]);
  });
});
