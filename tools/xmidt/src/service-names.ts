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
export function serviceEntry(name: ServiceName): string {
  return new URL(`../../../services/${name}/src/main.ts`, import.meta.url).pathname;
}
