import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runXmidt as xmidt } from './run-xmidt.js';

describe('xmidt command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xmidt-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('--help lists every command', async () => {
    const run = await xmidt(['--help']);
    assert.equal(run.code, 0);
    for (const c of ['start', 'cluster', 'send', 'hooks', 'simulate', 'talaria', 'parodus']) {
      assert.match(run.stdout, new RegExp(`\\b${c}\\b`));
    }
  });

  for (const command of [
    ['start'],
    ['cluster'],
    ['send'],
    ['hooks'],
    ['simulate'],
    ['themis'],
    ['parodus'],
  ]) {
    it(`xmidt ${command.join(' ')} --help`, async () => {
      const run = await xmidt([...command, '--help']);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /Usage:\s+xmidt/);
    });
  }

  it('an unknown command or option is a usage error naming it', async () => {
    const unknown = await xmidt(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    const badOption = await xmidt(['start', '--bogus']);
    assert.equal(badOption.code, 2);
    assert.match(badOption.stderr, /--bogus/);
    const badOffset = await xmidt(['start', '--port-offset', 'ten']);
    assert.equal(badOffset.code, 2);
    assert.match(badOffset.stderr, /--port-offset must be a whole number/);
    const noDest = await xmidt(['send']);
    assert.equal(noDest.code, 2);
    assert.match(noDest.stderr, /--dest is required/);
  });

  it('xmidt <service> --config checks the file against the service schema first', async () => {
    const missing = await xmidt(['talaria', '--config', join(dir, 'nope.yaml')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.yaml not found/);
    const bad = join(dir, 'petasos.yaml');
    writeFileSync(bad, 'primary:\n  prot: 6400\n');
    const run = await xmidt(['petasos', '--config', bad]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /primary\.prot: unknown key \(did you mean port\?\)/);
  });
});
