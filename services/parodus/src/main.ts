import { readFileSync } from 'node:fs';
import { createLogger } from '@xmidt/runtime';
import { CloseReason } from '@xmidt/device-client';
import { parseParodusArgs, PARODUS_HELP, validateParodusConfig } from './cli-options.js';
import { createParodus } from './parodus-agent.js';

/** Runs the agent until a signal; returns the exit code for usage errors. */
export async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseParodusArgs(argv);
    if (parsed.help) {
      process.stdout.write(PARODUS_HELP);
      return 0;
    }
    validateParodusConfig(parsed.config);
  } catch (err) {
    process.stderr.write(`parodus: ${(err as Error).message}\n\n${PARODUS_HELP}`);
    return 2;
  }
  const { config, warnings } = parsed;
  const logger = createLogger({ service: 'parodus' });
  for (const w of warnings) logger.warn(w);
  const agent = createParodus(config, { logger });
  await agent.start();

  let stopping = false;
  const stop = (reason: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'stopping');
    const deadline = setTimeout(() => process.exit(1), 5000);
    deadline.unref();
    agent.stop(reason).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  const termReason = (): string => {
    if (config.closeReasonFile !== '') {
      try {
        const text = readFileSync(config.closeReasonFile, 'utf8').trim();
        if (text !== '') return text.slice(0, 120);
      } catch {
        // fall back to the default below
      }
    }
    return CloseReason.Restarting;
  };
  process.on('SIGTERM', () => stop(termReason()));
  process.on('SIGINT', () => stop(CloseReason.Stopping));
  process.on('SIGUSR1', () => stop(CloseReason.Restarting));
  return new Promise<number>(() => {
    // runs until a signal ends the process
  });
}

const isEntry = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1]);
if (isEntry) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
