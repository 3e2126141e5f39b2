import { parseArgs } from 'node:util';
import { loadConfig } from '@xmidt/runtime';
import { talariaConfigSchema } from './config.js';
import type { TalariaConfig } from './config.js';
import { createTalaria } from './service.js';

const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' } } });
const config = loadConfig({
  service: 'talaria',
  schema: talariaConfigSchema,
  ...(values.config ? { file: values.config } : {}),
  env: process.env,
}) as TalariaConfig;
const talaria = createTalaria(config);
talaria.runtime.handleSignals();
await talaria.start();
