import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface RingCase {
  id: string;
  discovered?: string[];
  default_scheme?: string;
  instances: string[];
  monitor_filter_fixed_point: boolean;
  lookups: { key: string; owner: string }[];
}

/** ring.json, read from `../shared/vectors/` next to the repository root (the dir with `.ci/`). */
export function loadRingVectors(): { ring_hostname: RingCase[]; ring_full_url: RingCase[] } {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, '.ci'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root (.ci/) not found');
    dir = up;
  }
  const file = join(dir, '..', 'shared', 'vectors', 'ring.json');
  return JSON.parse(readFileSync(file, 'utf8')) as ReturnType<typeof loadRingVectors>;
}
