import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fileVersion, modelFileProblem } from './model-file.js';

const SHIPPED = fileURLToPath(new URL('../../../../../models/llama3-tiny-q8_0.gguf', import.meta.url));

describe('a local model file, checked before any engine starts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-model-file-'));

  it('passes for a shipped model', async () => {
    assert.equal(await modelFileProblem(SHIPPED), null);
  });

  it('names the path and the reason for a missing file and for one that is not GGUF', async () => {
    const missing = join(dir, 'missing.gguf');
    assert.match((await modelFileProblem(missing)) ?? '', /missing\.gguf: cannot read the file: .*ENOENT/);
    const text = join(dir, 'text.gguf');
    writeFileSync(text, 'plain text, no GGUF magic here at all');
    assert.match((await modelFileProblem(text)) ?? '', /text\.gguf: .*magic/i);
  });

  it('tells versions of a file apart, and a missing file from any', async () => {
    const path = join(dir, 'versions.gguf');
    assert.equal(await fileVersion(path), null);
    writeFileSync(path, 'one');
    const first = await fileVersion(path);
    assert.equal(await fileVersion(path), first);
    writeFileSync(path, 'two, longer');
    assert.notEqual(await fileVersion(path), first);
  });
});
