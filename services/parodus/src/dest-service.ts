/** Longest service name Parodus routes (its buffer holds 31 characters). */
export const MAX_SERVICE_NAME = 31;

/**
 * The service a `dest` addresses: the second `/`-separated token, e.g.
 * `mac:112233445566/config/x` → `config`. Empty tokens are skipped as `strtok` does.
 * Returns '' when there is none or it is too long.
 */
export function destService(dest: string | undefined): string {
  if (dest === undefined) return '';
  const parts = dest.split('/').filter((p) => p !== '');
  const name = parts[1] ?? '';
  return name.length > MAX_SERVICE_NAME ? '' : name;
}

/** The tokens after the service, e.g. `mac:x/parodus/service-status/config` → ['service-status', 'config']. */
export function destRest(dest: string | undefined): string[] {
  if (dest === undefined) return [];
  return dest
    .split('/')
    .filter((p) => p !== '')
    .slice(2);
}

/** The device part of a `dest`, up to the first `/`. */
export function destDevice(dest: string | undefined): string {
  if (dest === undefined) return '';
  const i = dest.indexOf('/');
  return i < 0 ? dest : dest.slice(0, i);
}
