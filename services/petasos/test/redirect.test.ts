import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { normalizeInstanceUrl } from '@xmidt/discovery';
import { parseDeviceId } from '@xmidt/wrp';
import { createPetasos } from '../src/service.js';
import { petasosTestConfig } from './config.js';
import type { Petasos } from '../src/service.js';
import { vectorPath } from './helpers.js';

interface Lookup {
  key: string;
  device_name?: string;
  owner: string;
}
interface RingCase {
  id: string;
  instances: string[];
  vnodes: number;
  lookups: Lookup[];
}

function configFor(instances: Record<string, string[]>, datacenter = 'dc1') {
  return petasosTestConfig({
    discovery: { type: 'static', datacenter, static: { services: { talaria: instances } } },
    server: 'petasos-test',
    region: 'east',
  });
}

async function started(instances: Record<string, string[]>): Promise<[Petasos, string, string]> {
  const p = createPetasos(configFor(instances));
  const ports = await p.start();
  return [p, `http://127.0.0.1:${ports.primaryPort}`, `http://127.0.0.1:${ports.adminPort}`];
}

function isDeviceKey(key: string): boolean {
  try {
    return parseDeviceId(key) === key;
  } catch {
    return false;
  }
}

const vectors = JSON.parse(readFileSync(vectorPath('ring.json'), 'utf8')) as {
  ring_hostname: RingCase[];
};

describe('petasos redirects agree with the ring vectors', () => {
  for (const c of vectors.ring_hostname) {
    // only instance lists that discovery keeps as they are (its normalisation is a fixed point)
    const fixed = c.instances.every((u) => {
      try {
        return normalizeInstanceUrl(u) === u;
      } catch {
        return false;
      }
    });
    if (!fixed || c.vnodes !== 211) continue;
    it(`${c.id}: ${c.instances.length} instances, ${c.lookups.length} lookups`, async () => {
      const [p, base] = await started({ dc1: c.instances, dc2: ['http://elsewhere:6200'] });
      try {
        // lookups whose key is a device id (some boundary keys are raw vnode strings)
        for (const l of c.lookups.filter((x) => isDeviceKey(x.key))) {
          const res = await request(`${base}/api/v2/device`, {
            // header bytes are the UTF-8 of the name, as a Go client sends them
            headers: {
              'x-webpa-device-name': Buffer.from(l.device_name ?? l.key, 'utf8').toString('latin1'),
            },
          });
          await res.body.dump();
          assert.equal(res.statusCode, 307, l.key);
          assert.equal(res.headers.location, `${l.owner}/api/v2/device`, l.key);
        }
      } finally {
        await p.stop();
      }
    });
  }
});

