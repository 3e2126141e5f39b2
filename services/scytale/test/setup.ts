import { loadConfig } from '@xmidt/runtime';
import { scytaleConfigSchema } from '../src/config.js';
import type { ScytaleConfig } from '../src/config.js';
import { createScytale } from '../src/service.js';
import type { Scytale, ScytaleOptions } from '../src/service.js';

export function scytaleConfig(
  instances: Record<string, string[]>,
  extra: Record<string, unknown> = {},
  fanout: Record<string, unknown> = {},
): ScytaleConfig {
  return loadConfig({
    service: 'scytale',
    schema: scytaleConfigSchema,
    env: {},
    overrides: {
      primary: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      log: { level: 'silent' },
      discovery: {
        type: 'static',
        datacenter: 'dc1',
        static: { services: { talaria: instances } },
      },
      fanout: {
        authorization: 'scytale:s3cret',
        fanoutTimeout: '2s',
        clientTimeout: '2s',
        ...fanout,
      },
      ...extra,
    },
  });
}

export interface Running {
  scytale: Scytale;
  base: string;
  admin: string;
}

export async function startScytale(
  config: ScytaleConfig,
  opts: ScytaleOptions = {},
): Promise<Running> {
  const scytale = createScytale(config, opts);
  const ports = await scytale.start();
  return {
    scytale,
    base: `http://127.0.0.1:${ports.primaryPort}`,
    admin: `http://127.0.0.1:${ports.adminPort}`,
  };
}
