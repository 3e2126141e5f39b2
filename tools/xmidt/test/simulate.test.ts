import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '@xmidt/runtime';
import { createPetasos, petasosConfigSchema, type Petasos } from '@xmidt/petasos';
import { createTalaria, talariaConfigSchema, type Talaria } from '@xmidt/talaria';
import { Fleet } from '../src/simulate/fleet.js';
import { Histogram } from '../src/simulate/histogram.js';
import { Prober } from '../src/simulate/prober.js';

const silent = pino({ level: 'silent' });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const staticDiscovery = (url: string): Record<string, unknown> => ({
  type: 'static',
  datacenter: 'dc1',
  static: { services: { talaria: { dc1: [url] } } },
});

describe('xmidt simulate through the real Petasos and Talaria', () => {
  let talaria: Talaria;
  let petasos: Petasos;
  let talariaUrl = '';
  let petasosUrl = '';

  before(async () => {
    // Talaria on port 0 (its ring is empty, so it accepts every device); Petasos learns
    // Talaria's URL through static discovery.
    const tcfg = loadConfig({
      service: 'talaria',
      schema: talariaConfigSchema,
      env: {},
      overrides: {
        primary: { host: '127.0.0.1', port: 0 },
        admin: { host: '127.0.0.1', port: 0 },
        discovery: { type: 'static', datacenter: 'dc1', static: { services: {} } },
        auth: { basic: ['user:pass'] },
      },
    });
    talaria = createTalaria(tcfg, { logger: silent });
    const t = await talaria.start();
    talariaUrl = t.url;
    const pcfg = loadConfig({
      service: 'petasos',
      schema: petasosConfigSchema,
      env: {},
      overrides: {
        primary: { host: '127.0.0.1', port: 0 },
        admin: { host: '127.0.0.1', port: 0 },
        discovery: staticDiscovery(talariaUrl),
      },
    });
    petasos = createPetasos(pcfg, { logger: silent });
    const p = await petasos.start();
    petasosUrl = `http://127.0.0.1:${p.primaryPort}`;
  });

  after(async () => {
    await petasos?.stop();
    await talaria?.stop();
  });

  it('connects a small fleet through the redirect, answers requests and sends events', async () => {
    const fleet = new Fleet({
      urls: [petasosUrl],
      firstIndex: 0,
      count: 20,
      macBase: 0xabc000000000,
      rampPerSecond: 1000,
      eventsPerSecond: 50,
      eventPayloadBytes: 64,
      eventDest: 'event:simulator/{id}/tick',
      reply: 'echo',
      pingTimeoutS: 180,
      backoffMax: 3,
      backoffUnitMs: 50,
      model: 'SimModel',
      firmware: 'sim-fw',
      manufacturer: 'XmidtSim',
    });
    fleet.start();
    try {
      for (let i = 0; i < 100 && fleet.snapshot().online < 20; i++) await sleep(50);
      const s = fleet.snapshot();
      assert.equal(s.online, 20);
      assert.equal(s.redirects, 20, 'every device was redirected by Petasos');
      const prober = new Prober({
        url: `${talariaUrl}/api/v2/device/send`,
        ratePerSecond: 40,
        authorization: `Basic ${Buffer.from('user:pass').toString('base64')}`,
        devices: 20,
        macBase: 0xabc000000000,
        payloadBytes: 16,
        timeoutMs: 5000,
        maxInFlight: 16,
      });
      prober.start();
      await sleep(500);
      await prober.stop();
      assert.ok(prober.stats.sent > 0);
      assert.equal(prober.stats.ok, prober.stats.sent, JSON.stringify(prober.stats.failures));
      assert.ok(prober.stats.latency.percentile(50) > 0);
      const after = fleet.snapshot();
      assert.equal(after.replies, prober.stats.ok);
      assert.ok(after.events > 0);
      assert.equal(
        after.connectLatency.counts.reduce((a, b) => a + b, 0),
        20,
      );
    } finally {
      await fleet.stop();
    }
  });
});

describe('simulate pieces', () => {
  it('histogram percentiles are within 5 %', () => {
    const h = new Histogram();
    for (let i = 1; i <= 1000; i++) h.record(i);
    const p50 = h.percentile(50);
    const p99 = h.percentile(99);
    assert.ok(p50 >= 500 && p50 <= 525, `p50 ${p50}`);
    assert.ok(p99 >= 990 && p99 <= 1000, `p99 ${p99}`);
    const other = new Histogram();
    other.merge(h.toJSON());
    assert.equal(other.count, 1000);
  });

  it('prints --help and refuses a bad option', () => {
    const main = fileURLToPath(new URL('../src/simulate-main.ts', import.meta.url));
    const ok = spawnSync(process.execPath, ['--import', 'tsx', main, '--help'], {
      encoding: 'utf8',
    });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /--devices N/);
    assert.match(ok.stdout, /--duration D/);
    const bad = spawnSync(
      process.execPath,
      ['--import', 'tsx', main, '--devices', '40000', '--workers', '1'],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /open-file limit/);
  });
});
