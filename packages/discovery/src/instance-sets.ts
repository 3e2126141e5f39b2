import type { DiscoveryError } from './errors.js';
import { normalizeInstances } from './normalize-instance.js';
import type { InstanceSets } from './types.js';

/**
 * Instance sets from (datacenter, url) pairs: every list normalised, de-duplicated and sorted,
 * datacenters in sorted order, datacenters without valid instances left out.
 */
export function buildInstanceSets(
  pairs: Iterable<readonly [string, string]>,
  onInvalid?: (url: string, err: DiscoveryError) => void,
): InstanceSets {
  const raw = new Map<string, string[]>();
  for (const [dc, url] of pairs) {
    const list = raw.get(dc);
    if (list) list.push(url);
    else raw.set(dc, [url]);
  }
  const out = new Map<string, readonly string[]>();
  for (const dc of [...raw.keys()].sort()) {
    const list = normalizeInstances(raw.get(dc) as string[], onInvalid);
    if (list.length > 0) out.set(dc, Object.freeze(list));
  }
  return out;
}

export function sameInstanceSets(a: InstanceSets, b: InstanceSets): boolean {
  if (a.size !== b.size) return false;
  for (const [dc, list] of a) {
    const other = b.get(dc);
    if (!other || other.length !== list.length) return false;
    for (let i = 0; i < list.length; i++) if (list[i] !== other[i]) return false;
  }
  return true;
}
