import { macDigits } from '@xmidt/device-client';
import { PARODUS_DEFAULTS, type ParodusConfig } from './config.js';
import { ParodusError } from './errors.js';

type Kind = 'string' | 'int' | 'flag';

interface OptionSpec {
  long: string;
  short?: string;
  key: keyof ParodusConfig;
  kind: Kind;
  help: string;
}

/** Parodus' options (long name, short letter, meaning). */
export const PARODUS_OPTIONS: readonly OptionSpec[] = [
  { long: 'hw-model', short: 'm', key: 'hwModel', kind: 'string', help: 'device model' },
  {
    long: 'hw-serial-number',
    short: 's',
    key: 'hwSerialNumber',
    kind: 'string',
    help: 'serial number',
  },
  {
    long: 'hw-manufacturer',
    short: 'f',
    key: 'hwManufacturer',
    kind: 'string',
    help: 'manufacturer',
  },
  {
    long: 'hw-mac',
    short: 'd',
    key: 'hwMac',
    kind: 'string',
    help: 'MAC address, 12 hex digits (colons allowed); required',
  },
  {
    long: 'hw-last-reboot-reason',
    short: 'r',
    key: 'hwLastRebootReason',
    kind: 'string',
    help: 'last reboot reason',
  },
  { long: 'fw-name', short: 'n', key: 'fwName', kind: 'string', help: 'firmware name' },
  {
    long: 'boot-time',
    short: 'b',
    key: 'bootTime',
    kind: 'int',
    help: 'boot time, unix seconds (default 0)',
  },
  {
    long: 'webpa-url',
    short: 'u',
    key: 'webpaUrl',
    kind: 'string',
    help: 'server URL http(s)://host[:port] (normally Petasos); required',
  },
  {
    long: 'webpa-ping-timeout',
    short: 't',
    key: 'webpaPingTimeout',
    kind: 'int',
    help: 'seconds without a server ping before reconnecting (0 = never; RDK uses 180)',
  },
  {
    long: 'webpa-backoff-max',
    short: 'o',
    key: 'webpaBackoffMax',
    kind: 'int',
    help: 'backoff cap 2^N-1 s (0 or 1: always 3 s)',
  },
  {
    long: 'webpa-interface-used',
    short: 'i',
    key: 'webpaInterfaceUsed',
    kind: 'string',
    help: 'interface name reported to the server',
  },
  {
    long: 'parodus-local-url',
    short: 'l',
    key: 'parodusLocalUrl',
    kind: 'string',
    help: 'local bus PULL URL (default tcp://127.0.0.1:6666)',
  },
  {
    long: 'partner-id',
    short: 'p',
    key: 'partnerId',
    kind: 'string',
    help: 'partner id(s), comma separated',
  },
  { long: 'seshat-url', short: 'e', key: 'seshatUrl', kind: 'string', help: 'accepted, not used' },
  {
    long: 'dns-txt-url',
    short: 'D',
    key: 'dnsTxtUrl',
    kind: 'string',
    help: 'accepted, not used (default fabric)',
  },
  { long: 'acquire-jwt', short: 'j', key: 'acquireJwt', kind: 'int', help: 'accepted, not used' },
  { long: 'jwt-algo', short: 'a', key: 'jwtAlgo', kind: 'string', help: 'accepted, not used' },
  {
    long: 'jwt-public-key-file',
    short: 'k',
    key: 'jwtPublicKeyFile',
    kind: 'string',
    help: 'accepted, not used',
  },
  {
    long: 'ssl-cert-path',
    short: 'c',
    key: 'sslCertPath',
    kind: 'string',
    help: 'CA file for wss and the token server (default: system CAs)',
  },
  {
    long: 'force-ipv4',
    short: '4',
    key: 'forceIpv4',
    kind: 'flag',
    help: 'connect over IPv4 only',
  },
  {
    long: 'force-ipv6',
    short: '6',
    key: 'forceIpv6',
    kind: 'flag',
    help: 'connect over IPv6 only',
  },
  {
    long: 'boot-time-retry-wait',
    short: 'w',
    key: 'bootTimeRetryWait',
    kind: 'int',
    help: 'boot time retry wait, seconds',
  },
  {
    long: 'client-cert-path',
    key: 'clientCertPath',
    kind: 'string',
    help: 'PEM with client cert and key for the token server; enables the token fetch',
  },
  {
    long: 'token-server-url',
    key: 'tokenServerUrl',
    kind: 'string',
    help: 'token server URL (Themis /issue)',
  },
  {
    long: 'crud-config-file',
    short: 'C',
    key: 'crudConfigFile',
    kind: 'string',
    help: 'accepted, not used (tags are not supported)',
  },
  {
    long: 'connection-health-file',
    short: 'S',
    key: 'connectionHealthFile',
    kind: 'string',
    help: 'file rewritten with {START=..,..} / {STOP=..}',
  },
  {
    long: 'close-reason-file',
    short: 'R',
    key: 'closeReasonFile',
    kind: 'string',
    help: 'close reason text used on SIGTERM',
  },
  {
    long: 'mtls-client-key-path',
    short: 'K',
    key: 'mtlsClientKeyPath',
    kind: 'string',
    help: 'client key for wss (with --ssl-cert-path)',
  },
  {
    long: 'mtls-client-cert-path',
    key: 'mtlsClientCertPath',
    kind: 'string',
    help: 'client cert for wss (with --ssl-cert-path)',
  },
];

