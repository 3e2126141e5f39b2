import { DiscoveryError } from './errors.js';

/** Longest instance string accepted (anything a peer registers is untrusted). */
export const MAX_INSTANCE_LENGTH = 2048;

// `[scheme://]address[:port]`, the address holding no ':' (so IPv6 literals never match), as
// xmidt's discovery layer accepts instances.
const INSTANCE = /^(?:(.+):\/\/)?([^:]+)(?::([0-9]+))?$/;

/**
 * Canonical form of an instance URL as xmidt's discovery layer writes it:
 * whitespace trimmed; `scheme://address[:port]` with the scheme defaulting to `defaultScheme`
 * (http); the port dropped when it is 0 or the scheme's default (80 for http, 443 for https,
 * scheme compared case-insensitively); address and scheme case kept.
 * Throws DiscoveryError('instance_invalid') for a blank string, an IPv6 literal, a non-numeric
 * or out-of-range port, or anything longer than 2048 characters.
 */
export function normalizeInstanceUrl(url: string, defaultScheme = 'http'): string {
  const text = url.trim();
  if (text === '') throw new DiscoveryError('instance_invalid', 'blank instance');
  if (text.length > MAX_INSTANCE_LENGTH) {
    throw new DiscoveryError('instance_invalid', `instance longer than ${MAX_INSTANCE_LENGTH}`);
  }
  const m = INSTANCE.exec(text);
  if (!m) throw new DiscoveryError('instance_invalid', `invalid instance: ${JSON.stringify(text)}`);
  const scheme = m[1] || defaultScheme || 'https';
  const address = m[2] as string;
  const port = m[3] === undefined ? 0 : Number(m[3]);
  if (port > 65535) {
    throw new DiscoveryError(
      'instance_invalid',
      `invalid port in instance ${JSON.stringify(text)}`,
    );
  }
  const lower = scheme.toLowerCase();
  const defaultPort = lower === 'http' ? 80 : lower === 'https' ? 443 : -1;
  return port > 0 && port !== defaultPort
    ? `${scheme}://${address}:${port}`
    : `${scheme}://${address}`;
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Normalises a list of instances, drops the invalid ones (reported to `onInvalid`) and
 * duplicates, and sorts the rest byte-wise: the list a ring is built from.
 */
export function normalizeInstances(
  urls: Iterable<string>,
  onInvalid?: (url: string, err: DiscoveryError) => void,
  defaultScheme = 'http',
): string[] {
  const out = new Set<string>();
  for (const url of urls) {
    try {
      out.add(normalizeInstanceUrl(url, defaultScheme));
    } catch (err) {
      if (err instanceof DiscoveryError) onInvalid?.(url, err);
      else throw err;
    }
  }
  return [...out].sort(byteOrder);
}
