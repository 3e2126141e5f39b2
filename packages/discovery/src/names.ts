import { DiscoveryError } from './errors.js';

const MAX_NAME_LENGTH = 253;

/**
 * A datacenter, service or instance id is one etcd key segment: non-empty, at most 253
 * characters, no `/`, no whitespace or control characters.
 */
export function checkName(kind: string, name: string): string {
  if (
    typeof name !== 'string' ||
    name === '' ||
    name.length > MAX_NAME_LENGTH ||
    /[/\s\u0000-\u001f\u007f]/.test(name)
  ) {
    throw new DiscoveryError('name_invalid', `invalid ${kind} ${JSON.stringify(name)}`);
  }
  return name;
}

/** The default instance id: the normalised URL, percent-encoded into one key segment. */
export function defaultInstanceId(normalizedUrl: string): string {
  return encodeURIComponent(normalizedUrl);
}
