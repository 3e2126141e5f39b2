import { HashRingError } from './errors.js';

/**
 * What is put on the ring for an instance URL:
 * - `hostname` (default; the current xmidt rule): the URL's host with the port removed, case
 *   kept. `[v6]:port` gives the address without brackets; a bracketed host without a port keeps
 *   its brackets.
 * - `url`: the full instance URL string (the older rule, kept for mixed clusters).
 */
export type NodeNameMode = 'hostname' | 'url';

/** The ring node name of an instance URL. Throws HashRingError('instance_invalid'). */
export function ringNodeName(instance: string, mode: NodeNameMode = 'hostname'): string {
  if (mode === 'url') return instance;
  return hostnameOf(instance);
}

function invalid(instance: string, why: string): HashRingError {
  return new HashRingError(
    'instance_invalid',
    `invalid instance ${JSON.stringify(instance)}: ${why}`,
  );
}

function hostnameOf(instance: string): string {
  const sep = instance.indexOf('://');
  if (sep <= 0) throw invalid(instance, 'expected a scheme and host');
  const scheme = instance.slice(0, sep);
  if (!/^[A-Za-z][A-Za-z0-9+.-]*$/.test(scheme)) throw invalid(instance, 'bad scheme');
  let end = instance.length;
  for (const ch of ['/', '?', '#']) {
    const at = instance.indexOf(ch, sep + 3);
    if (at >= 0 && at < end) end = at;
  }
  let host = instance.slice(sep + 3, end);
  const at = host.lastIndexOf('@');
  if (at >= 0) host = host.slice(at + 1);
  if (host === '') throw invalid(instance, 'expected a scheme and host');

  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close < 0) throw invalid(instance, 'missing ]');
    const rest = host.slice(close + 1);
    if (rest === '') return host; // no port: the brackets stay
    if (!/^:[0-9]*$/.test(rest)) throw invalid(instance, 'bad port');
    return host.slice(1, close);
  }
  const colon = host.indexOf(':');
  if (colon < 0) return host;
  if (host.indexOf(':', colon + 1) >= 0) throw invalid(instance, 'too many colons');
  if (!/^[0-9]*$/.test(host.slice(colon + 1))) throw invalid(instance, 'bad port');
  return host.slice(0, colon);
}
