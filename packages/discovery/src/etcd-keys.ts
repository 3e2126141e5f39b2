/**
 * etcd key layout: `<prefix>/<datacenter>/<service>/<id>` = instance URL. The prefix is used
 * without its trailing slashes.
 */
export function keyRoot(prefix: string): string {
  return `${prefix.replace(/\/+$/, '')}/`;
}

export function instanceKey(root: string, datacenter: string, service: string, id: string): string {
  return `${root}${datacenter}/${service}/${id}`;
}

/** The datacenter of an instance key of `service` under `root`; undefined for any other key. */
export function datacenterOf(root: string, key: string, service: string): string | undefined {
  if (!key.startsWith(root)) return undefined;
  const parts = key.slice(root.length).split('/');
  if (parts.length !== 3) return undefined;
  const [dc, svc, id] = parts as [string, string, string];
  if (svc !== service || dc === '' || id === '') return undefined;
  return dc;
}
