import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GgmlType } from './ggml-types.js';
import { readGgufHeader } from './gguf-reader.js';
import { ggufValue, type GgufValue } from './gguf-value.js';
import { writeGgufFile, type GgufTensorInput } from './gguf-writer.js';
import { quantize } from './quantize.js';
import { tensorInfoOffset } from './testing/gguf-bytes.js';

const everyValueType: [string, GgufValue][] = [
  ['t.uint8', ggufValue.uint8(255)],
  ['t.int8', ggufValue.int8(-128)],
  ['t.uint16', ggufValue.uint16(65535)],
  ['t.int16', ggufValue.int16(-32768)],
  ['t.uint32', ggufValue.uint32(0xffffffff)],
  ['t.int32', ggufValue.int32(-0x80000000)],
  ['t.uint64', ggufValue.uint64(2n ** 64n - 1n)],
  ['t.int64', ggufValue.int64(-(2n ** 63n))],
  ['t.float32', ggufValue.float32(Math.fround(0.1))],
  ['t.float64', ggufValue.float64(0.1)],
  ['t.bool.true', ggufValue.bool(true)],
  ['t.bool.false', ggufValue.bool(false)],
  ['t.string', ggufValue.string('héllo ▁wörld 你好 🦙')],
  ['t.string.empty', ggufValue.string('')],
  ['t.array.uint8', ggufValue.array('uint8', [0, 1, 255])],
  ['t.array.int16', ggufValue.array('int16', [-2, 7])],
  ['t.array.int32', ggufValue.array('int32', [-1, 0, 2147483647])],
  ['t.array.uint64', ggufValue.array('uint64', [0n, 2n ** 40n])],
  ['t.array.float32', ggufValue.array('float32', [0, -1.5, Math.fround(Math.PI)])],
  ['t.array.float64', ggufValue.array('float64', [Math.E])],
  ['t.array.bool', ggufValue.array('bool', [true, false, true])],
  ['t.array.string', ggufValue.array('string', ['<s>', '', '▁the', '<0x0A>', '🦙'])],
  ['t.array.empty', ggufValue.array('int32', [])],
];

const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 0.05);