export const PARODUS_HELP = `parodus — device agent: keeps the device connected to XMiDT and serves local services

Usage: parodus --hw-mac MAC --webpa-url URL [options]

${PARODUS_OPTIONS.map((o) => {
  const names = `${o.short !== undefined ? `-${o.short}, ` : '    '}--${o.long}${o.kind === 'flag' ? '' : '=VALUE'}`;
  return `  ${names.padEnd(34)} ${o.help}`;
}).join('\n')}
      --help                         this text

Long options take --name=value or --name value; short ones -x value or -xvalue.
`;

export interface ParsedArgs {
  help: boolean;
  config: ParodusConfig;
  /** Unknown options (Parodus only warns about them). */
  warnings: string[];
}

const byLong = new Map(PARODUS_OPTIONS.map((o) => [o.long, o]));
const byShort = new Map(
  PARODUS_OPTIONS.filter((o) => o.short !== undefined).map((o) => [o.short as string, o]),
);

function assign(config: ParodusConfig, spec: OptionSpec, value: string | undefined): void {
  const target = config as unknown as Record<string, string | number | boolean>;
  if (spec.kind === 'flag') {
    target[spec.key] = true;
    return;
  }
  if (value === undefined) {
    throw new ParodusError('parodus_usage', `option --${spec.long} needs a value`);
  }
  if (spec.kind === 'int') {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
      throw new ParodusError(
        'parodus_usage',
        `option --${spec.long} needs an integer, got ${JSON.stringify(value)}`,
      );
    }
    target[spec.key] = n;
  } else {
    target[spec.key] = value;
  }
}

/** Parses Parodus' command line. Throws ParodusError('parodus_usage') on a bad value. */
export function parseParodusArgs(argv: readonly string[]): ParsedArgs {
  const config: ParodusConfig = { ...PARODUS_DEFAULTS };
  const warnings: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      const spec = byLong.get(name);
      if (spec === undefined) {
        warnings.push(`unrecognized option '${arg}'`);
        continue;
      }
      if (spec.kind === 'flag') assign(config, spec, undefined);
      else assign(config, spec, eq >= 0 ? arg.slice(eq + 1) : argv[++i]);
      continue;
    }
    if (arg.startsWith('-') && arg.length >= 2) {
      const spec = byShort.get(arg[1] as string);
      if (spec === undefined) {
        warnings.push(`invalid option -- '${arg[1] as string}'`);
        continue;
      }
      if (spec.kind === 'flag') assign(config, spec, undefined);
      else assign(config, spec, arg.length > 2 ? arg.slice(2) : argv[++i]);
      continue;
    }
    warnings.push(`unexpected argument '${arg}'`);
  }
  return { help, config, warnings };
}

/** Checks what Parodus requires: a 12-character MAC and an http(s) `--webpa-url`. */
export function validateParodusConfig(config: ParodusConfig): void {
  if (config.hwMac === '') throw new ParodusError('parodus_config', '--hw-mac is required');
  try {
    macDigits(config.hwMac);
  } catch (cause) {
    throw new ParodusError('parodus_config', `--hw-mac: ${(cause as Error).message}`, { cause });
  }
  if (config.webpaUrl === '') throw new ParodusError('parodus_config', '--webpa-url is required');
  if (!/^https?:\/\//.test(config.webpaUrl)) {
    throw new ParodusError('parodus_config', '--webpa-url must start with http:// or https://');
  }
  if (config.webpaPingTimeout < 0) {
    throw new ParodusError('parodus_config', '--webpa-ping-timeout must be >= 0');
  }
  if (config.webpaBackoffMax < 0) {
    throw new ParodusError('parodus_config', '--webpa-backoff-max must be >= 0');
  }
  if (config.clientCertPath !== '' && config.tokenServerUrl === '') {
    throw new ParodusError('parodus_config', '--client-cert-path needs --token-server-url');
  }
}
