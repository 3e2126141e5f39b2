import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import {
  assertDocumented,
  assertOperationsAnswer,
  documentedOperations,
  routedOperations,
} from '@xmidt/testkit';
import { createPetasos } from '../src/service.js';
import { petasosTestConfig } from './config.js';
import type { Petasos } from '../src/service.js';

const OWNER = 'http://talaria-0.example.net:6200';

const DOC = new URL('../openapi.yaml', import.meta.url);

describe('petasos openapi.yaml documents every route', () => {
  let petasos: Petasos;
  let base: string;
  let admin: string;

  before(async () => {
    petasos = createPetasos(
      petasosTestConfig({
        discovery: { type: 'static', static: { services: { talaria: { dc1: [OWNER] } } } },
      }),
    );
    const ports = await petasos.start();
    base = `http://127.0.0.1:${ports.primaryPort}`;
    admin = `http://127.0.0.1:${ports.adminPort}`;
  });
  after(async () => {
    await petasos?.stop();
  });

  it('no route on the primary listener (its router is bypassed); admin routes are documented', () => {
    const primaryRoutes = routedOperations(petasos.runtime.primary);
    assert.deepEqual([...primaryRoutes], [], 'a primary route would never be reached');
    assertDocumented(DOC, { admin: petasos.runtime.admin });
  });

  it('every documented primary operation is the redirect, on any path', async () => {
    const primary = documentedOperations(DOC).get('primary') ?? new Set<string>();
    assert.ok(primary.size >= 7);
    const anyPath = [...primary]
      .filter((op) => op.endsWith(' /{anyPath}'))
      .map((op) => op.split(' ')[0]);
    assert.deepEqual(anyPath.sort(), ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT']);
    for (const op of primary) {
      const [method, template] = op.split(' ') as [string, string];
      const path = template.replace('{anyPath}', 'some/where');
      const res = await request(`${base}${path}`, {
        method,
        headers: { 'x-webpa-device-name': 'mac:112233445566' },
      });
      await res.body.dump();
      assert.equal(res.statusCode, 307, op);
      assert.equal(res.headers.location, `${OWNER}${path}`, op);
    }
  });

  it('the documented admin routes answer on the admin listener', async () => {
    await assertOperationsAnswer(DOC, 'admin', admin, [200, 503]);
  });
});
