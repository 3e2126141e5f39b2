import { Counter, Gauge, type Registry } from 'prom-client';
import type { IssueMetrics } from './routes/issue.js';
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

/**
 * The issue routes' counting on the counters above, with each label combination's child looked
 * up once (prom-client otherwise hashes the label object on every increment).
 */
export function issueCounters(m: ReturnType<typeof createThemisMetrics>): IssueMetrics {
  const issued = new Map<string, { inc(): void }>();
  const trust = new Map<number, Map<string, { inc(): void }>>();
  return {
    issued(alg, outcome) {
      const k = outcome === 'success' ? alg : `${alg}\u0000${outcome}`;
      let c = issued.get(k);
      if (!c) issued.set(k, (c = m.issued.labels(alg, outcome)));
      c.inc();
    },
    trust(t, reason) {
      let byReason = trust.get(t);
      if (!byReason) trust.set(t, (byReason = new Map()));
      let c = byReason.get(reason);
      if (!c) byReason.set(reason, (c = m.trust.labels(String(t), reason)));
      c.inc();
    },
  };
}
