import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ConfigError } from '@xmidt/runtime';
import { parodusArgsFromYaml } from '../parodus-config.js';
import { checkServiceConfig } from '../service-config-file.js';
import { serviceNodeArgs, type ServiceName } from '../service-names.js';

function help(name: ServiceName): string {
  if (name === 'parodus') {
    return `xmidt parodus — the device agent

Usage: xmidt parodus --config FILE [parodus options]
       xmidt parodus [parodus options]

FILE is YAML mapping Parodus' long option names to values (see deploy/parodus.yaml);
options on the command line come after it, so they win. \`xmidt parodus --help-options\`
lists Parodus' options.
`;
  }
  return `xmidt ${name} — run ${name} from its YAML configuration

Usage: xmidt ${name} --config FILE

Every key has a default (see deploy/${name}.yaml for all of them, commented); environment
variables ${name.toUpperCase()}_<KEY_PATH> override the file (e.g. ${name.toUpperCase()}_PRIMARY_PORT).
`;
}

/** Splits `--config FILE` / `--config=FILE` / `-c FILE` out of the arguments. */
function takeConfig(argv: readonly string[]): { file: string | undefined; rest: string[] } {
  const rest: string[] = [];
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--config' || arg === '-c') {
      file = argv[++i];
      if (file === undefined) throw new Error('--config needs a file name');
    } else if (arg.startsWith('--config=')) {
      file = arg.slice('--config='.length);
    } else {
      rest.push(arg);
    }
  }
  return { file, rest };
}

/**
 * `xmidt <service> --config FILE`: runs one service in a child process, forwarding
 * SIGINT/SIGTERM, and returns its exit code. The file is checked first, so a mistake is
 * reported with the key it concerns before anything starts.
 */
export async function runService(name: ServiceName, argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(help(name));
    return 0;
  }
  let args: string[];
  try {
    const { file, rest } = takeConfig(argv);
    if (file !== undefined && !existsSync(file)) throw new Error(`config file ${file} not found`);
    if (name === 'parodus') {
      const fromFile = file === undefined ? [] : parodusArgsFromYaml(file);
      args = [...fromFile, ...rest.map((a) => (a === '--help-options' ? '--help' : a))];
    } else {
      if (rest.length > 0) throw new Error(`unexpected argument ${rest[0] as string}`);
      if (file !== undefined) checkServiceConfig(name, file);
      args = file === undefined ? [] : ['--config', file];
    }
  } catch (err) {
    const message = err instanceof ConfigError ? err.issues.join('\n  ') : (err as Error).message;
    process.stderr.write(`xmidt ${name}: ${message}\n(see: xmidt ${name} --help)\n`);
    return 2;
  }
  const child = spawn(
    process.execPath,
    [...serviceNodeArgs(name, import.meta.resolve('tsx')), ...args],
    { stdio: 'inherit' },
  );
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
