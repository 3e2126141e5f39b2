import type { Logger } from 'pino';
import type { DiscoveryConfig } from './config.js';
import { DiscoveryError } from './errors.js';
import { EtcdDiscovery } from './etcd-discovery.js';
import { StaticDiscovery } from './static-discovery.js';
import type { Discovery } from './types.js';

/** The backend named by `config.type`. */
export function createDiscovery(config: DiscoveryConfig, logger?: Logger): Discovery {
  switch (config.type) {
    case 'static':
      return new StaticDiscovery(config.datacenter, config.static, logger);
    case 'etcd':
      if (!config.etcd) {
        throw new DiscoveryError('config_invalid', 'discovery type etcd needs an etcd section');
      }
      return new EtcdDiscovery(config.datacenter, config.etcd, logger);
    default:
      throw new DiscoveryError(
        'config_invalid',
        `unknown discovery type ${JSON.stringify((config as { type: unknown }).type)}`,
      );
  }
}
