export { createTalaria } from './service.js';
export type { Talaria, TalariaOptions } from './service.js';
export { talariaConfigSchema } from './config.js';
export type { TalariaConfig } from './config.js';
export type { DeviceAuth } from './handshake.js';
export { DeviceRegistry } from './device-registry.js';
export type { DeviceConnection, ConnectInfo } from './device-connection.js';
