export { main } from './main.js';
export type { SystemFile, InstanceEntry } from './system-file.js';
export { readSystemFile, systemFilePath } from './system-file.js';
export { DEFAULT_PORTS } from './ports.js';
export { SERVICE_NODE_FLAGS } from './service-names.js';
export type { ServiceName } from './service-names.js';
