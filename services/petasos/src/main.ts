import { parseArgs } from 'node:util';
import { loadConfig } from '@xmidt/runtime';
import { petasosConfigSchema } from './config.js';
import { createPetasos } from './service.js';

const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' } } });
try {
  const config = loadConfig({
    service: 'petasos',
    schema: petasosConfigSchema,
    ...(values.config ? { file: values.config } : {}),
  });
  const petasos = createPetasos(config);
  const ports = await petasos.start();
  petasos.runtime.logger.info(ports, 'petasos started');
  petasos.runtime.handleSignals();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(2);
}
