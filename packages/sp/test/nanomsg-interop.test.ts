import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { test } from 'node:test';
import { PushSocket } from '../src/index.js';
import { boundPull, collect, deadPort } from './helpers.js';

// Interoperability with the reference C implementation, when its command-line tool
// (Debian package nanomsg-utils) is installed; skipped otherwise.
const NANOCAT = '/usr/bin/nanocat';
const skip = existsSync(NANOCAT) ? false : 'nanocat (nanomsg-utils) not installed';

test('nanomsg PUSH -> our PULL', { skip }, async (t) => {
  const pull = await boundPull();
  t.after(() => pull.close());
  const got = collect(pull, 2);
  const child = spawn(
    NANOCAT,
    ['--push', '--connect', pull.url, '-D', 'from-nanomsg', '-i', '0.05'],
    {
      stdio: 'ignore',
    },
  );
  t.after(() => child.kill());
  const messages = await got;
  assert.deepEqual(
    messages.map((b) => b.toString()),
    ['from-nanomsg', 'from-nanomsg'],
  );
});

test('our PUSH -> nanomsg PULL', { skip }, async (t) => {
  const port = await deadPort();
  const child = spawn(NANOCAT, ['--pull', '--bind', `tcp://127.0.0.1:${port}`, '--raw'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  t.after(() => child.kill());
  const push = new PushSocket(`tcp://127.0.0.1:${port}`, { reconnectMinMs: 20 });
  t.after(() => push.close());
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('latin1')));
  await push.send(Buffer.from('from-ts|'));
  await push.send(Buffer.from('second|'));
  while (!out.includes('second|')) await once(child.stdout, 'data');
  assert.equal(out, 'from-ts|second|');
});
