import { Counter, Gauge, type Registry } from 'prom-client';
import type { KeyStore } from './key-store.js';

export function createThemisMetrics(registry: Registry, store: KeyStore) {
  const issued = new Counter({
    name: 'xmidt_themis_tokens_issued_total',
    help: 'Tokens signed by /issue',
    labelNames: ['alg', 'outcome'] as const,
    registers: [registry],
  });
  const trust = new Counter({
    name: 'xmidt_themis_trust_total',
    help: 'Client certificate evaluations by resulting trust level and reason',
    labelNames: ['trust', 'reason'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'xmidt_themis_published_keys',
    help: 'Public keys currently published (active plus retired still needed)',
    registers: [registry],
    collect() {
      this.set(store.published().length);
    },
  });
  const rotations = new Counter({
    name: 'xmidt_themis_key_rotations_total',
    help: 'Signing key rotations',
    registers: [registry],
  });
  return { issued, trust, rotations };
}
