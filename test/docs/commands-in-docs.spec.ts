import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { helpFor } from '#bench/cli/help';
import { REPO_ROOT } from '../support/engine.js';

/**
 * The docs tell users what to run: every `npm run <script>` they name must exist in package.json, every
 * `npm run bench -- <command>` must be a command of the bench CLI, and every file under scripts/ they name must exist;
 * and their headings and tables must still be Markdown's.
 */
const DOCS = [
  'README.md',
  'CONTRIBUTING.md',
  'PERFORMANCE.md',
  'API.md',
  'DEPLOY.md',
  'QUANTIZE.md',
  'monitoring/README.md',
  'apps/bench/README.md',
  'config/README.md',
  'models/README.md',
];
const BENCH_COMMANDS = ['run', 'sweep', 'compare', 'overhead', 'soak', 'mock-backend', 'plain-proxy', 'report', 'help'];
const scripts = Object.keys(
  (JSON.parse(readFileSync(`${REPO_ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> }).scripts,
);

describe('commands named in the docs', () => {
  for (const doc of DOCS.filter((d) => existsSync(REPO_ROOT + d))) {
    const text = readFileSync(REPO_ROOT + doc, 'utf8');

    it(`${doc}: every npm script it names exists`, () => {
      const named = [...text.matchAll(/npm run ([a-z][\w:-]*)/g)].map((m) => m[1]!);
      const missing = [...new Set(named)].filter((name) => !scripts.includes(name));
      assert.deepEqual(missing, [], `not in package.json: ${missing.join(', ')}`);
    });

    it(`${doc}: every bench command it names exists`, () => {
      const named = [...text.matchAll(/npm run bench -- ([a-z][\w-]*)/g)].map((m) => m[1]!);
      const unknown = [...new Set(named)].filter((name) => !BENCH_COMMANDS.includes(name));
      assert.deepEqual(unknown, []);
    });

    it(`${doc}: every scripts/ file it names exists`, () => {
      const named = [...text.matchAll(/\bscripts\/([\w./-]+\.(?:py|sh|conf|mjs))/g)].map((m) => `scripts/${m[1]}`);
      const missing = [...new Set(named)].filter((path) => !existsSync(REPO_ROOT + path));
      assert.deepEqual(missing, []);
    });

    it(`${doc}: no heading or table folded into a paragraph`, () => {
      // A reflow that ignores Markdown runs headings and tables into the text before them; they stop rendering.
      const folded = text.split('\n').filter((line) => !line.startsWith('    ') && /\S #{2,4} \S|\S \|-{3}/.test(line));
      assert.deepEqual(folded, []);
    });
  }

  it('the bench CLI lists exactly these commands in its help', () => {
    const help = helpFor('main'); // what `npm run bench -- help` prints
    const listed = [...help.matchAll(/^ {2}([a-z][\w-]*) {2,}/gm)].map((m) => m[1]!);
    assert.deepEqual(listed.sort(), BENCH_COMMANDS.filter((c) => c !== 'help').sort());
  });
});
