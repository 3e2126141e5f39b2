/** The services the `xmidt` command can run, each from `services/<name>/src/main.ts`. */
export const SERVICE_NAMES = [
  'talaria',
  'petasos',
  'scytale',
  'caduceus',
  'themis',
  'parodus',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export function isServiceName(name: string): name is ServiceName {
  return (SERVICE_NAMES as readonly string[]).includes(name);
}

/** Absolute path of a service's entry point inside this repository. */
function serviceEntry(name: ServiceName): string {
  return new URL(`../../../services/${name}/src/main.ts`, import.meta.url).pathname;
}

/**
 * The V8 flags a service runs with. Scytale gets a larger young generation: its per-request
 * allocations otherwise start a scavenge every few hundred requests, which is most of its p99
 * latency (docs/benchmarks.md, *Request-response p99*); it holds no per-device state, so the
 * extra memory (up to 128 MiB) is cheap there.
 */
export const SERVICE_NODE_FLAGS: Readonly<Partial<Record<ServiceName, readonly string[]>>> = {
  scytale: ['--max-semi-space-size=64'],
};

/** The node arguments that run a service: its V8 flags, the TypeScript loader, its entry. */
export function serviceNodeArgs(name: ServiceName, tsxLoader: string): string[] {
  return [...(SERVICE_NODE_FLAGS[name] ?? []), '--import', tsxLoader, serviceEntry(name)];
}
