// How the walkthrough test reads documented commands (no processes).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  adaptCommand,
  parseXmidtLine,
  readmeQuickStart,
  shellWords,
  xmidtCommands,
} from '../src/walkthrough.js';

test('shellWords handles quotes and escapes', () => {
  assert.deepEqual(shellWords(`a 'b c' "d \\"e\\"" f\\ g '' x`), [
    'a',
    'b c',
    'd "e"',
    'f g',
    '',
    'x',
  ]);
  assert.throws(() => shellWords(`a 'b`), /unterminated quote/);
});

test('parseXmidtLine takes env assignments, npx and node forms, and ignores other lines', () => {
  const cmd = parseXmidtLine(
    `$ XMIDT_API_AUTH='u:p w' npx xmidt send --dest mac:112233445566/config --payload '{"a":1}'`,
  );
  assert.deepEqual(cmd?.env, { XMIDT_API_AUTH: 'u:p w' });
  assert.deepEqual(cmd?.args, [
    'send',
    '--dest',
    'mac:112233445566/config',
    '--payload',
    '{"a":1}',
  ]);
  assert.deepEqual(parseXmidtLine('node tools/xmidt/bin/xmidt.mjs hooks list')?.args, [
    'hooks',
    'list',
  ]);
  assert.equal(parseXmidtLine('npm ci && npm start'), undefined);
  assert.equal(parseXmidtLine('# xmidt send'), undefined);
});

test('readmeQuickStart collects fenced lines of the section only, joining continuations', () => {
  const readme = [
    '# Title',
    '```sh',
    'xmidt outside',
    '```',
    '## Quick start',
    'text',
    '```sh',
    'export XMIDT_API_AUTH=a:b',
    'xmidt simulate \\',
    '  --devices 1',
    '```',
    '### Sub',
    '```',
    'xmidt send --dest mac:112233445566/x',
    '```',
    '## Layout',
    '```',
    'xmidt after',
    '```',
  ].join('\n');
  const lines = readmeQuickStart(readme);
  assert.deepEqual(lines, [
    'export XMIDT_API_AUTH=a:b',
    'xmidt simulate    --devices 1',
    'xmidt send --dest mac:112233445566/x',
  ]);
  const cmds = xmidtCommands(lines);
  assert.deepEqual(
    cmds.map((c) => [c.args[0], c.env['XMIDT_API_AUTH']]),
    [
      ['simulate', 'a:b'],
      ['send', 'a:b'],
    ],
  );
  assert.deepEqual(readmeQuickStart('# x\n## Usage\n```\nxmidt send\n```\n'), []);
});

test('adaptCommand moves default ports by the offset, replaces --target and adds --url', () => {
  const hooks = parseXmidtLine(
    `xmidt hooks add --url http://127.0.0.1:6000 --target http://127.0.0.1:9000/events --events '.*'`,
  )!;
  assert.deepEqual(adaptCommand(hooks, 3000, 'http://127.0.0.1:5555/rx').args, [
    'hooks',
    'add',
    '--url',
    'http://127.0.0.1:9000',
    '--target',
    'http://127.0.0.1:5555/rx',
    '--events',
    '.*',
  ]);
  const simulate = parseXmidtLine('xmidt simulate --devices 1')!;
  assert.deepEqual(
    adaptCommand(simulate, 3000, 'unused', { simulate: 'http://127.0.0.1:9400' }).args,
    ['simulate', '--devices', '1', '--url', 'http://127.0.0.1:9400'],
  );
  const other = parseXmidtLine(
    'xmidt send --url http://localhost:16300 --dest mac:112233445566/x',
  )!;
  assert.equal(adaptCommand(other, 3000, 'unused').args[2], 'http://localhost:16300');
});
