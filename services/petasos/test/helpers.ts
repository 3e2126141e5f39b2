import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export { startEtcd } from '@xmidt/testkit';
export type { TestEtcd } from '@xmidt/testkit';

/** The repository root: the nearest directory above this file holding `.ci/`. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, '.ci'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
  return dir;
}

/** `../shared/vectors/<name>` relative to the repository root. */
export function vectorPath(name: string): string {
  return join(repoRoot(), '..', 'shared', 'vectors', name);
}

/** Polls `check` until it returns true or the time is up. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
