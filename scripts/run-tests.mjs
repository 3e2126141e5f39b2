#!/usr/bin/env node
// Runs every workspace's tests with node:test (through tsx) in one run, so that the
// output ends with node's own summary. Pass paths or substrings to run a subset:
//   npm test -- packages/wrp      npm test -- talaria
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const roots = ['packages', 'services', 'tools', 'test/e2e'];

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, path));
  }
}

const files = [];
for (const r of roots) walk(join(root, r), files);
files.sort();
const filters = process.argv.slice(2);
const selected = filters.length ? files.filter((f) => filters.some((x) => f.includes(x))) : files;
if (selected.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...selected],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
