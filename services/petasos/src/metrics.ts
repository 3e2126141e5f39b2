import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

/** Outcomes of one Petasos request, the `outcome` label of redirects_total. */
export type RedirectOutcome =
  'redirected' | 'missing_device_name' | 'invalid_device_name' | 'no_instances';

export interface PetasosMetrics {
  /** Pre-bound counters, one per outcome, so the hot path does no label lookup. */
  readonly outcome: Readonly<Record<RedirectOutcome, { inc(): void }>>;
  readonly instances: Gauge<'service' | 'datacenter'>;
  readonly updates: Counter<'service'>;
}

export function createPetasosMetrics(registry: Registry): PetasosMetrics {
  // plain numbers on the hot path, copied into the counter when it is scraped
  const counts: Record<RedirectOutcome, number> = {
    redirected: 0,
    missing_device_name: 0,
    invalid_device_name: 0,
    no_instances: 0,
  };
  const one = (o: RedirectOutcome) => ({
    inc: () => {
      counts[o]++;
    },
  });
  const outcome = {
    redirected: one('redirected'),
    missing_device_name: one('missing_device_name'),
    invalid_device_name: one('invalid_device_name'),
    no_instances: one('no_instances'),
  };
  new Counter({
    name: 'xmidt_petasos_redirects_total',
    help: 'Requests answered, by outcome (redirected = 307 to the owning Talaria).',
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [o, n] of Object.entries(counts)) this.inc({ outcome: o }, n);
    },
  });
  const instances = new Gauge({
    name: 'xmidt_petasos_sd_instance_count',
    help: 'Instances of the watched service known from discovery, per datacenter.',
    labelNames: ['service', 'datacenter'] as const,
    registers: [registry],
  });
  const updates = new Counter({
    name: 'xmidt_petasos_sd_update_count',
    help: 'Instance set updates received from discovery.',
    labelNames: ['service'] as const,
    registers: [registry],
  });
  return { outcome, instances, updates };
}
