import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertDocumented } from '@xmidt/testkit';
import { startThemis, tempDir } from './helpers.js';

// Every route Themis serves must be in openapi.yaml (path, method and listener), and every
// operation the document lists must exist, so the two cannot drift apart.

test('every Themis route is in openapi.yaml and every documented operation exists', async () => {
  const tmp = tempDir();
  const t = await startThemis({ token: { key: { directory: tmp.dir } } });
  try {
    const issuer = t.themis.issuer;
    assert.ok(issuer, 'the issuer runs in this process');
    assertDocumented(
      new URL('../openapi.yaml', import.meta.url),
      { key: t.themis.runtime.primary, issuer: issuer.app, admin: t.themis.runtime.admin },
      'key',
    );
    // the issue route answers as documented
    const res = await fetch(`http://127.0.0.1:${t.ports.issuerPort}/issue`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/jose');
  } finally {
    await t.stop();
    tmp.remove();
  }
});
