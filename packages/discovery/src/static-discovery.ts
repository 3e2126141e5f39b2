import type { Logger } from 'pino';
import type { StaticDiscoveryConfig } from './config.js';
import { DiscoveryError } from './errors.js';
import { buildInstanceSets } from './instance-sets.js';
import { checkName } from './names.js';
import { normalizeInstanceUrl } from './normalize-instance.js';
import type { Discovery, InstanceSets, Registration, Watch } from './types.js';

/**
 * Instance sets fixed in configuration (`services.<service>.<datacenter>: [urls]`). register()
 * only checks its arguments: the instance is expected to be listed in the configuration.
 */
export class StaticDiscovery implements Discovery {
  readonly datacenter: string;
  private readonly services: StaticDiscoveryConfig['services'];
  private readonly logger: Logger | undefined;
  private readonly watches = new Set<Watch>();
  private closed = false;

  constructor(datacenter: string, config: StaticDiscoveryConfig | undefined, logger?: Logger) {
    this.datacenter = checkName('datacenter', datacenter);
    this.services = config?.services ?? {};
    this.logger = logger;
  }

  async register(service: string, url: string, id?: string): Promise<Registration> {
    if (this.closed) throw new DiscoveryError('discovery_closed', 'discovery is closed');
    checkName('service', service);
    if (id !== undefined) checkName('instance id', id);
    const normalized = normalizeInstanceUrl(url);
    const listed = this.setsOf(service).get(this.datacenter)?.includes(normalized) ?? false;
    if (!listed) {
      this.logger?.warn(
        { service, instance: normalized, datacenter: this.datacenter },
        'static discovery: registered instance is not in the configured list',
      );
    }
    return { deregister: async () => undefined };
  }

  watch(service: string, onChange: (sets: InstanceSets) => void): Watch {
    if (this.closed) throw new DiscoveryError('discovery_closed', 'discovery is closed');
    checkName('service', service);
    const sets = this.setsOf(service);
    let open = true;
    const watch: Watch = {
      current: () => sets,
      close: () => {
        open = false;
        this.watches.delete(watch);
      },
    };
    this.watches.add(watch);
    // reported after watch() returns, as a backend read would be
    queueMicrotask(() => {
      if (open) onChange(sets);
    });
    return watch;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of [...this.watches]) w.close();
  }

  private setsOf(service: string): InstanceSets {
    const byDc = this.services[service] ?? {};
    const pairs: [string, string][] = [];
    for (const [dc, urls] of Object.entries(byDc)) for (const url of urls) pairs.push([dc, url]);
    return buildInstanceSets(pairs, (url, err) =>
      this.logger?.warn({ service, instance: url, err: err.message }, 'dropping invalid instance'),
    );
  }
}