describe('petasos request handling', () => {
  let petasos: Petasos;
  let base: string;
  let admin: string;
  const owner = 'http://talaria-0.example.net:6200';
  before(async () => {
    [petasos, base, admin] = await started({ dc1: [owner] });
  });
  after(async () => {
    await petasos.stop();
  });

  it('answers every method and path with a 307 keeping path and query', async () => {
    for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'] as const) {
      for (const path of ['/api/v2/device', '/api/v3/device?x=1&y=2', '/anything/at/all']) {
        const res = await request(`${base}${path}`, {
          method,
          headers: { 'x-webpa-device-name': 'mac:112233445566' },
        });
        const body = await res.body.text();
        assert.equal(res.statusCode, 307, `${method} ${path}`);
        assert.equal(res.headers.location, owner + path);
        if (method === 'GET') {
          assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
          assert.equal(
            body,
            `<a href="${owner}${path.replace(/&/g, '&amp;')}">Temporary Redirect</a>.\n\n`,
          );
        } else if (method === 'HEAD') {
          assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
        } else {
          assert.equal(res.headers['content-type'], undefined);
          assert.equal(body, '');
        }
      }
    }
  });

  it('trims every trailing slash of the request target, even after a query', async () => {
    for (const [path, want] of [
      ['/', ''],
      ['/api/v2/device/', '/api/v2/device'],
      ['/api/v2/device///', '/api/v2/device'],
      ['/api/v2/device?a=b/', '/api/v2/device?a=b'],
    ] as const) {
      const res = await request(`${base}${path}`, {
        headers: { 'x-webpa-device-name': 'mac:112233445566' },
      });
      await res.body.dump();
      assert.equal(res.statusCode, 307);
      assert.equal(res.headers.location, owner + want, path);
    }
  });

  it('accepts any case and form of the device name the id parser accepts', async () => {
    for (const name of [
      'MAC:11-22-33-44-55-66/config',
      'mac:11:22:33:44:55:66',
      'uuid:X',
      'dns:a.b',
      'serial:1',
    ]) {
      const res = await request(`${base}/api/v2/device`, {
        headers: { 'X-WEBPA-DEVICE-NAME': name },
      });
      await res.body.dump();
      assert.equal(res.statusCode, 307, name);
    }
  });

  it('400 missing device name header, with the original text and headers', async () => {
    for (const headers of [{}, { 'x-webpa-device-name': '' }]) {
      const res = await request(`${base}/api/v2/device`, { headers });
      assert.equal(res.statusCode, 400);
      assert.equal(await res.body.text(), 'missing device name header\n');
      assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers.location, undefined);
    }
  });

  it('400 invalid device name', async () => {
    for (const name of [
      '112233445566',
      'mac:1122334455',
      'mac:11223344556g',
      'foo:bar',
      'mac:',
      'mac:/x',
    ]) {
      const res = await request(`${base}/api/v2/device`, {
        headers: { 'x-webpa-device-name': name },
      });
      assert.equal(res.statusCode, 400, name);
      assert.equal(await res.body.text(), 'invalid device name\n');
      assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    }
  });

  it('sends the X-Petasos identity headers on every answer', async () => {
    for (const headers of [{ 'x-webpa-device-name': 'mac:112233445566' }, {}]) {
      const res = await request(`${base}/`, { headers });
      await res.body.dump();
      assert.equal(res.headers['x-petasos-server'], 'petasos-test');
      assert.equal(res.headers['x-petasos-region'], 'east');
      assert.equal(res.headers['x-petasos-build'], 'development');
      assert.equal(res.headers['x-petasos-flavor'], 'development');
      assert.match(
        String(res.headers['x-petasos-start-time']),
        /^\d\d [A-Z][a-z]{2} \d\d \d\d:\d\d UTC$/,
      );
    }
  });

  it('counts redirects by outcome on the admin /metrics', async () => {
    const res = await request(`${admin}/metrics`);
    const text = await res.body.text();
    assert.match(text, /xmidt_petasos_redirects_total\{outcome="redirected"\} [1-9]/);
    assert.match(text, /xmidt_petasos_redirects_total\{outcome="missing_device_name"\} [1-9]/);
    assert.match(text, /xmidt_petasos_redirects_total\{outcome="invalid_device_name"\} [1-9]/);
    assert.match(text, /xmidt_petasos_sd_instance_count\{service="talaria",datacenter="dc1"\} 1/);
    const health = await request(`${admin}/health`);
    assert.equal(health.statusCode, 200);
    await health.body.dump();
  });
});

describe('petasos without instances', () => {
  it('500 There are no instances available (none at all, or only in another datacenter)', async () => {
    const cases: Array<Record<string, string[]>> = [{}, { dc9: ['http://talaria-9:6200'] }];
    for (const instances of cases) {
      const [p, base] = await started(instances);
      try {
        const res = await request(`${base}/api/v2/device`, {
          headers: { 'x-webpa-device-name': 'mac:112233445566' },
        });
        assert.equal(res.statusCode, 500);
        assert.equal(await res.body.text(), 'There are no instances available\n');
        assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
      } finally {
        await p.stop();
      }
    }
  });
});
