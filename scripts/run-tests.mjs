// Runs the compiled tests (dist/, built by `tsc -p tsconfig.json`) with node's test runner, tier by tier; a tier is
// named by what its files start:
//   unit         *.spec.js  nothing: no child process, no socket (scripts/unit-tier-guard.mjs makes either throw)
//   integration  *.int.js   real parts: Redis, an engine, Prometheus, a stand-in server, any socket or process
//   end-to-end   *.e2e.js   the whole platform
// Usage: node scripts/run-tests.mjs [--tier=unit|int|e2e] [filter ...]
//   Without --tier, every tier runs, unit first. A filter keeps the files whose path contains it
//   (`node scripts/run-tests.mjs gateway-api`, `npm test -- gateway-api`, `npm run test:unit -- metrics`).
// Unit files run several at a time; integration and end-to-end files one at a time: they start real engines and
// servers that would fight for the 2 cores.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const GUARD = pathToFileURL(join(import.meta.dirname, 'unit-tier-guard.mjs')).href;
const TIERS = [
  {
    name: 'unit',
    suffix: '.spec.js',
    // A unit test that breaks the rule may wait forever on what the guard refused: the timeout ends it.
    args: ['--import', GUARD, `--test-concurrency=${Math.max(2, availableParallelism())}`, '--test-timeout=30000'],
  },
  { name: 'int', suffix: '.int.js', args: ['--test-concurrency=1'] },
  { name: 'e2e', suffix: '.e2e.js', args: ['--test-concurrency=1'] },
];

function findTests(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (/\.(spec|int|e2e)\.js$/.test(name)) out.push(path);
  }
  return out;
}

const args = process.argv.slice(2);
const tierArg = args.find((arg) => arg.startsWith('--tier='))?.slice('--tier='.length);
const filters = args.filter((arg) => !arg.startsWith('--tier='));
const tiers = tierArg ? TIERS.filter((tier) => tier.name === tierArg) : TIERS;
if (tiers.length === 0) {
  console.error(`unknown tier "${tierArg}": one of ${TIERS.map((tier) => tier.name).join(', ')}`);
  process.exit(2);
}

// A test renamed or deleted in the sources leaves its compiled file in dist/: run only those with a source.
const compiled = existsSync('dist') ? findTests('dist') : [];
const files = compiled
  .filter((file) => existsSync(file.replace(/^dist[/\\]/, '').replace(/\.js$/, '.ts')))
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort();
const stale =
  compiled.length -
  compiled.filter((file) => existsSync(file.replace(/^dist[/\\]/, '').replace(/\.js$/, '.ts'))).length;
if (stale > 0) console.log(`# left out ${stale} compiled test file(s) in dist/ whose source is gone`);

const planned = tiers.map((tier) => ({ ...tier, files: files.filter((file) => file.endsWith(tier.suffix)) }));
if (planned.every((tier) => tier.files.length === 0)) {
  const what = [
    tierArg && `${tierArg} tests`,
    filters.length && `matching ${filters.map((f) => `"${f}"`).join(' or ')}`,
  ];
  console.error(`no test files found ${what.filter(Boolean).join(' ')} (did you build? npm run build:tests)`);
  process.exit(1);
}

/** Runs one tier's files, passing its report through, and reads the runner's closing counts (`# pass N`) from it. */
function runTier(tier) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...tier.args, '--test', ...tier.files], {
      stdio: ['inherit', 'pipe', 'inherit'],
    });
    const counts = { pass: 0, fail: 0 };
    createInterface({ input: child.stdout }).on('line', (line) => {
      process.stdout.write(`${line}\n`);
      const closing = /^# (pass|fail|cancelled) (\d+)$/.exec(line);
      if (closing) counts[closing[1] === 'pass' ? 'pass' : 'fail'] += Number(closing[2]);
    });
    child.on('close', (code) => resolve({ status: code ?? 1, ...counts }));
  });
}

const results = [];
for (const tier of planned.filter((t) => t.files.length > 0)) {
  console.log(`\n# ${tier.name} tier: ${tier.files.length} file(s)`);
  const started = Date.now();
  const run = await runTier(tier);
  results.push({ tier: tier.name, files: tier.files.length, ...run, seconds: (Date.now() - started) / 1000 });
}
if (results.length > 1) {
  console.log('\n# tiers');
  for (const r of results)
    console.log(
      `#   ${r.tier.padEnd(4)} ${r.status === 0 ? 'pass' : 'FAIL'}  ${r.files} file(s), ${r.pass} passed, ` +
        `${r.fail} failed, in ${r.seconds.toFixed(0)} s`,
    );
}
// One closing line for every tier together, in the plain form CI reads.
const total = (key) => results.reduce((sum, r) => sum + r[key], 0);
console.log(`tests: ${total('pass')} passed, ${total('fail')} failed`);
process.exit(results.some((r) => r.status !== 0) ? 1 : 0);
