import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../support/engine.js';

/** The part of semver this check uses (semver ships no types of its own). */
interface Semver {
  satisfies(version: string, range: string): boolean;
  minVersion(range: string): { version: string } | null;
}
const semver = createRequire(import.meta.url)('semver') as Semver;

interface PackageJson {
  name?: string;
  version?: string;
  engines?: { node?: string };
}

const readPackage = (dir: string): PackageJson =>
  JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;

/** Every package installed under node_modules (nested ones too), with the directory it is in. */
function installedPackages(dir = join(REPO_ROOT, 'node_modules')): { dir: string; pkg: PackageJson }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => !name.startsWith('.'))
    .flatMap((name) => {
      const path = join(dir, name);
      if (name.startsWith('@')) return installedPackages(path);
      if (!existsSync(join(path, 'package.json'))) return [];
      return [{ dir: path, pkg: readPackage(path) }, ...installedPackages(join(path, 'node_modules'))];
    });
}

/**
 * The README promises a Node version; `npm ci` warns (EBADENGINE) for every package whose `engines` refuses the
 * Node it runs on. The oldest release of each line our `engines` accepts must be accepted by every installed package.
 */
describe('the Node versions package.json names', () => {
  const range = readPackage(REPO_ROOT).engines?.node ?? '';
  const oldest = range.split('||').map((part) => semver.minVersion(part)?.version ?? part.trim());

  it('are accepted by every installed package', () => {
    const packages = installedPackages();
    assert.ok(packages.length > 100, `only ${packages.length} packages under node_modules: run npm ci`);
    const refusing = packages.flatMap(({ dir, pkg }) => {
      const wanted = pkg.engines?.node;
      const refused = wanted ? oldest.filter((version) => !semver.satisfies(version, wanted)) : [];
      return refused.length
        ? [`${dir.slice(REPO_ROOT.length)} ${pkg.version}: engines.node "${wanted}" refuses ${refused.join(', ')}`]
        : [];
    });
    assert.deepEqual(refusing, [], `package.json engines.node is "${range}"`);
  });

  it('are the ones the README and DEPLOY.md name', () => {
    const minimum = oldest[0]!.replace(/\.0$/, '');
    for (const doc of ['README.md', 'DEPLOY.md'])
      assert.match(
        readFileSync(`${REPO_ROOT}${doc}`, 'utf8'),
        new RegExp(`Node\\.js (≥ )?${minimum.replace('.', '\\.')}\\b`),
        doc,
      );
  });
});
