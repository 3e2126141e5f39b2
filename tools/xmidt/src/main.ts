import { runHooks } from './commands/hooks.js';
import { runService } from './commands/run-service.js';
import { runSend } from './commands/send.js';
import { runSimulate } from './commands/simulate.js';
import { runSystem } from './commands/start.js';
import { isServiceName, SERVICE_NAMES } from './service-names.js';

const HELP = `xmidt — run and use an XMiDT system

Usage: xmidt <command> [options]        (xmidt <command> --help for its options)

Run a system on this machine:
  start                 every service as a child process, on the original's ports
  cluster               etcd, 3 Talarias, 2 Caduceus, Petasos, Scytale, Themis (etcd discovery)

Use it:
  send                  send a device a WRP message through Scytale and print the reply
  hooks add|list|delete manage webhooks in Caduceus
  hooks listen          a webhook receiver that prints the events it gets
  simulate              a fleet of simulated Parodus devices

Run one service from its YAML:
  ${SERVICE_NAMES.join('|')} --config FILE

Environment: XMIDT_API_AUTH=user:pass is the API credential (start uses it, send/hooks send it).
`;

/** Parses a failure of node:util parseArgs into a user message, else rethrows. */
function usageMessage(err: unknown): string | undefined {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) return (err as Error).message;
  return undefined;
}

/** Runs `xmidt <argv>`; resolves with the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
        process.stderr.write(HELP);
        return 2;
      case '--help':
      case '-h':
      case 'help':
        process.stdout.write(HELP);
        return 0;
      case 'start':
        return await runSystem('start', rest);
      case 'cluster':
        return await runSystem('cluster', rest);
      case 'send':
        return await runSend(rest);
      case 'hooks':
        return await runHooks(rest);
      case 'simulate':
        return await runSimulate(rest);
      default:
        if (isServiceName(command)) return await runService(command, rest);
        process.stderr.write(`xmidt: unknown command "${command}"\n\n${HELP}`);
        return 2;
    }
  } catch (err) {
    const usage = usageMessage(err);
    if (usage !== undefined) {
      process.stderr.write(
        `xmidt ${command ?? ''}: ${usage} (see: xmidt ${command ?? ''} --help)\n`,
      );
      return 2;
    }
    throw err;
  }
}
