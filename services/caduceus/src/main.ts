import { parseArgs } from 'node:util';
import { loadConfig, createLogger } from '@xmidt/runtime';
import { caduceusConfigSchema } from './config.js';
import { createCaduceus } from './service.js';

const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' } } });
const config = loadConfig({
  service: 'caduceus',
  schema: caduceusConfigSchema,
  ...(values.config ? { file: values.config } : {}),
});
const logger = createLogger({ service: 'caduceus', level: config.log.level });
const caduceus = createCaduceus(config, { logger });
caduceus.runtime.handleSignals();
try {
  const ports = await caduceus.start();
  logger.info({ ...ports }, 'caduceus started');
} catch (err) {
  logger.fatal({ err }, 'caduceus failed to start');
  process.exit(1);
}
