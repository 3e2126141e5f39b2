import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { portFree } from '../src/net-checks.js';
import { DEFAULT_PORTS, MAX_PORT_OFFSET } from '../src/ports.js';
import { planSystem, type SystemMode } from '../src/system-plan.js';
import type { SystemFile } from '../src/system-file.js';
import { XMIDT_BIN, runXmidt as xmidt, type XmidtRun as Run } from './run-xmidt.js';

// Real processes: `xmidt start` / `xmidt cluster` through bin/xmidt.mjs, on a random port
// offset (every port checked free first), with a temporary data dir. The two systems run
// one after the other (describe blocks in one file run serially).

const API_AUTH = 'tester:s3cret';
const READY_TIMEOUT_MS = 200_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function pickOffset(mode: SystemMode): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const offset = 1000 + Math.floor(Math.random() * (MAX_PORT_OFFSET - 1000));
    const ports = planSystem({
      mode,
      dataDir: '/unused',
      offset,
      apiAuth: 'a:b',
      logLevel: 'warn',
      etcdUrl: 'http://127.0.0.1:1',
    }).flatMap((i) => i.ports);
    ports.push(DEFAULT_PORTS.etcd.client + offset, DEFAULT_PORTS.etcd.peer + offset);
    const free = await Promise.all(ports.map((p) => portFree(p, '127.0.0.1')));
    if (free.every(Boolean)) return offset;
  }
  throw new Error('no free port offset found');
}

/** A running `xmidt start|cluster`, its output kept for failure messages. */
class System {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<number | null>;
  readonly ready: Promise<void>;

  constructor(
    mode: SystemMode,
    readonly dataDir: string,
    readonly offset: number,
  ) {
    this.child = spawn(
      process.execPath,
      [XMIDT_BIN, mode, '--port-offset', String(offset), '--data-dir', dataDir, '--no-restart'],
      { env: { ...process.env, XMIDT_API_AUTH: API_AUTH }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
    this.child.stderr?.on('data', (d: Buffer) => (this.output = (this.output + d).slice(-20_000)));
    const lines = createInterface({ input: this.child.stdout! });
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`not ready in time:\n${this.output}`)),
        READY_TIMEOUT_MS,
      );
      lines.on('line', (line) => {
        this.output = (this.output + line + '\n').slice(-20_000);
        if (line === 'xmidt ready') {
          clearTimeout(timer);
          resolve();
        }
      });
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`exited with ${code} before ready:\n${this.output}`));
      });
    });
  }

  system(): SystemFile {
    return JSON.parse(readFileSync(join(this.dataDir, 'system.json'), 'utf8')) as SystemFile;
  }

  /** Every pid the system runs (services, and etcd in cluster mode). */
  pids(system: SystemFile): number[] {
    const pids = Object.values(system.services)
      .flat()
      .map((s) => s.pid);
    if (system.etcd) pids.push(system.etcd.pid);
    return pids;
  }

  /** Last resort in after(): nothing may outlive the test. */
  kill(pids: number[]): void {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
    }
    for (const pid of pids) {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  }
}

async function status(url: string): Promise<number> {
  const res = await request(url);
  await res.body.dump();
  return res.statusCode;
}

const portOf = (url: string): number => Number(new URL(url).port);

