import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * A fresh Prometheus registry with the default process and Node.js metrics
 * (`process_cpu_seconds_total`, `nodejs_eventloop_lag_seconds`, ...), so that several
 * services can run in one process, each with its own `/metrics`.
 */
export function createRegistry(opts: { labels?: Record<string, string> } = {}): Registry {
  const registry = new Registry();
  if (opts.labels) registry.setDefaultLabels(opts.labels);
  collectDefaultMetrics({ register: registry });
  return registry;
}
