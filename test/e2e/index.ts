export * from './src/harness.js';
export * from './src/processes.js';
export * from './src/api.js';
export * from './src/devices.js';
export * from './src/webhook-receiver.js';