describe('xmidt start: the whole system as child processes', { timeout: 300_000 }, () => {
  let dataDir = '';
  let sys: System;
  let pids: number[] = [];

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'xmidt-start-'));
    sys = new System('start', dataDir, await pickOffset('start'));
    await sys.ready;
  });

  after(() => {
    sys?.kill(pids);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('writes system.json with every service, on the offset default ports', () => {
    const system = sys.system();
    pids = sys.pids(system);
    assert.equal(system.apiAuth, API_AUTH);
    assert.deepEqual(Object.keys(system.services).sort(), [
      'caduceus',
      'petasos',
      'scytale',
      'talaria',
      'themis',
    ]);
    const o = sys.offset;
    const one = (name: string) => {
      const list = system.services[name] ?? [];
      assert.equal(list.length, 1, name);
      return list[0]!;
    };
    assert.equal(one('caduceus').url, `http://127.0.0.1:${6000 + o}`);
    assert.equal(one('caduceus').admin, `http://127.0.0.1:${6001 + o}`);
    assert.equal(one('talaria').url, `http://127.0.0.1:${6200 + o}`);
    assert.equal(one('talaria').admin, `http://127.0.0.1:${6201 + o}`);
    assert.equal(one('scytale').url, `http://127.0.0.1:${6300 + o}`);
    assert.equal(one('petasos').url, `http://127.0.0.1:${6400 + o}`);
    assert.equal(one('themis').url, `http://127.0.0.1:${6500 + o}`);
    assert.equal(one('themis').issuer, `http://127.0.0.1:${6501 + o}`);
    for (const [name, list] of Object.entries(system.services)) {
      for (const inst of list) {
        assert.ok(alive(inst.pid), `${name} pid ${inst.pid} alive`);
        assert.ok(existsSync(inst.config), `${name} config ${inst.config}`);
      }
    }
  });

  it('every service answers /ready with 200', async () => {
    for (const list of Object.values(sys.system().services)) {
      for (const inst of list) assert.equal(await status(`${inst.admin}/ready`), 200, inst.admin);
    }
  });

  it('xmidt send without the credentials gets 401 and a hint', async () => {
    const scytale = sys.system().services['scytale']![0]!.url;
    const run = await xmidt(
      ['send', '--url', scytale, '--dest', 'mac:0000000000ff/config', '--payload', 'hi'],
      { XMIDT_API_AUTH: '' },
    );
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /HTTP 401/);
    assert.match(run.stderr, /XMIDT_API_AUTH/);
  });

  it('xmidt send to an unknown device prints the 404 clearly', async () => {
    const scytale = sys.system().services['scytale']![0]!.url;
    const run = await xmidt(
      ['send', '--url', scytale, '--dest', 'mac:0000000000ff/config', '--payload', 'hi'],
      { XMIDT_API_AUTH: API_AUTH },
    );
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /HTTP 404/);
    assert.match(run.stderr, /mac:0000000000ff is not connected/);
  });

  it('a simulated device connects through Petasos and answers xmidt send', async () => {
    const s = sys.system();
    const petasos = s.services['petasos']![0]!.url;
    const scytale = s.services['scytale']![0]!.url;
    const sim = xmidt([
      'simulate',
      '--url',
      petasos,
      '--devices',
      '1',
      '--duration',
      '15',
      '--mac-base',
      'aa0000000001',
      '--quiet',
    ]);
    let reply: Run | undefined;
    for (let i = 0; i < 40; i++) {
      reply = await xmidt(
        ['send', '--url', scytale, '--dest', 'mac:aa0000000001/config', '--payload', 'ping-42'],
        { XMIDT_API_AUTH: API_AUTH },
      );
      if (reply.code === 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(reply?.code, 0, reply?.stderr);
    const msg = JSON.parse(reply!.stdout) as { source: string; payload: string };
    assert.equal(msg.source, 'mac:aa0000000001/config');
    assert.equal(msg.payload, 'ping-42');
    const done = await sim;
    assert.equal(done.code, 0, done.stderr);
  });

  it('xmidt hooks add, list and delete round-trip against Caduceus', async () => {
    const caduceus = sys.system().services['caduceus']![0]!.url;
    const receiver = createServer((_req, res) => res.end());
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const target = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/events`;
    const env = { XMIDT_API_AUTH: API_AUTH };
    try {
      const add = await xmidt(
        ['hooks', 'add', '--url', caduceus, '--target', target, '--events', 'device-status.*'],
        env,
      );
      assert.equal(add.code, 0, add.stderr);
      const list = await xmidt(['hooks', 'list', '--url', caduceus], env);
      assert.equal(list.code, 0, list.stderr);
      const hooks = JSON.parse(list.stdout) as { config: { url: string }; events: string[] }[];
      const mine = hooks.find((h) => h.config.url === target);
      assert.ok(mine, list.stdout);
      assert.deepEqual(mine.events, ['device-status.*']);
      const del = await xmidt(['hooks', 'delete', '--url', caduceus, '--target', target], env);
      assert.equal(del.code, 0, del.stderr);
      const again = await xmidt(['hooks', 'list', '--url', caduceus], env);
      const left = JSON.parse(again.stdout) as { config: { url: string } }[];
      assert.equal(
        left.some((h) => h.config.url === target),
        false,
      );
      const missing = await xmidt(['hooks', 'delete', '--url', caduceus, '--target', target], env);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /HTTP 404/);
      const noAuth = await xmidt(['hooks', 'list', '--url', caduceus], { XMIDT_API_AUTH: '' });
      assert.equal(noAuth.code, 1);
      assert.match(noAuth.stderr, /HTTP 401/);
    } finally {
      receiver.close();
    }
  });

  it('a second xmidt start on the same data dir is refused while this one runs', async () => {
    const run = await xmidt(['start', '--data-dir', dataDir, '--port-offset', String(sys.offset)]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /already running/);
  });

  it('SIGTERM stops every child and removes system.json', async () => {
    const system = sys.system();
    pids = sys.pids(system);
    sys.child.kill('SIGTERM');
    assert.equal(await sys.exited, 0);
    for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} still running`);
    assert.equal(existsSync(join(dataDir, 'system.json')), false);
    for (const list of Object.values(system.services)) {
      for (const inst of list) assert.ok(await portFree(portOf(inst.url), '127.0.0.1'));
    }
  });
});

