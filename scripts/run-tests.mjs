// Runs every compiled *.spec.js (unit, next to the code) and *.e2e.js (end-to-end, under each app's test/)
// with node's test runner, one file at a time: the e2e suites start real engines and would fight for 2 cores.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function findTests(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (/\.(spec|e2e)\.js$/.test(name)) out.push(path);
  }
  return out;
}

const filter = process.argv[2];
const files = findTests('dist')
  .filter((f) => !filter || f.includes(filter))
  .sort();
if (files.length === 0) {
  console.error(`no test files found${filter ? ` matching "${filter}"` : ''}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
