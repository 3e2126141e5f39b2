import { parseArgs } from 'node:util';
import { createLogger, loadConfig } from '@xmidt/runtime';
import { themisConfigSchema } from './config.js';
import { createThemis } from './service.js';

const { values } = parseArgs({
  options: { config: { type: 'string', short: 'f' }, file: { type: 'string' } },
  strict: true,
});
const file = values.config ?? values.file;
const config = loadConfig({
  service: 'themis',
  schema: themisConfigSchema,
  ...(file ? { file } : {}),
});
const logger = createLogger({ service: 'themis', level: config.log.level });
const themis = await createThemis(config, { logger });
themis.runtime.handleSignals();
const ports = await themis.start();
logger.info({ ...ports, kid: themis.keys.active().kid }, 'themis started');