describe('xmidt cluster: etcd and several instances', { timeout: 300_000 }, () => {
  let dataDir = '';
  let sys: System;
  let pids: number[] = [];

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'xmidt-cluster-'));
    sys = new System('cluster', dataDir, await pickOffset('cluster'));
    await sys.ready;
  });

  after(() => {
    sys?.kill(pids);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs 3 Talarias and 2 Caduceus, all ready, and the 3 Talarias are registered in etcd', async () => {
    const system = sys.system();
    pids = sys.pids(system);
    assert.equal(system.services['talaria']?.length, 3);
    assert.equal(system.services['caduceus']?.length, 2);
    assert.equal(system.services['petasos']?.length, 1);
    assert.equal(system.services['scytale']?.length, 1);
    assert.equal(system.services['themis']?.length, 1);
    assert.ok(system.etcd);
    assert.equal(system.etcd.url, `http://127.0.0.1:${2379 + sys.offset}`);
    const talariaUrls = system.services['talaria']!.map((t) => t.url);
    assert.equal(new Set(talariaUrls).size, 3);
    for (const list of Object.values(system.services)) {
      for (const inst of list) assert.equal(await status(`${inst.admin}/ready`), 200, inst.admin);
    }
    // etcd's JSON gateway: every key under the discovery prefix of the Talarias.
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const res = await request(`${system.etcd.url}/v3/kv/range`, {
      method: 'POST',
      body: JSON.stringify({
        key: b64('/xmidt/dc1/talaria/'),
        range_end: b64('/xmidt/dc1/talaria0'),
      }),
    });
    const body = (await res.body.json()) as { kvs?: { value: string }[] };
    const registered = (body.kvs ?? []).map((kv) => Buffer.from(kv.value, 'base64').toString());
    assert.deepEqual(
      registered.map((v) => v.replace(/\/$/, '')).sort(),
      [...talariaUrls].sort(),
      JSON.stringify(registered),
    );
  });

  it('SIGTERM stops every service and etcd', async () => {
    const system = sys.system();
    pids = sys.pids(system);
    sys.child.kill('SIGTERM');
    assert.equal(await sys.exited, 0);
    for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} still running`);
  });
});
