import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { readGgufHeader } from '#gguf';
import { generateGreedy } from './testing/generate.js';

const cli = fileURLToPath(new URL('./make-random-model.js', import.meta.url));
const small = ['--dim', '128', '--layers', '2', '--heads', '4', '--kv-heads', '2', '--ffn', '256', '--vocab', '512'];

function run(args: string[], cwd?: string) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', ...(cwd ? { cwd } : {}) });
}

describe('make-random-model', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'random-model-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const arch of ['llama', 'qwen2']) {
    it(`writes ${arch} models of one seed as F16, Q8_0 and Q4_0 that llama.cpp loads and runs`, async () => {
      const texts: string[] = [];
      for (const type of ['F16', 'Q8_0', 'Q4_0']) {
        const out = join(dir, `${arch}-${type}.gguf`);
        const result = run(['--arch', arch, ...small, '--type', type, '--seed', '5', '--out', out]);
        assert.equal(result.status, 0, result.stderr);
        assert.match(result.stdout, /dim 128, 2 layers, 4 heads \(2 kv\), ffn 256, vocab 512/);
        assert.match(result.stdout, /validated/);
        const { tensors } = await readGgufHeader(out);
        assert.equal(tensors.find((t) => t.name === 'blk.0.ffn_up.weight')!.typeName, type);
        assert.equal(tensors.find((t) => t.name === 'blk.0.ffn_norm.weight')!.typeName, 'F32');
        assert.equal(
          tensors.some((t) => t.name === 'blk.0.attn_q.bias'),
          arch === 'qwen2',
        );
        const generation = await generateGreedy(out, 'The ', 16);
        assert.equal(generation.tokens.length, 16);
        texts.push(generation.text);
      }
      assert.ok(texts.every((text) => text.length > 0));
    });
  }

  it('is deterministic for a seed', async () => {
    const paths = ['a', 'b', 'c'].map((n) => join(dir, `${n}.gguf`));
    run(['--arch', 'llama', ...small, '--seed', '9', '--out', paths[0]!]);
    run(['--arch', 'llama', ...small, '--seed', '9', '--out', paths[1]!]);
    run(['--arch', 'llama', ...small, '--seed', '10', '--out', paths[2]!]);
    const bytes = paths.map((p) => spawnSync('sha256sum', [p], { encoding: 'utf8' }).stdout.split(' ')[0]);
    assert.equal(bytes[0], bytes[1]);
    assert.notEqual(bytes[0], bytes[2]);
  });

  it('names its output after arch, params and type by default', () => {
    const result = run(['--arch', 'llama', '--params', '5M', '--type', 'q8_0'], dir);
    assert.equal(result.status, 0, result.stderr);
    assert.ok(existsSync(join(dir, 'models/generated/llama-5M-Q8_0.gguf')));
  });

  it('explains bad arguments with usage and exit code 2', () => {
    for (const [args, reason] of [
      [['--arch', 'gpt2', '--params', '5M'], /--arch must be llama or qwen2/],
      [['--arch', 'llama', '--params', '5M', '--type', 'Q5_K'], /--type must be one of F16, Q8_0, Q4_0/],
      [['--arch', 'llama', '--dim', '128'], /missing --layers --heads --ffn --vocab/],
      [['--arch', 'llama', ...small.slice(0, 4), '--heads', '3', ...small.slice(6)], /not a multiple of heads 3/],
      [['--arch', 'llama', '--bogus'], /Unknown option '--bogus'/],
    ] as const) {
      const result = run([...args]);
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, reason);
      assert.match(result.stderr, /usage: make-random-model/);
    }
  });
});
