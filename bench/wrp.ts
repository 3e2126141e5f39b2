// WRP codec throughput: encode and decode ops/s of a typical SimpleEvent and a request-response
// with @xmidt/wrp, next to msgpackr's raw pack/unpack of the same message as a plain wire-keyed
// object, measured in the same run. Bounded to about 15 s.
//   npx tsx bench/wrp.ts
// msgpackr is loaded from the workspace, or from the module path in $MSGPACKR_PATH.
import { decodeMsgpack, encodeMsgpack, type Message } from '@xmidt/wrp';
import { emit } from './lib/results.js';
import type { ResultRow } from './lib/results.js';

const ROUNDS = 3;
const SLICE_MS = Number(process.env['BENCH_SLICE_MS'] ?? 450);

interface Packer {
  pack(value: unknown): Uint8Array;
}
interface Unpacker {
  unpack(bytes: Uint8Array): unknown;
}
interface MsgpackrModule {
  Packr: new (options: { useRecords: boolean }) => Packer;
  Unpackr: new (options: { useRecords: boolean }) => Unpacker;
}

async function loadMsgpackr(): Promise<MsgpackrModule | undefined> {
  for (const specifier of ['msgpackr', process.env['MSGPACKR_PATH']]) {
    if (!specifier) continue;
    try {
      return (await import(specifier)) as MsgpackrModule;
    } catch {
      // try the next place
    }
  }
  return undefined;
}

const payload = (n: number, seed: number): Buffer => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = 0x20 + ((i * 31 + seed) % 0x5e);
  return b;
};

const event: Message = {
  msgType: 4,
  source: 'mac:112233445566/parodus',
  dest: 'event:device-status/mac:112233445566/online',
  contentType: 'application/json',
  metadata: {
    '/boot-time': '1700000000',
    '/fw-name': 'TG1682_4.12p13s1_PROD_sey',
    '/hw-model': 'TG1682G',
  },
  payload: payload(200, 1),
  partnerIds: ['comcast'],
  sessionId: '0c3a1b7e-5d2f-4e8a-9b6c-2f1e0d9c8b7a',
};

const request: Message = {
  msgType: 3,
  source: 'dns:scytale.example.com/api/v3',
  dest: 'mac:112233445566/config',
  transactionUuid: '9447241c-5238-4cb9-9baa-7076e3232899',
  contentType: 'application/json',
  accept: 'application/json',
  headers: ['b3: 80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1'],
  payload: payload(120, 7),
  partnerIds: ['comcast'],
};

/** The same message as a plain object keyed as on the wire (what msgpackr packs). */
function wireObject(m: Message): Record<string, unknown> {
  const o: Record<string, unknown> = { msg_type: m.msgType };
  if (m.source) o['source'] = m.source;
  if (m.dest) o['dest'] = m.dest;
  if (m.transactionUuid) o['transaction_uuid'] = m.transactionUuid;
  if (m.contentType) o['content_type'] = m.contentType;
  if (m.accept) o['accept'] = m.accept;
  if (m.headers) o['headers'] = m.headers;
  if (m.metadata) o['metadata'] = m.metadata;
  if (m.payload) o['payload'] = m.payload;
  if (m.partnerIds) o['partner_ids'] = m.partnerIds;
  if (m.sessionId) o['session_id'] = m.sessionId;
  o['qos'] = m.qos ?? 0;
  return o;
}

let sink = 0;

/** Runs `op` in batches for about `ms` milliseconds; returns ops/s. */
function measure(op: () => number, ms: number): number {
  let batch = 256;
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < batch; i++) sink += op();
    n += batch;
    now = performance.now();
    if (now - start < ms / 20) batch *= 2;
  }
  return (n * 1000) / (now - start);
}

interface Case {
  label: string;
  ours: () => number;
  raw: (() => number) | undefined;
}

async function main(): Promise<void> {
  const mp = await loadMsgpackr();
  const packr = mp ? new mp.Packr({ useRecords: false }) : undefined;
  const unpackr = mp ? new mp.Unpackr({ useRecords: false }) : undefined;

  const cases: Case[] = [];
  for (const [name, msg] of [
    ['SimpleEvent', event],
    ['request-response', request],
  ] as const) {
    const bytes = encodeMsgpack(msg);
    const wire = wireObject(msg);
    const rawBytes = packr?.pack(wire);
    cases.push({
      label: `${name} encode`,
      ours: () => encodeMsgpack(msg).length,
      raw: packr ? () => packr.pack(wire).length : undefined,
    });
    cases.push({
      label: `${name} decode`,
      ours: () => decodeMsgpack(bytes).msgType,
      raw:
        unpackr && rawBytes
          ? () => (unpackr.unpack(rawBytes) as { msg_type: number }).msg_type
          : undefined,
    });
    console.log(
      `${name}: ${bytes.length} bytes (wrp), ${rawBytes?.length ?? '-'} bytes (msgpackr)`,
    );
  }

  // warm up every path, then interleave rounds and keep each one's best slice
  for (const c of cases) {
    measure(c.ours, 150);
    if (c.raw) measure(c.raw, 150);
  }
  const best = new Map<string, { ours: number; raw: number }>();
  for (let r = 0; r < ROUNDS; r++) {
    for (const c of cases) {
      const ours = measure(c.ours, SLICE_MS);
      const raw = c.raw ? measure(c.raw, SLICE_MS) : NaN;
      const prev = best.get(c.label);
      best.set(c.label, {
        ours: Math.max(prev?.ours ?? 0, ours),
        raw: Math.max(prev?.raw ?? 0, raw),
      });
    }
  }

  const fmt = (v: number): string =>
    Number.isNaN(v) ? '-' : Math.round(v).toLocaleString('en-US');
  const rows = [['case', '@xmidt/wrp ops/s', 'msgpackr ops/s', 'ratio']];
  for (const c of cases) {
    const b = best.get(c.label);
    if (!b) continue;
    rows.push([
      c.label,
      fmt(b.ours),
      fmt(b.raw),
      Number.isNaN(b.raw) ? '-' : `${(b.ours / b.raw).toFixed(2)}x`,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) {
    console.log(
      r
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
        .join('  '),
    );
  }
  const rowsOut: ResultRow[] = [];
  for (const c of cases) {
    const b = best.get(c.label);
    if (!b) continue;
    rowsOut.push({
      scenario: 'micro',
      metric: `WRP ${c.label} (ops/s)`,
      ours: b.ours,
      ...(Number.isNaN(b.raw) ? {} : { baseline: { name: 'msgpackr', value: b.raw } }),
      better: 'higher',
      goal: 0.9,
    });
  }
  emit(rowsOut);
  if (!mp) console.log('msgpackr not found: install it or set MSGPACKR_PATH to compare.');
  if (sink === 42) console.log('');
}

await main();
