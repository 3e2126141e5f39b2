// The kernel's listen-queue limits for a connect storm. With Linux's default somaxconn (4096
// here), a burst of 15,000 connects overflows every server's accept queue, however fast it
// accepts; the kernel drops those handshakes and the clients try again after 1, 3, 7, 15, 31 s.
// A storm's time is then set by which SYN-retransmission wave the last device lands in (the same
// bare server took 3.9 s in one run and 64.6 s in the next), not by the server. An operator
// expecting a reboot storm raises these limits (docs/operations.md); so does the benchmark, for
// every server it measures, and it puts the old values back at the end.
import { readFileSync, writeFileSync } from 'node:fs';

const SETTINGS = ['/proc/sys/net/core/somaxconn', '/proc/sys/net/ipv4/tcp_max_syn_backlog'];

/** The listen backlog the benchmark's servers ask for (the kernel caps it at somaxconn). */
export const STORM_BACKLOG = 65535;

/**
 * Raises somaxconn and tcp_max_syn_backlog to STORM_BACKLOG (when this process may: root on
 * Linux), logging what it did; returns the function that puts the old values back.
 */
export function raiseListenQueue(log: (line: string) => void): () => void {
  const restore: Array<() => void> = [];
  for (const file of SETTINGS) {
    let old: string;
    try {
      old = readFileSync(file, 'utf8').trim();
    } catch {
      log('listen queue: not Linux; kernel limits left as they are');
      break;
    }
    if (Number(old) >= STORM_BACKLOG) continue;
    try {
      writeFileSync(file, String(STORM_BACKLOG));
    } catch (err) {
      log(`listen queue: cannot raise ${file} (${(err as Error).message}); storms may overflow`);
      continue;
    }
    log(`listen queue: ${file} ${old} -> ${STORM_BACKLOG} for this run`);
    restore.push(() => writeFileSync(file, old));
  }
  return () => restore.forEach((f) => f());
}
