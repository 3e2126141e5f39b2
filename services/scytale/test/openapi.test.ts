import { after, before, describe, it } from 'node:test';
import { assertDocumented, assertOperationsAnswer } from '@xmidt/testkit';
import { createScytale } from '../src/service.js';
import type { Scytale } from '../src/service.js';
import { scytaleConfig } from './setup.js';

const DOC = new URL('../openapi.yaml', import.meta.url);

describe('scytale openapi.yaml documents every route', () => {
  let scytale: Scytale;
  let admin: string;

  before(async () => {
    scytale = createScytale(scytaleConfig({}, { auth: { basic: ['a:b'] } }));
    const ports = await scytale.start();
    admin = `http://127.0.0.1:${ports.adminPort}`;
  });
  after(async () => {
    await scytale?.stop();
  });

  it('every route is documented on its listener, and every operation is routed', () => {
    assertDocumented(DOC, { primary: scytale.runtime.primary, admin: scytale.runtime.admin });
  });

  it('the documented admin routes answer on the admin listener', async () => {
    await assertOperationsAnswer(DOC, 'admin', admin, [200, 503]);
  });
});
