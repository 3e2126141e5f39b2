import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  connectDevice,
  convey,
  metricValue,
  rejectedConnect,
  startTalaria,
  waitUntil,
} from './helpers.js';
import type { FakeDevice, Running } from './helpers.js';

let t: Running;
before(async () => {
  t = await startTalaria();
});
after(() => t.stop());

const GATE = '/api/v3/device/gate';
const FILTER = '/api/v3/device/gate/filter';
const DRAIN = '/api/v3/device/drain';

async function call(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const r = await fetch(t.admin + path, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined };
}

test('gate: GET state, close (201), close again (200), connects get 503, reopen', async () => {
  const g = await call('GET', GATE);
  assert.equal(g.status, 200);
  assert.equal((g.json as { open: boolean }).open, true);
  assert.equal((await call('POST', `${GATE}?open=false`)).status, 201);
  assert.equal((await call('PUT', `${GATE}?open=F`)).status, 200);
  assert.equal(await metricValue(t.admin, 'xmidt_talaria_gate_status'), 0);
  const r = await rejectedConnect(t.ws, { 'X-Webpa-Device-Name': 'mac:112233445566' });
  assert.equal(r.status, 503);
  assert.equal((await call('PATCH', `${GATE}?open=maybe`)).status, 400);
  assert.equal((await call('POST', GATE)).status, 400);
  assert.equal((await call('POST', `${GATE}?open=1`)).status, 201);
  assert.equal(await metricValue(t.admin, 'xmidt_talaria_gate_status'), 1);
});

test('gate filter: add (201), update (200), list, block, delete', async () => {
  assert.deepEqual((await call('GET', FILTER)).json, { filters: {}, allowedFilters: null });
  assert.equal((await call('POST', FILTER, { key: 'hw-model', values: ['A'] })).status, 201);
  const upd = await call('PUT', FILTER, { key: 'hw-model', values: ['A', 'B'] });
  assert.equal(upd.status, 200);
  assert.deepEqual(upd.json, { filters: { 'hw-model': ['A', 'B'] }, allowedFilters: null });
  const r = await rejectedConnect(t.ws, {
    'X-Webpa-Device-Name': 'mac:112233445566',
    'X-Webpa-Convey': convey({ 'hw-model': 'B' }),
  });
  assert.equal(r.status, 503);
  assert.equal((await call('POST', FILTER, { key: 'x' })).status, 400);
  assert.equal((await call('DELETE', FILTER, {})).status, 400);
  const del = await call('DELETE', FILTER, { key: 'hw-model' });
  assert.equal(del.status, 200);
  assert.deepEqual(del.json, { filters: {}, allowedFilters: null });
});

test('drain: count, 409 while running, rate, progress, cancel', async () => {
  const devices: FakeDevice[] = [];
  for (let i = 0; i < 10; i++)
    devices.push(await connectDevice(t.ws, `mac:0000000000${String(i).padStart(2, '0')}`));
  await waitUntil(() => t.talaria.devices.size === 10);

  const first = await call('POST', `${DRAIN}?count=3`);
  assert.equal(first.status, 200);
  assert.deepEqual(first.json, { count: 3 });
  await waitUntil(() => t.talaria.devices.size === 7);
  const closed = devices.filter((d) => d.closeCode !== undefined);
  await waitUntil(() => devices.filter((d) => d.closeCode !== undefined).length === 3);
  for (const d of devices.filter((x) => x.closeCode !== undefined))
    assert.equal(d.closeReason, 'drained');
  assert.ok(closed.length <= 3);

  // slow drain: 1 device per 200ms tick
  const slow = await call('POST', `${DRAIN}?count=5&rate=1&tick=200ms`);
  assert.equal(slow.status, 200);
  assert.deepEqual(slow.json, { count: 5, rate: 1, tick: '200ms' });
  const conflict = await call('PUT', `${DRAIN}?count=1`);
  assert.equal(conflict.status, 409);
  const st = (await call('GET', DRAIN)).json as { active: boolean; progress: { drained: number } };
  assert.equal(st.active, true);
  assert.equal(await metricValue(t.admin, 'xmidt_talaria_drain_status'), 1);
  await waitUntil(() => t.talaria.devices.size <= 6);
  assert.equal((await call('DELETE', DRAIN)).status, 200);
  const after = (await call('GET', DRAIN)).json as {
    active: boolean;
    progress: { drained: number; finished?: string };
  };
  assert.equal(after.active, false);
  assert.ok(after.progress.finished);
  assert.ok(after.progress.drained >= 1 && after.progress.drained < 5);
  assert.equal((await call('DELETE', DRAIN)).status, 409);
  assert.ok(t.talaria.devices.size >= 3);

  // percent with a filter body: only matching devices go
  const pct = await call('POST', `${DRAIN}?percent=100`, {
    key: 'partner-id',
    values: ['unknown'],
  });
  assert.equal(pct.status, 200);
  await waitUntil(() => t.talaria.devices.size === 0);
  assert.ok((await metricValue(t.admin, 'xmidt_talaria_drain_count')) >= 10 - 4);
});
