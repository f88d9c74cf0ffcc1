// Bit-exactness against ggml itself: the llama.cpp build that node-llama-cpp ships exports
// quantize_row_q8_0_ref, quantize_row_q4_0_ref and ggml_fp32_to_fp16_row from libggml-base.so,
// which python3's ctypes can call. Skipped where that library or python3 is not available.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { quantizeF16, quantizeQ4_0, quantizeQ8_0 } from './quantize.js';

function ggmlBaseLibrary(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return undefined;
  try {
    const entry = createRequire(import.meta.url).resolve('@node-llama-cpp/linux-x64'); // <pkg>/dist/index.js
    const path = join(dirname(dirname(entry)), 'bins', 'linux-x64', 'libggml-base.so');
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

const pythonQuantizer = `
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
data = open(sys.argv[2], 'rb').read()
n = len(data) // 4
x = ctypes.create_string_buffer(data, len(data))
for fn, size in (('quantize_row_q8_0_ref', n // 32 * 34), ('quantize_row_q4_0_ref', n // 32 * 18), ('ggml_fp32_to_fp16_row', n * 2)):
    out = ctypes.create_string_buffer(size)
    getattr(lib, fn)(x, out, ctypes.c_int64(n))
    open(sys.argv[2] + '.' + fn, 'wb').write(out.raw)
`;

/** Blocks of 32 chosen to hit every rounding edge, plus plain random ones. */
function testVectors(): Float32Array {
  const blocks: number[][] = [];
  let seed = 12345;
  const uniform = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  for (const scale of [1e-8, 1e-3, 0.02, 1, 37, 1e4, 1e7]) {
    for (let b = 0; b < 20; b++) blocks.push(Array.from({ length: 32 }, () => gaussian() * scale));
  }
  blocks.push(Array.from({ length: 32 }, (_, j) => j - 16)); // integers: x/d ties in Q8_0
  blocks.push(Array.from({ length: 32 }, (_, j) => ((j - 16) * 127) / 16 + 0.5)); // halves
  blocks.push(Array.from({ length: 32 }, (_, j) => (j % 2 ? 1 : -1) * (j / 4))); // +-equal magnitudes
  blocks.push(Array.from({ length: 32 }, (_, j) => (j === 3 ? -8 : j / 4 - 4))); // negative max
  blocks.push(new Array(32).fill(0));
  blocks.push(Array.from({ length: 32 }, (_, j) => 2 ** -24 * j)); // fp16 subnormals
  blocks.push(Array.from({ length: 32 }, (_, j) => 65504 + j * 1.5)); // fp16 overflow edge
  return Float32Array.from(blocks.flat());
}

describe('quantizers against ggml reference code', () => {
  const library = ggmlBaseLibrary();
  const python = spawnSync('python3', ['-c', 'import ctypes'], { encoding: 'utf8' });
  const skip =
    library === undefined
      ? 'libggml-base.so not found'
      : python.status !== 0
        ? 'python3 with ctypes not available'
        : false;

  it('matches quantize_row_q8_0_ref, quantize_row_q4_0_ref and ggml_fp32_to_fp16_row byte for byte', { skip }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'gguf-ref-'));
    try {
      const values = testVectors();
      const input = join(dir, 'values.f32');
      writeFileSync(input, new Uint8Array(values.buffer));
      const run = spawnSync('python3', ['-c', pythonQuantizer, library!, input], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      const expected = (fn: string) => new Uint8Array(readFileSync(`${input}.${fn}`));
      assert.deepEqual(quantizeQ8_0(values), expected('quantize_row_q8_0_ref'));
      assert.deepEqual(quantizeQ4_0(values), expected('quantize_row_q4_0_ref'));
      assert.deepEqual(quantizeF16(values), expected('ggml_fp32_to_fp16_row'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
