import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, LOG_LEVELS, type LogLevel } from '@xmidt/runtime';
import { portFree, waitAll200 } from '../net-checks.js';
import { DEFAULT_PORTS, MAX_PORT_OFFSET } from '../ports.js';
import { writeServiceConfig } from '../service-config-file.js';
import { serviceNodeArgs } from '../service-names.js';
import { Supervisor } from '../supervisor.js';
import { HOST, planSystem, type PlannedInstance, type SystemMode } from '../system-plan.js';
import {
  readSystemFile,
  removeSystemFile,
  writeSystemFile,
  type SystemFile,
} from '../system-file.js';

export const ETCD_BINARY = '/usr/bin/etcd';

const COMMON_OPTIONS = `  --data-dir DIR        generated configs, stores, system.json (default .data/xmidt)
  --port-offset N       added to every port, to run beside another system (default 0)
  --no-restart          do not restart a service that exits
  --log-level LEVEL     services' log level: ${LOG_LEVELS.join(', ')} (default warn)
  --ready-timeout S     seconds to wait for every service to be ready (default 180)
  --help                this text

API credentials: XMIDT_API_AUTH=user:pass, else generated and printed. Once every service
answers /ready, DIR/system.json lists the URLs, pids and configs and "xmidt ready" is printed.
Ctrl-C (SIGINT) or SIGTERM stops every service.
`;

const HELP: Record<SystemMode, string> = {
  start: `xmidt start — the whole system on this machine, one process per service

Usage: xmidt start [options]

Runs Themis, Caduceus, Talaria, Petasos and Scytale as supervised child processes on
127.0.0.1 with the original's ports (Caduceus 6000, Talaria 6200, Scytale 6300, Petasos 6400,
Themis 6500 keys / 6501 issuer; admin listeners 6001, 6201, 6301, 6401, 6503), static
discovery, Caduceus' webhooks in a file in the data dir, loopback webhook receivers allowed,
devices admitted without a token (a token given is checked against Themis' keys).

${COMMON_OPTIONS}`,
  cluster: `xmidt cluster — a real cluster on this machine: etcd, 3 Talarias, 2 Caduceus, …

Usage: xmidt cluster [options]

Runs /usr/bin/etcd (data in DIR/etcd, ports 2379/2380) and, as separate processes on
127.0.0.1, Talarias on 6200, 6210, 6220 (admin 6201, 6211, 6221), Caduceus on 6000 and 6010
(webhooks stored in etcd), Petasos 6400, Scytale 6300 and Themis 6500/6501, all finding
each other through etcd. Every port moves by --port-offset.

${COMMON_OPTIONS}`,
};

class UsageError extends Error {}

interface Options {
  dataDir: string;
  offset: number;
  restart: boolean;
  logLevel: LogLevel;
  readyTimeoutMs: number;
}

