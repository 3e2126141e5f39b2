import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

export interface ScytaleMetrics {
  /** API requests answered, by route, method and status. */
  readonly requests: Counter<'route' | 'method' | 'code'>;
  readonly requestDuration: Histogram<'route' | 'code'>;
  readonly inFlight: Gauge;
  /** Fan-outs: duration by final status, in flight, refused because of the concurrency limit. */
  readonly fanoutDuration: Histogram<'code'>;
  readonly fanoutInFlight: Gauge;
  readonly fanoutRejected: Counter;
  /** Answers from each Talaria request (503/504 = transport failure / timeout). */
  readonly endpointRequests: Counter<'code'>;
  /** Rejected requests, by reason (auth, decode, accept, transaction, device_name, route). */
  readonly rejected: Counter<'reason'>;
  /** The original's partner-id check counter (WRPCheck); counted once that check is enabled. */
  readonly receivedWrpMessages: Counter<'outcome' | 'clientid' | 'reason'>;
  /** The original's capability check counter; counted once capability checks are enabled. */
  readonly capabilityChecks: Counter<'outcome' | 'reason' | 'clientid' | 'partnerid' | 'endpoint'>;
  readonly instances: Gauge<'service' | 'datacenter'>;
  readonly sdUpdates: Counter<'service'>;
}

const P = 'xmidt_scytale_';

export function createScytaleMetrics(registry: Registry): ScytaleMetrics {
  const registers = [registry];
  return {
    requests: new Counter({
      name: `${P}api_requests_total`,
      help: 'API requests answered, by route, method and status code.',
      labelNames: ['route', 'method', 'code'] as const,
      registers,
    }),
    requestDuration: new Histogram({
      name: `${P}request_duration_seconds`,
      help: 'Time to answer an API request, seconds.',
      labelNames: ['route', 'code'] as const,
      buckets: [0.0625, 0.125, 0.25, 0.5, 1, 5, 10, 20, 40, 80, 160],
      registers,
    }),
    inFlight: new Gauge({
      name: `${P}in_flight_requests`,
      help: 'API requests being handled.',
      registers,
    }),
    fanoutDuration: new Histogram({
      name: `${P}fanout_duration_seconds`,
      help: 'Time from the start of a fan-out to its result, by the status answered.',
      labelNames: ['code'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    fanoutInFlight: new Gauge({
      name: `${P}fanout_in_flight`,
      help: 'Fan-outs in progress.',
      registers,
    }),
    fanoutRejected: new Counter({
      name: `${P}fanout_rejected_total`,
      help: 'Fan-outs refused with 503 because the concurrency limit was reached.',
      registers,
    }),
    endpointRequests: new Counter({
      name: `${P}fanout_endpoint_responses_total`,
      help: 'Answers of Talaria requests by status (503 transport failure, 504 timeout).',
      labelNames: ['code'] as const,
      registers,
    }),
    rejected: new Counter({
      name: `${P}rejected_requests_total`,
      help: 'Requests refused before any fan-out, by reason.',
      labelNames: ['reason'] as const,
      registers,
    }),
    receivedWrpMessages: new Counter({
      name: `${P}received_wrp_message_total`,
      help: 'WRP messages checked against the partner ids of the caller.',
      labelNames: ['outcome', 'clientid', 'reason'] as const,
      registers,
    }),
    capabilityChecks: new Counter({
      name: `${P}auth_capability_check`,
      help: 'Capability checks of callers.',
      labelNames: ['outcome', 'reason', 'clientid', 'partnerid', 'endpoint'] as const,
      registers,
    }),
    instances: new Gauge({
      name: `${P}sd_instance_count`,
      help: 'Instances of the watched service known from discovery, per datacenter.',
      labelNames: ['service', 'datacenter'] as const,
      registers,
    }),
    sdUpdates: new Counter({
      name: `${P}sd_update_count`,
      help: 'Instance set updates received from discovery.',
      labelNames: ['service'] as const,
      registers,
    }),
  };
}
