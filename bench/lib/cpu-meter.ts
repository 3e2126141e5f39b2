// CPU accounting across the processes of a measurement: on a 2-core machine the CPU all of them
// spend per unit of work (a connect, a delivery, a round trip) is what bounds the rate, and it
// tells which process a ratio is lost in.
import { cpuMs } from './proc-rss.js';

/** CPU time (user + system, ms) used so far by each process taking part, by name. */
export type CpuProbes = Record<string, () => number>;

/** This process's CPU time so far, in ms. */
export function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** A probe for another process by pid (0 once it has exited). */
export function pidCpuMs(pid: number | undefined): () => number {
  return () => {
    if (pid === undefined) return 0;
    try {
      return cpuMs(pid);
    } catch {
      return 0;
    }
  };
}

/**
 * Starts metering; the returned function renders the CPU each process spent since then per
 * unit of work, `talaria 380, devices 383; sum 763` (µs).
 */
export function cpuMeter(probes: CpuProbes): (units: number) => string {
  const start = Object.entries(probes).map(([name, f]) => [name, f(), f] as const);
  return (units) => {
    let sum = 0;
    const parts = start.map(([name, v0, f]) => {
      const us = ((f() - v0) * 1000) / Math.max(1, units);
      sum += us;
      return `${name} ${us.toFixed(0)}`;
    });
    return `${parts.join(', ')}; sum ${sum.toFixed(0)}`;
  };
}
