import { spawn } from 'node:child_process';
import { serviceEntry, type ServiceName } from '../service-names.js';

/**
 * `xmidt <service> --config FILE`: runs one service in a child process with the
 * arguments given, forwarding SIGINT/SIGTERM, and returns its exit code.
 */
export function runService(name: ServiceName, argv: readonly string[]): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', serviceEntry(name), ...argv], {
    stdio: 'inherit',
  });
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal === null ? 0 : 1));
    });
  });
}
