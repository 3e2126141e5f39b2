import { parseArgs } from 'node:util';
import { loadConfig } from '@xmidt/runtime';
import { scytaleConfigSchema } from './config.js';
import { createScytale } from './service.js';

const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' } } });
try {
  const config = loadConfig({
    service: 'scytale',
    schema: scytaleConfigSchema,
    ...(values.config ? { file: values.config } : {}),
  });
  const scytale = createScytale(config);
  const ports = await scytale.start();
  scytale.runtime.logger.info(ports, 'scytale started');
  scytale.runtime.handleSignals();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(2);
}
