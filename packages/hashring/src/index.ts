export { murmur3Sum64, murmur3Hash64Into } from './murmur3.js';
export { ringNodeName, type NodeNameMode } from './node-name.js';
export { HashRing, DEFAULT_VNODES, type HashRingOptions } from './hash-ring.js';
export { HashRingError, type HashRingErrorCode } from './errors.js';
