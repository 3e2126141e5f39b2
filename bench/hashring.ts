// Hash-ring lookups/s for rings of 3 and 100 instances (211 vnodes each, hostname rule), on
// canonical device ids, and the garbage collections seen during a long run of lookups (0: the
// lookup path allocates nothing). Bounded to a few seconds.
//   npx tsx bench/hashring.ts
import { cpus } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { HashRing } from '@xmidt/hashring';
import { emit } from './lib/results.js';
import type { ResultRow } from './lib/results.js';

const MEASURE_MS = Number(process.env['BENCH_MS'] ?? 1000);
const KEYS = 4096;

function macIds(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(`mac:${(0x001122000000 + i * 7919).toString(16).padStart(12, '0')}`);
  }
  return out;
}

function instances(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `http://talaria-${i}.dc1.example.net:6200`);
}

let sink = 0;

function measure(ring: HashRing, keys: readonly string[], ms: number): number {
  let ops = 0;
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    for (let i = 0; i < keys.length; i++) sink += (ring.get(keys[i] as string) as string).length;
    ops += keys.length;
  }
  return ops / (ms / 1000);
}

/**
 * Garbage collections seen while doing `rounds * keys.length` lookups: a lookup that allocates
 * even a few bytes would fill the young generation (megabytes) many times over.
 */
async function gcsDuring(ring: HashRing, keys: readonly string[], rounds: number): Promise<number> {
  let count = 0;
  const obs = new PerformanceObserver((list) => {
    count += list.getEntries().length;
  });
  obs.observe({ entryTypes: ['gc'] });
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < keys.length; i++) sink += (ring.get(keys[i] as string) as string).length;
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  obs.disconnect();
  return count;
}

const keys = macIds(KEYS);
console.log(
  `hashring bench: node ${process.version}, ${cpus()[0]?.model ?? '?'}, ${MEASURE_MS} ms per figure`,
);
const ROUNDS = 500;
console.log(
  `instances   build ms   lookups/s      ns/lookup   GCs in ${((ROUNDS * KEYS) / 1e6).toFixed(1)}M lookups`,
);
const rows: ResultRow[] = [];
for (const n of [3, 100]) {
  const t0 = performance.now();
  const ring = new HashRing(instances(n));
  const build = performance.now() - t0;
  measure(ring, keys, 200); // warm-up
  const rate = measure(ring, keys, MEASURE_MS);
  const gcs = await gcsDuring(ring, keys, ROUNDS);
  console.log(
    `${String(n).padStart(9)}   ${build.toFixed(1).padStart(8)}   ${Math.round(rate)
      .toLocaleString('en-US')
      .padStart(12)}   ${(1e9 / rate).toFixed(0).padStart(9)}   ${String(gcs).padStart(9)}`,
  );
  rows.push({
    scenario: 'micro',
    metric: `hash-ring lookups/s, ${n} instances`,
    ours: rate,
    better: 'higher',
    goal: 1_000_000,
    note: `${gcs} GCs in ${((ROUNDS * KEYS) / 1e6).toFixed(1)}M lookups`,
  });
}
emit(rows);
if (sink === -1) console.log('');
