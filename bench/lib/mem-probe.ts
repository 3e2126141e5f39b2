// Preloaded (`--import`) into a measured server process started with an IPC channel and
// `--expose-gc`. On `{type:'mem'}` it collects garbage and answers with the process's memory
// figures; on `{type:'snapshot', file}` it writes a heap snapshot. When the parent goes away the
// process is asked to stop (SIGTERM), so a measured server never outlives the benchmark.
import { getHeapSpaceStatistics, getHeapStatistics, writeHeapSnapshot } from 'node:v8';
import { vmRss } from './proc-rss.js';

export interface MemReport {
  type: 'mem';
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** Physical (resident) size of the V8 heap, and per heap space. */
  heapPhysical: number;
  spaces: Record<string, number>;
  /** Memory V8 itself got from malloc. */
  malloced: number;
}

export interface ProbeRequest {
  type: 'mem' | 'snapshot';
  file?: string;
}

const gc = (globalThis as { gc?: () => void }).gc;

if (process.send) {
  process.on('message', (raw: unknown) => {
    const req = raw as ProbeRequest;
    if (req.type === 'mem') {
      gc?.();
      gc?.();
      const m = process.memoryUsage();
      const report: MemReport = {
        type: 'mem',
        rss: vmRss('self'),
        heapUsed: m.heapUsed,
        heapTotal: m.heapTotal,
        external: m.external,
        arrayBuffers: m.arrayBuffers,
        heapPhysical: getHeapStatistics().total_physical_size,
        spaces: Object.fromEntries(
          getHeapSpaceStatistics().map((sp) => [sp.space_name, sp.physical_space_size]),
        ),
        malloced: getHeapStatistics().malloced_memory,
      };
      process.send?.(report);
    } else if (req.type === 'snapshot' && req.file) {
      const file = writeHeapSnapshot(req.file);
      process.send?.({ type: 'snapshot', file });
    }
  });
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  // The IPC channel must not keep the process alive on its own.
  process.channel?.unref();
}
