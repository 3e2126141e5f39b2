// The quick start as a user runs it: `xmidt start`, one simulated device (`xmidt simulate`),
// a message to it (`xmidt send`), a webhook (`xmidt hooks add`) and an event seen there. The
// commands come from the README's quick start section when it has them, else from the
// instructions `xmidt start` prints when it is ready.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@xmidt/testkit';
import { runXmidt, spawnXmidt, startSystem, type XmidtSystem } from '../src/harness.js';
import type { ManagedProcess } from '../src/processes.js';
import {
  adaptCommand,
  parseXmidtLine,
  readmeXmidtCommands,
  type WalkthroughCommand,
} from '../src/walkthrough.js';
import { deliveredMessage, WebhookReceiver } from '../src/webhook-receiver.js';

function find(commands: WalkthroughCommand[], ...words: string[]): WalkthroughCommand {
  const found = commands.find((c) => words.every((w, i) => c.args[i] === w));
  if (found === undefined) {
    throw new Error(
      `no "xmidt ${words.join(' ')}" among ${JSON.stringify(commands.map((c) => c.text))}`,
    );
  }
  return found;
}

function argValue(cmd: WalkthroughCommand, name: string): string | undefined {
  const i = cmd.args.indexOf(name);
  return i < 0 ? undefined : cmd.args[i + 1];
}

describe('quick start walkthrough', () => {
  let system: XmidtSystem;
  let receiver: WebhookReceiver;
  let simulator: ManagedProcess | undefined;
  let commands: WalkthroughCommand[];
  let source: string;

  before(async () => {
    const documented = readmeXmidtCommands();
    const readmeHasIt = ['simulate', 'send', 'hooks'].every((w) =>
      documented.some((c) => c.args[0] === w),
    );
    // Credentials written in the README's commands are the ones the user starts with.
    const readmeAuth = documented.find((c) => c.env['XMIDT_API_AUTH'] !== undefined)?.env[
      'XMIDT_API_AUTH'
    ];
    system = await startSystem({
      mode: 'start',
      ...(readmeHasIt && readmeAuth !== undefined ? { apiAuth: readmeAuth } : {}),
    });
    receiver = await WebhookReceiver.start();
    if (readmeHasIt) {
      source = 'README quick start';
      commands = documented;
    } else {
      source = 'the instructions printed by xmidt start';
      commands = system
        .output()
        .split('\n')
        .map(parseXmidtLine)
        .filter((c): c is WalkthroughCommand => c !== undefined);
    }
    const defaultUrls = {
      simulate: system.instance('petasos').url,
      send: system.instance('scytale').url,
      hooks: system.instance('caduceus').url,
    };
    commands = commands.map((c) =>
      adaptCommand(c, system.portOffset, `${receiver.url}/events`, defaultUrls),
    );
  });

  after(async () => {
    await simulator?.stop(5000);
    await receiver?.close();
    await system?.stop();
  });

  test('simulate one device, send it a message, add a webhook', async (t) => {
    t.diagnostic(`commands from ${source}`);
    const simulate = find(commands, 'simulate');
    const send = find(commands, 'send');
    const hooks = find(commands, 'hooks', 'add');

    simulator = spawnXmidt(simulate.args, { env: simulate.env });

    // The device needs a moment to connect; a user repeats the send until it answers.
    let last = '';
    const sent = await waitFor(
      async () => {
        const r = await runXmidt(send.args, { env: send.env, timeoutMs: 30_000 });
        last = `exit ${r.code}: ${r.stdout}${r.stderr}`;
        return r.code === 0 ? r : undefined;
      },
      { timeoutMs: 45_000, intervalMs: 1000, what: 'xmidt send to succeed' },
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}; last: ${last}\nsimulator:\n${simulator?.output() ?? ''}`);
    });
    const reply = JSON.parse(sent.stdout) as { payload?: string; source?: string; dest?: string };
    const payload = argValue(send, '--payload');
    // The simulator answers with the payload it got (its default `--reply echo`).
    if (payload !== undefined) assert.equal(reply.payload, payload);
    assert.equal(reply.source, argValue(send, '--dest'));

    const added = await runXmidt(hooks.args, { env: hooks.env, timeoutMs: 30_000 });
    assert.equal(added.code, 0, `xmidt hooks add: ${added.stdout}${added.stderr}`);
    const listed = await runXmidt(['hooks', 'list', '--url', system.instance('caduceus').url], {
      env: system.cliEnv,
    });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(receiver.url.replaceAll('.', '\\.')));
  });

  test('the webhook added with xmidt hooks add sees an event', async () => {
    assert.ok(simulator, 'the walkthrough above ran');
    // An event: one the simulator sends, else the device's offline event when it stops.
    const any = await waitFor(() => receiver.deliveries[0], { timeoutMs: 5000 }).catch(
      () => undefined,
    );
    if (any === undefined) {
      await simulator.stop(10_000);
      await receiver.waitForEvent(/^event:device-status\/mac:[0-9a-f]{12}\/offline$/, 20_000);
    }
    const first = receiver.deliveries[0];
    assert.ok(first);
    assert.match(deliveredMessage(first).dest ?? '', /^event:/);
  });
});
