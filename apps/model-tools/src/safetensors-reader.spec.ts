import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SafetensorsFile } from './safetensors-reader.js';
import { writeSafetensors } from './testing/tiny-checkpoint.js';

async function readAll(file: SafetensorsFile, name: string, chunkValues?: number) {
  const chunks: Float32Array[] = [];
  for await (const chunk of file.readRows(name, chunkValues)) chunks.push(Float32Array.from(chunk));
  return chunks;
}

function rawSafetensors(header: object, data: Uint8Array): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, data]);
}

describe('SafetensorsFile', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'safetensors-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lists tensors and reads them back in chunks of whole rows', async () => {
    const path = join(dir, 'a.safetensors');
    const matrix = Float32Array.from({ length: 12 }, (_, i) => i * 0.5);
    writeSafetensors(path, { m: { shape: [4, 3], values: matrix }, v: { shape: [2], values: Float32Array.of(-1, 7) } });
    const file = await SafetensorsFile.open(path);
    try {
      assert.deepEqual([...file.tensors.keys()], ['m', 'v']);
      assert.deepEqual(file.tensors.get('m')!.shape, [4, 3]);
      assert.deepEqual(file.metadata, { format: 'pt' });
      const chunks = await readAll(file, 'm', 7); // 7 values -> 2 rows of 3 per chunk
      assert.deepEqual(
        chunks.map((c) => c.length),
        [6, 6],
      );
      assert.deepEqual(Float32Array.from(chunks.flatMap((c) => [...c])), matrix);
      assert.deepEqual(await readAll(file, 'v'), [Float32Array.of(-1, 7)]);
    } finally {
      await file.close();
    }
  });

  it('converts F16 and BF16 tensors to float32', async () => {
    const path = join(dir, 'halves.safetensors');
    const f16 = Uint16Array.of(0x3c00, 0xc000); // 1, -2
    const bf16 = Uint16Array.of(0x3f80, 0x4049); // 1, 3.140625
    const data = Buffer.concat([Buffer.from(f16.buffer), Buffer.from(bf16.buffer)]);
    writeFileSync(
      path,
      rawSafetensors(
        {
          h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
          b: { dtype: 'BF16', shape: [2], data_offsets: [4, 8] },
        },
        data,
      ),
    );
    const file = await SafetensorsFile.open(path);
    try {
      assert.deepEqual(await readAll(file, 'h'), [Float32Array.of(1, -2)]);
      assert.deepEqual(await readAll(file, 'b'), [Float32Array.of(1, 3.140625)]);
    } finally {
      await file.close();
    }
  });

  it('refuses files whose header does not describe their data', async () => {
    const cases: [string, Buffer, RegExp][] = [
      ['short', Buffer.from([1, 2]), /shorter than its 8-byte header length/],
      [
        'huge-header',
        Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0, 0, 0, 0, 0]), Buffer.alloc(16)]),
        /header length \d+ does not fit/,
      ],
      ['not-json', rawSafetensors({}, new Uint8Array()).fill(0x7b, 8), /header is not JSON/],
      [
        'past-end',
        rawSafetensors({ t: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8)),
        /lies outside the file/,
      ],
      [
        'size-mismatch',
        rawSafetensors({ t: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, new Uint8Array(16)),
        /holds 16 bytes, its F32 shape \[3\] needs 12/,
      ],
    ];
    for (const [name, bytes, reason] of cases) {
      const path = join(dir, `${name}.safetensors`);
      writeFileSync(path, bytes);
      await assert.rejects(SafetensorsFile.open(path), reason, name);
    }
  });
});
