import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest directory above this file that holds `.ci/`. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, '.ci'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root (.ci/) not found');
    dir = up;
  }
}

export interface RingLookup {
  key: string;
  device_name?: string;
  sum64_hex: string;
  owner: string;
  kind: string;
}

export interface RingCase {
  id: string;
  description: string;
  discovered?: string[];
  default_scheme?: string;
  instances: string[];
  monitor_filter_fixed_point: boolean;
  vnodes: number;
  members: Record<string, string>;
  lookups: RingLookup[];
}

export interface RingVectors {
  hash: { input: string; sum64_hex: string }[];
  ring_hostname: RingCase[];
  ring_full_url: RingCase[];
}

export function loadRingVectors(): RingVectors {
  const file = join(repoRoot(), '..', 'shared', 'vectors', 'ring.json');
  return JSON.parse(readFileSync(file, 'utf8')) as RingVectors;
}
