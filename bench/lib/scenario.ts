// What every scenario script shares: its scale and hold from the environment (set by
// scripts/run-bench.mjs from --scale / --hold), a log with elapsed time, and cleanup of every
// process it started on exit, on a signal, or when its time budget runs out.

/** BENCH_SCALE (default 1): multiplies device and client counts. */
export const SCALE = (() => {
  const v = Number(process.env['BENCH_SCALE'] ?? 1);
  if (!(v > 0)) throw new Error(`BENCH_SCALE must be a positive number, not ${v}`);
  return v;
})();

/** `n` scaled, at least `min`. */
export function scaled(n: number, min = 1): number {
  return Math.max(min, Math.round(n * SCALE));
}

/** A duration: '30s', '10m', '500ms' or a number of seconds. */
export function durationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`invalid duration '${text}' (e.g. 30s, 10m, 600)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's'] ?? 1000;
  return Number(m[1]) * unit;
}

/** A duration from the environment variable `name`, else `def` ms. */
export function envDuration(name: string, def: number): number {
  const v = process.env[name];
  return v === undefined || v === '' ? def : durationMs(v);
}

const t0 = performance.now();
export function log(s: string): void {
  console.log(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${s}`);
}

const cleanups: Array<() => unknown> = [];

/** Registers `fn` to run (last registered first) when the scenario ends, however it ends. */
export function onCleanup(fn: () => unknown): void {
  cleanups.push(fn);
}

export async function cleanupAll(): Promise<void> {
  while (cleanups.length > 0) {
    const fn = cleanups.pop() as () => unknown;
    try {
      await fn();
    } catch {
      // best effort
    }
  }
}

/**
 * Runs `main` with cleanup on every way out and a watchdog of `budgetMs`; exits the process
 * with 0 on success, 1 on an error, 2 when the budget ran out.
 */
export function runScenario(name: string, budgetMs: number, main: () => Promise<void>): void {
  const watchdog = setTimeout(() => {
    console.error(`${name}: exceeded ${Math.round(budgetMs / 1000)} s, stopping`);
    void cleanupAll().finally(() => process.exit(2));
  }, budgetMs);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => void cleanupAll().finally(() => process.exit(130)));
  }
  main().then(
    async () => {
      clearTimeout(watchdog);
      await cleanupAll();
      process.exit(0);
    },
    async (err: unknown) => {
      clearTimeout(watchdog);
      console.error(`${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      await cleanupAll();
      process.exit(1);
    },
  );
}
