// One figure of a scenario next to the baseline measured in the same run, with the goal it is
// held to. Scenario scripts print their rows as a table and, when BENCH_OUT names a file,
// append them there as JSON lines for scripts/run-bench.mjs to gather into docs/benchmarks.md.
import { appendFileSync } from 'node:fs';

export interface ResultRow {
  /** Scenario id as the runner knows it (idle, storm, rr, fanout, micro, scaleout). */
  scenario: string;
  /** What is measured, with its unit. */
  metric: string;
  ours: number;
  /** The baseline measured in the same run, when the figure has one. */
  baseline?: { name: string; value: number };
  better: 'lower' | 'higher';
  /**
   * With a baseline: the ratio ours/baseline must be at most (lower is better) or at least
   * (higher is better) this. Without one: the figure itself must be at most / at least this.
   */
  goal?: number;
  note?: string;
}

export function ratioOf(r: ResultRow): number | undefined {
  if (!r.baseline || !(r.baseline.value > 0) || !Number.isFinite(r.ours)) return undefined;
  return r.ours / r.baseline.value;
}

export function goalText(r: ResultRow): string {
  if (r.goal === undefined) return '';
  const op = r.better === 'lower' ? '<=' : '>=';
  return r.baseline ? `${op} ${r.goal}x` : `${op} ${fmt(r.goal)}`;
}

export function met(r: ResultRow): boolean | undefined {
  if (r.goal === undefined) return undefined;
  const v = r.baseline ? ratioOf(r) : r.ours;
  if (v === undefined || !Number.isFinite(v)) return false;
  return r.better === 'lower' ? v <= r.goal : v >= r.goal;
}

export function fmt(v: number): string {
  if (!Number.isFinite(v)) return '-';
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** Prints the rows as a table and appends them to $BENCH_OUT (JSON lines) when set. */
export function emit(rows: readonly ResultRow[]): void {
  const table = [['metric', 'ours', 'baseline', 'ratio', 'goal', 'met']];
  for (const r of rows) {
    const ratio = ratioOf(r);
    const m = met(r);
    table.push([
      r.metric,
      fmt(r.ours),
      r.baseline ? `${fmt(r.baseline.value)} (${r.baseline.name})` : '-',
      ratio === undefined ? '-' : `${ratio.toFixed(2)}x`,
      goalText(r),
      m === undefined ? '' : m ? 'yes' : 'NO',
    ]);
  }
  const widths = (table[0] ?? []).map((_, i) => Math.max(...table.map((t) => t[i]?.length ?? 0)));
  console.log('');
  for (const t of table) console.log(t.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  '));
  const out = process.env['BENCH_OUT'];
  if (out) appendFileSync(out, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
}
