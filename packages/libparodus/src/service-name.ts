/** Longest service name parodus routes to (its buffer holds 31 characters). */
export const MAX_SERVICE_NAME_LENGTH = 31;

/**
 * The service a `dest` addresses: the text after the first `/` up to the next `/`
 * (`mac:112233445566/config/x` -> `config`); undefined when `dest` has no `/`.
 */
export function serviceOfDest(dest: string): string | undefined {
  const start = dest.indexOf('/');
  if (start < 0) return undefined;
  const end = dest.indexOf('/', start + 1);
  return dest.slice(start + 1, end < 0 ? undefined : end);
}
