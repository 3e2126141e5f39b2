import { loadConfig } from '@xmidt/runtime';
import { petasosConfigSchema, type PetasosConfig } from '../src/config.js';

/** Petasos on loopback port 0 with a silent log, plus the given settings. */
export function petasosTestConfig(overrides: Record<string, unknown>): PetasosConfig {
  return loadConfig({
    service: 'petasos',
    schema: petasosConfigSchema,
    env: {},
    overrides: {
      primary: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      log: { level: 'silent' },
      ...overrides,
    },
  });
}
