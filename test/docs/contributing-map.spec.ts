import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../support/engine.js';

/**
 * CONTRIBUTING.md walks a request through the files by name; a file renamed or removed must not leave the map
 * pointing at nothing. Every file it names in backticks (`generate.service.ts`, `http/error-responses.ts`,
 * `libs/backends/src/gateway-error.ts`) must be the end of a path in the repository.
 */
const SKIP = new Set(['node_modules', 'dist', '.git', 'models', 'bench-results']);

function repositoryFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) repositoryFiles(path, out);
    else out.push(relative(REPO_ROOT, path).split('\\').join('/'));
  }
  return out;
}

describe('CONTRIBUTING.md', () => {
  it('names only files that exist', () => {
    const text = readFileSync(`${REPO_ROOT}CONTRIBUTING.md`, 'utf8');
    const named = [...text.matchAll(/`([\w./-]+\.(?:ts|mjs|json|md|yaml))`/g)].map((m) => m[1]!);
    assert.ok(named.length > 20, `the map names ${named.length} files`);
    const files = repositoryFiles(REPO_ROOT);
    const missing = [...new Set(named)].filter(
      (name) => !name.includes('*') && !files.some((file) => file === name || file.endsWith(`/${name}`)),
    );
    assert.deepEqual(missing, []);
  });
});
