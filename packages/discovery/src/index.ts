export {
  normalizeInstanceUrl,
  normalizeInstances,
  MAX_INSTANCE_LENGTH,
} from './normalize-instance.js';
export type { Discovery, InstanceSets, Registration, Watch } from './types.js';
export {
  discoveryConfigSchema,
  type DiscoveryConfig,
  type EtcdDiscoveryConfig,
  type StaticDiscoveryConfig,
} from './config.js';
export { createDiscovery } from './create-discovery.js';
export { StaticDiscovery } from './static-discovery.js';
export { EtcdDiscovery } from './etcd-discovery.js';
export { MAX_WATCHED_INSTANCES } from './etcd-watch.js';
export { ServiceRings, type ServiceRingsOptions } from './service-rings.js';
export { buildInstanceSets, sameInstanceSets } from './instance-sets.js';
export { DiscoveryError, type DiscoveryErrorCode } from './errors.js';
