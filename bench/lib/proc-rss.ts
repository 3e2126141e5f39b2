import { readFileSync } from 'node:fs';

/** VmRSS of a process in bytes, from /proc/<pid>/status. */
export function vmRss(pid: number | 'self'): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** User plus system CPU time of a process in milliseconds, from /proc/<pid>/stat. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(rest[11]) + Number(rest[12]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

/** TcpExt counters of the network namespace (ListenOverflows, ListenDrops, ...). */
export function tcpExt(): Record<string, number> {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
  const out: Record<string, number> = {};
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = (lines[i] as string).split(/\s+/);
    const values = (lines[i + 1] as string).split(/\s+/);
    if (names[0] !== 'TcpExt:') continue;
    names.forEach((n, j) => {
      if (j > 0) out[n] = Number(values[j]);
    });
  }
  return out;
}
