import { SpError } from './errors.js';

export interface TcpAddress {
  host: string;
  port: number;
}

/**
 * Parses `tcp://host:port`. IPv6 literals go in brackets; `*` as host (nanomsg's wildcard
 * for bind) means all interfaces. Port 0 is allowed only when `allowPortZero` (bind).
 */
export function parseTcpUrl(url: string, allowPortZero = false): TcpAddress {
  const match = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[^:/[\]]+):(\d{1,5})$/.exec(url);
  const rawHost = match?.[1];
  const rawPort = match?.[2];
  if (rawHost === undefined || rawPort === undefined) {
    throw new SpError(
      'sp_url_invalid',
      `invalid SP URL ${JSON.stringify(url)}: want tcp://host:port`,
    );
  }
  const port = Number(rawPort);
  if (port > 65535 || (port === 0 && !allowPortZero)) {
    throw new SpError('sp_url_invalid', `invalid port in SP URL ${JSON.stringify(url)}`);
  }
  let host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  if (host === '*') host = '0.0.0.0';
  return { host, port };
}

/** Formats a host and port as a `tcp://` URL (brackets around IPv6 literals). */
export function formatTcpUrl(host: string, port: number): string {
  return `tcp://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