function parse(argv: readonly string[]): Options | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        'data-dir': { type: 'string', default: join('.data', 'xmidt') },
        'port-offset': { type: 'string', default: '0' },
        'no-restart': { type: 'boolean', default: false },
        'log-level': { type: 'string', default: 'warn' },
        'ready-timeout': { type: 'string', default: '180' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  const offset = Number(values['port-offset']);
  if (!Number.isInteger(offset) || offset < 0 || offset > MAX_PORT_OFFSET) {
    throw new UsageError(
      `--port-offset must be a whole number from 0 to ${MAX_PORT_OFFSET}, got ${values['port-offset']}`,
    );
  }
  const level = values['log-level'];
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got ${level}`);
  }
  const readyTimeout = Number(values['ready-timeout']);
  if (!Number.isFinite(readyTimeout) || readyTimeout <= 0) {
    throw new UsageError('--ready-timeout must be a positive number of seconds');
  }
  return {
    dataDir: resolve(values['data-dir']),
    offset,
    restart: !values['no-restart'],
    logLevel: level as LogLevel,
    readyTimeoutMs: readyTimeout * 1000,
  };
}

/** `XMIDT_API_AUTH` (user:pass) or a generated password for user `xmidt`. */
function apiCredentials(): { apiAuth: string; generated: boolean } {
  const given = process.env['XMIDT_API_AUTH'];
  if (given !== undefined && given !== '') {
    const colon = given.indexOf(':');
    if (colon <= 0) throw new UsageError('XMIDT_API_AUTH must be user:pass (e.g. admin:secret)');
    return { apiAuth: given, generated: false };
  }
  return { apiAuth: `xmidt:${randomBytes(12).toString('base64url')}`, generated: true };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Environment of etcd: no stray ETCD_* settings; the architecture flag etcd 3.4 wants. */
function etcdEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('ETCD_')) env[k] = v;
  }
  const goarch: Partial<Record<string, string>> = { arm64: 'arm64', arm: 'arm', s390x: 's390x' };
  const arch = goarch[process.arch];
  if (arch !== undefined) env['ETCD_UNSUPPORTED_ARCH'] = arch;
  return env;
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_:@./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `xmidt start` and `xmidt cluster`: runs until SIGINT/SIGTERM; returns the exit code. */
export async function runSystem(mode: SystemMode, argv: readonly string[]): Promise<number> {
  const name = `xmidt ${mode}`;
  let opts: Options | 'help';
  let creds: { apiAuth: string; generated: boolean };
  try {
    opts = parse(argv);
    creds = apiCredentials();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${name}: ${err.message}\n(see: xmidt ${mode} --help)\n`);
    return 2;
  }
  if (opts === 'help') {
    process.stdout.write(HELP[mode]);
    return 0;
  }
  const o = opts;
  const say = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const fail = (message: string): number => {
    process.stderr.write(`${name}: ${message}\n`);
    return 1;
  };

  // One system per data dir.
  const previous = await readSystemFile(o.dataDir);
  if (previous !== undefined) {
    const running = Object.values(previous.services)
      .flat()
      .filter((s) => alive(s.pid));
    if (running.length > 0) {
      return fail(
        `a system is already running with data dir ${o.dataDir} (pids ${running.map((s) => s.pid).join(', ')}): stop it, or use another --data-dir and --port-offset`,
      );
    }
    await removeSystemFile(o.dataDir);
  }
  await mkdir(o.dataDir, { recursive: true });

  let etcd: { client: number; peer: number; url: string; dataDir: string } | undefined;
  if (mode === 'cluster') {
    if (!existsSync(ETCD_BINARY)) {
      return fail(`${ETCD_BINARY} not found: install etcd (e.g. apt-get install etcd-server)`);
    }
    const client = DEFAULT_PORTS.etcd.client + o.offset;
    const peer = DEFAULT_PORTS.etcd.peer + o.offset;
    etcd = { client, peer, url: `http://${HOST}:${client}`, dataDir: join(o.dataDir, 'etcd') };
  }
  const plan = planSystem({
    mode,
    dataDir: o.dataDir,
    offset: o.offset,
    apiAuth: creds.apiAuth,
    logLevel: o.logLevel,
    ...(etcd ? { etcdUrl: etcd.url } : {}),
  });

  // Every port must be free before anything starts.
  const wanted: { port: number; who: string }[] = plan.flatMap((i) =>
    i.ports.map((port) => ({ port, who: i.name })),
  );
  if (etcd) wanted.push({ port: etcd.client, who: 'etcd' }, { port: etcd.peer, who: 'etcd' });
  const busy: string[] = [];
  for (const w of wanted) {
    if (!(await portFree(w.port, HOST))) busy.push(`${w.port} (${w.who})`);
  }
  if (busy.length > 0) {
    return fail(
      `port${busy.length > 1 ? 's' : ''} in use on ${HOST}: ${busy.join(', ')}; stop what uses them or pick --port-offset N (every port moves by N)`,
    );
  }

  // Generated configs, each checked against its service's schema.
  const configDir = join(o.dataDir, 'config');
  const files = new Map<string, string>();
  try {
    for (const inst of plan) {
      files.set(
        inst.name,
        await writeServiceConfig(configDir, inst.name, inst.service, inst.config),
      );
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      return fail(
        `generated configuration does not fit the service's schema (a bug in the xmidt command): ${err.message}`,
      );
    }
    throw err;
  }

  let stopping = false;
  let wake: () => void = () => undefined;
  const stopped = new Promise<void>((r) => (wake = r));
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    say(`${name}: ${signal}: stopping every service`);
    wake();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const supervisor = new Supervisor({ restart: o.restart });
  const shutdown = async (): Promise<void> => {
    // Services first (they deregister from etcd), then etcd.
    await supervisor.stop(supervisor.names().filter((n) => n !== 'etcd'));
    await supervisor.stop();
    await removeSystemFile(o.dataDir);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };

  const tsx = import.meta.resolve('tsx');
  const system: SystemFile = { apiAuth: creds.apiAuth, services: {} };
  try {
    if (etcd) {
      await mkdir(etcd.dataDir, { recursive: true, mode: 0o700 });
      const peerUrl = `http://${HOST}:${etcd.peer}`;
      supervisor.add({
        name: 'etcd',
        command: ETCD_BINARY,
        cleanEnv: etcdEnv(),
        args: [
          '--name',
          'xmidt',
          '--data-dir',
          etcd.dataDir,
          '--listen-client-urls',
          etcd.url,
          '--advertise-client-urls',
          etcd.url,
          '--listen-peer-urls',
          peerUrl,
          '--initial-advertise-peer-urls',
          peerUrl,
          '--initial-cluster',
          `xmidt=${peerUrl}`,
          '--initial-cluster-state',
          'new',
          '--log-level',
          o.logLevel === 'debug' || o.logLevel === 'trace' ? 'debug' : 'error',
          '--logger',
          'zap',
        ],
      });
      const notReady = await waitAll200([`${etcd.url}/health`], 30_000, () => stopping);
      if (stopping) {
        await shutdown();
        return 0;
      }
      if (notReady.length > 0) {
        await shutdown();
        return fail(`etcd did not become healthy at ${etcd.url} within 30s (see its output above)`);
      }
    }

    for (const inst of plan) {
      supervisor.add({
        name: inst.name,
        args: [...serviceNodeArgs(inst.service, tsx), '--config', files.get(inst.name) ?? ''],
      });
    }
    const pending = await waitAll200(
      plan.map((i) => `${i.admin}/ready`),
      o.readyTimeoutMs,
      () => stopping,
    );
    if (stopping) {
      await shutdown();
      return 0;
    }
    if (pending.length > 0) {
      const names = plan.filter((i) => pending.includes(`${i.admin}/ready`)).map((i) => i.name);
      await shutdown();
      return fail(
        `not ready after ${o.readyTimeoutMs / 1000}s: ${names.join(', ')} (see their output above; --log-level info shows more)`,
      );
    }

    for (const inst of plan) {
      const pid = supervisor.pid(inst.name);
      if (pid === undefined) {
        await shutdown();
        return fail(`${inst.name} exited right after becoming ready (see its output above)`);
      }
      const entry = {
        url: inst.url,
        admin: inst.admin,
        pid,
        config: files.get(inst.name) ?? '',
        ...(inst.issuer !== undefined ? { issuer: inst.issuer } : {}),
      };
      (system.services[inst.service] ??= []).push(entry);
    }
    if (etcd) {
      system.etcd = { url: etcd.url, pid: supervisor.pid('etcd') ?? 0, dataDir: etcd.dataDir };
    }
    const path = await writeSystemFile(o.dataDir, system);
    printInstructions(say, mode, plan, system, creds.generated, path);
    say('xmidt ready');
  } catch (err) {
    await shutdown();
    throw err;
  }

  await stopped;
  await shutdown();
  say(`${name}: stopped`);
  return 0;
}