describe('GGUF writer and reader', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gguf-roundtrip-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const tensors: GgufTensorInput[] = [
    { name: 'matrix.q8', shape: [3, 64], type: GgmlType.Q8_0, values: ramp(192) },
    { name: 'vector.f32', shape: [5], type: GgmlType.F32, values: ramp(5) },
    { name: 'matrix.f16', shape: [2, 3, 7], type: GgmlType.F16, values: ramp(42) },
    {
      name: 'matrix.q4',
      shape: [2, 96],
      type: GgmlType.Q4_0,
      values: () => [ramp(192).subarray(0, 96), ramp(192).subarray(96)],
    },
  ];

  it('reads back every metadata value type exactly, after general.alignment', async () => {
    const path = join(dir, 'values.gguf');
    await writeGgufFile(path, { metadata: everyValueType, tensors: [] });
    const header = await readGgufHeader(path);
    assert.equal(header.version, 3);
    assert.deepEqual([...header.metadata.entries()], [['general.alignment', ggufValue.uint32(32)], ...everyValueType]);
  });

  it('stores row-major shapes in ggml order, packed at 32-byte aligned offsets, with the quantized bytes', async () => {
    const path = join(dir, 'tensors.gguf');
    const result = await writeGgufFile(path, {
      metadata: { 'general.architecture': ggufValue.string('test') },
      tensors,
    });
    const header = await readGgufHeader(path);
    const file = readFileSync(path);
    assert.equal(result.bytes, file.length);
    assert.equal(header.dataOffset % 32, 0);
    assert.deepEqual(
      header.tensors.map((t) => [t.name, t.dims, t.shape, t.typeName, t.byteSize]),
      [
        ['matrix.q8', [64, 3], [3, 64], 'Q8_0', 3 * 2 * 34],
        ['vector.f32', [5], [5], 'F32', 20],
        ['matrix.f16', [7, 3, 2], [2, 3, 7], 'F16', 84],
        ['matrix.q4', [96, 2], [2, 96], 'Q4_0', 2 * 3 * 18],
      ],
    );
    let expectedOffset = 0;
    for (const [i, tensor] of header.tensors.entries()) {
      assert.equal(tensor.offset, expectedOffset, tensor.name);
      expectedOffset += Math.ceil(tensor.byteSize / 32) * 32;
      const input = tensors[i]!;
      const values = input.values instanceof Float32Array ? input.values : ramp(192);
      const start = header.dataOffset + tensor.offset;
      assert.deepEqual(
        new Uint8Array(file.subarray(start, start + tensor.byteSize)),
        quantize(values, input.type),
        tensor.name,
      );
    }
  });

  it('writes a file that node-llama-cpp’s own GGUF parser reads the same way', async () => {
    const path = join(dir, 'cross-check.gguf');
    await writeGgufFile(path, {
      metadata: [['general.architecture', ggufValue.string('test')], ...everyValueType],
      tensors,
    });
    const ours = await readGgufHeader(path);
    const { readGgufFileInfo } = await import('node-llama-cpp');
    const theirs = await readGgufFileInfo(path, { logWarnings: false });
    assert.equal(theirs.version, 3);
    assert.deepEqual(
      theirs.tensorInfo!.map((t) => [t.name, t.dimensions.map(Number), t.ggmlType, Number(t.fileOffset)]),
      ours.tensors.map((t) => [t.name, t.dims, t.type, ours.dataOffset + t.offset]),
    );
    const t = (theirs.metadata as unknown as { t: Record<string, unknown> }).t;
    assert.equal(t['string'], 'héllo ▁wörld 你好 🦙');
    assert.equal(t['int32'], -0x80000000);
    assert.equal(BigInt(t['uint64'] as bigint), 2n ** 64n - 1n);
    assert.deepEqual((t['array'] as Record<string, unknown>)['string'], ['<s>', '', '▁the', '<0x0A>', '🦙']);
  });

  it('reads only the header, even when the tensor data is huge', async () => {
    const path = join(dir, 'huge.gguf');
    await writeGgufFile(path, {
      metadata: {},
      tensors: [{ name: 'big', shape: [32, 32], type: GgmlType.F32, values: new Float32Array(1024) }],
    });
    const { dataOffset } = await readGgufHeader(path);
    const bytes = readFileSync(path);
    const dims = tensorInfoOffset(bytes, 'big') + 4;
    new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(dims + 8, 4_000_000n, true); // ne1: 32 -> 4M rows = 512 MB
    writeFileSync(path, bytes);
    truncateSync(path, dataOffset + 32 * 4_000_000 * 4); // sparse: no blocks written
    const started = performance.now();
    const header = await readGgufHeader(path);
    assert.ok(performance.now() - started < 500, 'header read should not touch 512 MB of data');
    assert.deepEqual(header.tensors[0]!.shape, [4_000_000, 32]);
    assert.equal(header.tensors[0]!.byteSize, 512_000_000);
  });

  it('refuses tensors a quantized type cannot hold, and leaves no file behind', async () => {
    const path = join(dir, 'refused.gguf');
    const write = (tensor: GgufTensorInput) => writeGgufFile(path, { metadata: {}, tensors: [tensor] });
    await assert.rejects(
      write({ name: 'w', shape: [2, 48], type: GgmlType.Q8_0, values: ramp(96) }),
      /not a multiple of 32/,
    );
    await assert.rejects(
      write({ name: 'w', shape: [2, 64], type: GgmlType.Q4_0, values: ramp(64) }),
      /got 64 values, its shape holds 128/,
    );
    await assert.rejects(
      write({ name: 'w', shape: [2, 64], type: GgmlType.Q4_0, values: () => [ramp(100)] }),
      /whole 32-value blocks/,
    );
    await assert.rejects(
      write({ name: 'x'.repeat(64), shape: [4], type: GgmlType.F32, values: ramp(4) }),
      /shorter than 64 bytes/,
    );
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.startsWith('refused')),
      [],
    );
  });

  it('refuses metadata values that do not fit their declared type', async () => {
    const path = join(dir, 'bad-values.gguf');
    const write = (value: GgufValue) => writeGgufFile(path, { metadata: { k: value }, tensors: [] });
    await assert.rejects(write(ggufValue.uint8(256)), /expected a uint8/);
    await assert.rejects(write(ggufValue.uint32(-1)), /expected a uint32/);
    await assert.rejects(write(ggufValue.int32(1.5)), /expected a int32/);
    await assert.rejects(write(ggufValue.array('string', ['a', 3])), /k\[1\]/);
    await assert.rejects(write(ggufValue.array('array' as never, [])), /arrays of array/);
  });
});
