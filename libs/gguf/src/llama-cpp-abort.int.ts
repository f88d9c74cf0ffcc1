// Why the validator exists: llama.cpp does not fail gracefully on every bad file. A llama model
// without llama.feed_forward_length hits a GGML_ASSERT that aborts the whole process, so the
// load runs in a child process here; the same file is refused in-process by the validator.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { GgufValidationError } from './errors.js';
import { validateGgufFile } from './gguf-validator.js';
import { writeTinyModel } from './testing/tiny-model.js';

const nodeLlamaCpp = pathToFileURL(createRequire(import.meta.url).resolve('node-llama-cpp')).href;

const loadAndGenerate = `
const { getLlama, LlamaLogLevel } = await import(${JSON.stringify(nodeLlamaCpp)});
const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.disabled });
const model = await llama.loadModel({ modelPath: process.env.MODEL_PATH });
const context = await model.createContext({ threads: 1, contextSize: 64 });
const tokens = [];
for await (const token of context.getSequence().evaluate(model.tokenize('The cat'), { temperature: 0 })) {
  tokens.push(token);
  if (tokens.length === 4) break;
}
console.log('generated ' + tokens.length + ' tokens');
`;

/** Runs the load in a fresh node (a script file, not -e: node-llama-cpp forks itself with execArgv). */
function loadInChild(dir: string, modelPath: string) {
  const script = join(dir, 'load-and-generate.mjs');
  writeFileSync(script, loadAndGenerate);
  return spawnSync(process.execPath, [script], {
    env: { ...process.env, MODEL_PATH: modelPath },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('a file missing llama.feed_forward_length', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gguf-abort-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loads and generates when the key is present (the control)', async () => {
    const path = join(dir, 'complete.gguf');
    await writeTinyModel(path);
    const child = loadInChild(dir, path);
    assert.equal(child.status, 0, child.stderr);
    assert.match(child.stdout, /generated 4 tokens/);
  });

  it('aborts the process that loads it, and is refused in-process by the validator', async () => {
    const path = join(dir, 'no-ffn.gguf');
    await writeTinyModel(path, { omitKeys: ['llama.feed_forward_length'] });
    const child = loadInChild(dir, path);
    assert.equal(child.signal, 'SIGABRT', `child exited with ${child.status}: ${child.stderr}`);
    assert.match(child.stderr, /GGML_ASSERT/);
    assert.doesNotMatch(child.stdout, /generated/);
    await assert.rejects(
      validateGgufFile(path),
      (error) =>
        error instanceof GgufValidationError && /missing metadata 'llama.feed_forward_length'/.test(error.message),
    );
  });
});