function printInstructions(
  say: (line: string) => void,
  mode: SystemMode,
  plan: readonly PlannedInstance[],
  system: SystemFile,
  generated: boolean,
  systemPath: string,
): void {
  const first = (service: string): string =>
    plan.find((i) => i.service === service)?.url ?? '(none)';
  const auth = shellQuote(system.apiAuth);
  const env = `XMIDT_API_AUTH=${auth}`;
  say('');
  say('XMiDT is running:');
  for (const inst of plan) {
    const issuer = inst.issuer !== undefined ? `  issuer ${inst.issuer}` : '';
    say(`  ${inst.name.padEnd(11)} ${inst.url}  admin ${inst.admin}${issuer}`);
  }
  if (system.etcd) say(`  ${'etcd'.padEnd(11)} ${system.etcd.url}`);
  say(
    `API credentials (Basic): ${system.apiAuth}${generated ? '  (generated; set XMIDT_API_AUTH=user:pass to choose)' : ''}`,
  );
  say(`URLs, pids and configs: ${systemPath}`);
  say('');
  say('Connect a simulated device (mac:5ca1ab1e0000) through Petasos:');
  say(`  npx xmidt simulate --url ${first('petasos')} --devices 1 --duration 10m`);
  say('Send it a message through Scytale:');
  say(
    `  ${env} npx xmidt send --url ${first('scytale')} --dest mac:5ca1ab1e0000/config --payload '{"hello":"device"}'`,
  );
  say('Register a webhook for its events in Caduceus:');
  // Only the all-in-one system accepts receivers on loopback addresses.
  const receiver =
    mode === 'start' ? 'http://127.0.0.1:9000/events' : 'http://RECEIVER-HOST:9000/events';
  say(`  ${env} npx xmidt hooks add --url ${first('caduceus')} --target ${receiver} --events '.*'`);
  say('');
}
