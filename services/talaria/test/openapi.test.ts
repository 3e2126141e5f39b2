import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { assertDocumented, routedOperations } from '@xmidt/testkit';
import { createTalaria } from '../src/service.js';
import type { Talaria } from '../src/service.js';
import { silent, testConfig } from './helpers.js';

let talaria: Talaria;

before(async () => {
  talaria = createTalaria(testConfig(), { logger: silent });
  await talaria.start();
});
after(() => talaria.stop());

test('openapi.yaml documents every route Talaria serves, on its listener, and nothing else', () => {
  const primary = routedOperations(talaria.runtime.primary);
  const admin = routedOperations(talaria.runtime.admin);
  for (const op of ['GET /api/{version}/device', 'POST /api/{version}/device/send'])
    assert.ok(primary.has(op), [...primary].join(', '));
  for (const op of ['GET /health', 'GET /metrics', 'DELETE /api/v3/device/drain'])
    assert.ok(admin.has(op), [...admin].join(', '));
  assertDocumented(new URL('../openapi.yaml', import.meta.url), {
    primary: talaria.runtime.primary,
    admin: talaria.runtime.admin,
  });
});
