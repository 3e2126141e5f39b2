import { Etcd3 } from 'etcd3';
import type { Logger } from 'pino';
import { WatchStreamBackoff } from './backoff.js';
import type { EtcdDiscoveryConfig } from './config.js';
import { DiscoveryError } from './errors.js';
import { instanceKey, keyRoot } from './etcd-keys.js';
import { EtcdRegistration } from './etcd-registration.js';
import { EtcdWatch } from './etcd-watch.js';
import { checkName, defaultInstanceId } from './names.js';
import { normalizeInstanceUrl } from './normalize-instance.js';
import type { Discovery, InstanceSets, Registration, Watch } from './types.js';

const DEFAULT_DIAL_TIMEOUT_MS = 3000;
const DEFAULT_REQUEST_TIMEOUT_MS = 5000;

/**
 * Discovery over etcd: instances at `<prefix>/<datacenter>/<service>/<id>` = URL, each under a
 * lease this process keeps alive; watches see every datacenter.
 */
export class EtcdDiscovery implements Discovery {
  readonly datacenter: string;
  readonly client: Etcd3;
  private readonly root: string;
  private readonly ttlSeconds: number;
  private readonly logger: Logger | undefined;
  private readonly registrations = new Set<EtcdRegistration>();
  private readonly watches = new Set<EtcdWatch>();
  private closed = false;

  constructor(datacenter: string, config: EtcdDiscoveryConfig, logger?: Logger) {
    this.datacenter = checkName('datacenter', datacenter);
    if (!Array.isArray(config.endpoints) || config.endpoints.length === 0) {
      throw new DiscoveryError('config_invalid', 'etcd.endpoints must list at least one endpoint');
    }
    if (!Number.isInteger(config.leaseTtlSeconds) || config.leaseTtlSeconds < 1) {
      throw new DiscoveryError('config_invalid', 'etcd.leaseTtlSeconds must be an integer >= 1');
    }
    this.root = keyRoot(config.prefix);
    this.ttlSeconds = config.leaseTtlSeconds;
    this.logger = logger;
    const requestTimeoutMs = config.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.client = new Etcd3({
      hosts: config.endpoints,
      dialTimeout: config.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS,
      // a deadline for single requests only: watch and keep-alive streams live on
      defaultCallOptions: (ctx) =>
        ctx.isStream ? {} : { deadline: Date.now() + requestTimeoutMs },
      faultHandling: { watchBackoff: new WatchStreamBackoff() },
    });
  }

  async register(service: string, url: string, id?: string): Promise<Registration> {
    if (this.closed) throw new DiscoveryError('discovery_closed', 'discovery is closed');
    checkName('service', service);
    const normalized = normalizeInstanceUrl(url);
    const instanceId = checkName('instance id', id ?? defaultInstanceId(normalized));
    const key = instanceKey(this.root, this.datacenter, service, instanceId);
    const reg = new EtcdRegistration(
      this.client,
      key,
      normalized,
      this.ttlSeconds,
      this.logger,
      (r) => this.registrations.delete(r),
    );
    try {
      await reg.start();
    } catch (err) {
      throw new DiscoveryError('registration_failed', `cannot register ${key} in etcd`, {
        cause: err,
      });
    }
    this.registrations.add(reg);
    return reg;
  }

  watch(service: string, onChange: (sets: InstanceSets) => void): Watch {
    if (this.closed) throw new DiscoveryError('discovery_closed', 'discovery is closed');
    checkName('service', service);
    const w = new EtcdWatch(this.client, this.root, service, onChange, this.logger, (x) =>
      this.watches.delete(x),
    );
    this.watches.add(w);
    w.start();
    return w;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of [...this.watches]) w.close();
    await Promise.all([...this.registrations].map((r) => r.deregister()));
    this.client.close();
  }
}
