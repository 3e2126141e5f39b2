// The one place Petasos imports its sibling packages from. Lines point either at the package or,
// while that package has not shipped its code yet, at a local stand-in that follows the package
// contract (same names and signatures), so switching is a one-line change here.
export { parseDeviceId } from '@xmidt/wrp';
export { HashRing, murmur3Sum64 } from '@xmidt/hashring';
export type { NodeNameMode } from '@xmidt/hashring';
// stand-in until @xmidt/discovery exports its code
export {
  ServiceRings,
  createDiscovery,
  discoveryConfigSchema,
  normalizeInstanceUrl,
} from './discovery.js';
export type { Discovery, DiscoveryConfig, InstanceSets, Registration, Watch } from './discovery.js';
