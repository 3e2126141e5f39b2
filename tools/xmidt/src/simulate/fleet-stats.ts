import { Histogram } from './histogram.js';

/** Counters of one fleet (one process); plain data so workers can send it over IPC. */
export interface FleetSnapshot {
  devices: number;
  started: number;
  online: number;
  peakOnline: number;
  attempts: number;
  connects: number;
  redirects: number;
  failures: Record<string, number>;
  disconnects: Record<string, number>;
  requests: number;
  replies: number;
  events: number;
  eventsDropped: number;
  /** Resident memory of the process(es), MiB. */
  rssMiB: number;
  connectLatency: { counts: number[]; max: number };
}

export function emptySnapshot(): FleetSnapshot {
  return {
    devices: 0,
    started: 0,
    online: 0,
    peakOnline: 0,
    attempts: 0,
    connects: 0,
    redirects: 0,
    failures: {},
    disconnects: {},
    requests: 0,
    replies: 0,
    events: 0,
    eventsDropped: 0,
    rssMiB: 0,
    connectLatency: new Histogram().toJSON(),
  };
}

const addCounts = (into: Record<string, number>, from: Record<string, number>): void => {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
};

/** Sums snapshots of several workers (peak online is summed: an upper bound). */
export function mergeSnapshots(parts: readonly FleetSnapshot[]): FleetSnapshot {
  const out = emptySnapshot();
  const hist = new Histogram();
  for (const p of parts) {
    out.devices += p.devices;
    out.started += p.started;
    out.online += p.online;
    out.peakOnline += p.peakOnline;
    out.attempts += p.attempts;
    out.connects += p.connects;
    out.redirects += p.redirects;
    addCounts(out.failures, p.failures);
    addCounts(out.disconnects, p.disconnects);
    out.requests += p.requests;
    out.replies += p.replies;
    out.events += p.events;
    out.eventsDropped += p.eventsDropped;
    out.rssMiB += p.rssMiB;
    hist.merge(p.connectLatency);
  }
  out.connectLatency = hist.toJSON();
  return out;
}
