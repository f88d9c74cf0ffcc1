import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../support/engine.js';

const GUARD = pathToFileURL(`${REPO_ROOT}scripts/unit-tier-guard.mjs`).href;

/** Runs one test file the way the unit tier does, and returns what the runner printed. */
function runAsUnitTest(dir: string, body: string): { status: number | null; output: string } {
  const file = join(dir, `case-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, `import { it } from 'node:test';\nit('does one thing', async () => {\n${body}\n});\n`);
  // Not as a test file of this run (NODE_TEST_CONTEXT): as a runner of its own, like scripts/run-tests.mjs.
  const { NODE_TEST_CONTEXT: _ours, ...env } = process.env;
  const run = spawnSync(process.execPath, ['--import', GUARD, '--test-timeout=10000', '--test', file], {
    encoding: 'utf8',
    env,
    timeout: 30_000,
  });
  return { status: run.status, output: run.stdout + run.stderr };
}

describe('the unit tier guard (scripts/unit-tier-guard.mjs)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'unit-guard-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const refused: Record<string, string> = {
    'a child process (spawn)': `const { spawn } = await import('node:child_process'); spawn('true');`,
    'a child process (execSync)': `(await import('node:child_process')).execSync('true');`,
    'a child process (fork)': `(await import('node:child_process')).fork('x.mjs');`,
    'an HTTP server': `const http = await import('node:http'); http.createServer().listen(0);`,
    'a TCP server': `const net = await import('node:net'); net.createServer().listen(0);`,
    'a connection (net.connect)': `const net = await import('node:net'); net.connect(9999, '127.0.0.1');`,
    'an HTTP request': `const http = await import('node:http'); http.get('http://127.0.0.1:9999/');`,
    // fetch reports the refusal as its error's cause
    'a fetch': `await fetch('http://127.0.0.1:9999/').catch((error) => { throw error.cause; });`,
    'a UDP socket': `const dgram = await import('node:dgram'); dgram.createSocket('udp4');`,
  };
  for (const [what, body] of Object.entries(refused)) {
    it(`fails a unit test that starts ${what}, naming the rule`, () => {
      const run = runAsUnitTest(dir, body);
      assert.equal(run.status, 1, run.output);
      assert.match(run.output, /in a unit test: \*\.spec\.ts files start no process and open no socket/);
      assert.match(run.output, /rename the file to \*\.int\.ts/);
    });
  }

  it('lets a test that starts nothing pass (timers, files, crypto)', () => {
    const run = runAsUnitTest(
      dir,
      `await new Promise((resolve) => setTimeout(resolve, 5));
       (await import('node:fs')).readFileSync(${JSON.stringify(`${REPO_ROOT}package.json`)});
       (await import('node:crypto')).randomUUID();`,
    );
    assert.equal(run.status, 0, run.output);
  });
});
