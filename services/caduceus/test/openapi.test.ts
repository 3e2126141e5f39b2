import { test } from 'node:test';
import { assertDocumented } from '@xmidt/testkit';
import { createCaduceus } from '../src/service.js';
import { testConfig } from './helpers.js';

// Every route Caduceus serves must be in openapi.yaml (path, method and listener), and every
// operation the document lists must exist, so the two cannot drift apart.

test('every Caduceus route is in openapi.yaml and every documented operation exists', async () => {
  const c = createCaduceus(testConfig({ previousVersionSupport: true }));
  try {
    await c.start();
    assertDocumented(new URL('../openapi.yaml', import.meta.url), {
      primary: c.runtime.primary,
      admin: c.runtime.admin,
    });
  } finally {
    await c.stop();
  }
});
