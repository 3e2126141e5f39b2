import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { PARODUS_OPTIONS } from '@xmidt/parodus';

/**
 * Parodus is configured by command-line options (as the original). Its YAML file for
 * `xmidt parodus --config FILE` maps long option names to values (`hw-mac: 112233445566`,
 * `force-ipv4: true`); this turns the file into those options. Throws naming a bad key.
 */
export function parodusArgsFromYaml(file: string): string[] {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return [];
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new Error(`${file}: the top level must be a mapping of option names to values`);
  }
  const known = new Map(PARODUS_OPTIONS.map((o) => [o.long, o]));
  const args: string[] = [];
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    const spec = known.get(key);
    if (spec === undefined) {
      throw new Error(`${file}: unknown key ${key} (keys are Parodus' long option names)`);
    }
    if (spec.kind === 'flag') {
      if (typeof value !== 'boolean') throw new Error(`${file}: ${key} must be true or false`);
      if (value) args.push(`--${key}`);
      continue;
    }
    if (value === null || value === undefined) continue;
    // A string option given as a YAML number would lose leading zeros (MAC 001122334455).
    const ok = spec.kind === 'int' ? typeof value === 'number' : typeof value === 'string';
    if (!ok) {
      throw new Error(
        `${file}: ${key} must be a ${spec.kind === 'int' ? 'number' : 'quoted string'}`,
      );
    }
    args.push(`--${key}=${String(value)}`);
  }
  return args;
}
