import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GgufValidationError } from './errors.js';
import { GgmlType } from './ggml-types.js';
import { readGgufHeader } from './gguf-reader.js';
import { ggufValue } from './gguf-value.js';
import { validateGgufFile, type GgufValidationOptions } from './gguf-validator.js';
import type { LlamaFamilyArchitecture } from './llama-family.js';
import { metadataValueOffset, tensorInfoOffset } from './testing/gguf-bytes.js';
import { tinyVocabulary, writeTinyModel, type TinyModelOptions } from './testing/tiny-model.js';

describe('validateGgufFile', () => {
  let dir: string;
  let count = 0;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gguf-validate-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function tiny(options: TinyModelOptions = {}): Promise<string> {
    const path = join(dir, `model-${count++}.gguf`);
    await writeTinyModel(path, options);
    return path;
  }

  async function assertRefused(path: string, reason: RegExp, options?: GgufValidationOptions): Promise<void> {
    await assert.rejects(validateGgufFile(path, options), (error: unknown) => {
      assert.ok(error instanceof GgufValidationError, `expected GgufValidationError, got ${String(error)}`);
      assert.match(error.message, reason);
      assert.ok(error.message.startsWith(path), 'the message names the file');
      return true;
    });
  }

  function rewrite(path: string, edit: (bytes: Buffer, view: DataView) => void): string {
    const bytes = readFileSync(path);
    edit(bytes, new DataView(bytes.buffer, bytes.byteOffset, bytes.length));
    const edited = join(dir, `edited-${count++}.gguf`);
    writeFileSync(edited, bytes);
    return edited;
  }

  describe('accepts', () => {
    for (const architecture of ['llama', 'qwen2'] as const) {
      for (const type of [GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0] as const) {
        it(`a complete ${architecture} model with ${type === GgmlType.F16 ? 'F16' : type === GgmlType.Q8_0 ? 'Q8_0' : 'Q4_0'} weights`, async () => {
          const result = await validateGgufFile(await tiny({ architecture, type }));
          assert.equal(result.architecture, architecture);
          assert.equal(result.contextLength, 256);
        });
      }
    }

    it('a model without output.weight (tied to token_embd)', async () => {
      await validateGgufFile(await tiny({ omitTensors: ['output.weight'] }));
    });

    it('a model with a chat template', async () => {
      const template = "{{ bos_token }}{% for m in messages %}{{ m['content'] }}{% endfor %}";
      const path = await tiny({ overrideKeys: { 'tokenizer.chat_template': ggufValue.string(template) } });
      const result = await validateGgufFile(path);
      assert.deepEqual(result.metadata.get('tokenizer.chat_template'), ggufValue.string(template));
    });

    it('an unknown architecture only when asked to', async () => {
      const path = await tiny({ overrideKeys: { 'general.architecture': ggufValue.string('gpt9') } });
      await assertRefused(path, /architecture 'gpt9' cannot be checked/);
      await validateGgufFile(path, { allowUnknownArchitectures: true });
    });
  });

  describe('refuses a broken container', () => {
    it('that is not GGUF at all, or empty', async () => {
      const text = join(dir, 'text.gguf');
      writeFileSync(text, 'this is not a model\n'.repeat(10));
      await assertRefused(text, /bad magic/);
      const empty = join(dir, 'empty.gguf');
      writeFileSync(empty, '');
      await assertRefused(empty, /bad magic/);
    });

    it('that is missing or a directory', async () => {
      await assertRefused(join(dir, 'absent.gguf'), /cannot read the file: ENOENT/);
      mkdirSync(join(dir, 'folder.gguf'));
      await assertRefused(join(dir, 'folder.gguf'), /cannot read the file/);
    });

    it('of an unsupported version', async () => {
      const valid = await tiny();
      await assertRefused(
        rewrite(valid, (_, view) => view.setUint32(4, 1, true)),
        /unsupported GGUF version 1/,
      );
      await assertRefused(
        rewrite(valid, (_, view) => view.setUint32(4, 3, false)),
        /unsupported GGUF version 50331648/,
      );
    });

    it('truncated anywhere: header, metadata, tensor infos or tensor data', async () => {
      const valid = await tiny();
      const bytes = readFileSync(valid);
      const { dataOffset, tensors } = await readGgufHeader(valid);
      const last = tensors.at(-1)!;
      const cuts = [
        3,
        6,
        12,
        20,
        30,
        200,
        5_000,
        dataOffset - 200,
        dataOffset - 1,
        dataOffset + 10,
        dataOffset + last.offset + last.byteSize - 1,
      ];
      for (const cut of cuts) {
        const path = join(dir, `truncated-${cut}.gguf`);
        writeFileSync(path, bytes.subarray(0, cut));
        await assertRefused(path, /truncated|bad magic/);
      }
    });

    it('with an unknown tensor type or a misplaced tensor', async () => {
      const valid = await tiny();
      const typeAt = (bytes: Buffer) => tensorInfoOffset(bytes, 'token_embd.weight') + 4 + 2 * 8;
      await assertRefused(
        rewrite(valid, (b, view) => view.setUint32(typeAt(b), 99, true)),
        /tensor 'token_embd.weight' has unknown ggml type 99/,
      );
      await assertRefused(
        rewrite(valid, (b, view) => view.setUint32(typeAt(b), 4, true)),
        /unknown ggml type 4/,
      ); // Q4_2: removed from ggml
      await assertRefused(
        rewrite(valid, (b, view) => view.setBigUint64(typeAt(b) + 4, 32n, true)),
        /offset 32, expected 0/,
      );
    });

    it('with a bad general.alignment', async () => {
      const valid = await tiny();
      const valueAt = (bytes: Buffer) => metadataValueOffset(bytes, 'general.alignment') + 4;
      await assertRefused(
        rewrite(valid, (b, view) => view.setUint32(valueAt(b), 24, true)),
        /general.alignment must be a uint32 power of two, got uint32 24/,
      );
    });

    it('with random corruption of its header, always as GgufValidationError', async () => {
      const valid = await tiny();
      const bytes = readFileSync(valid);
      const { dataOffset } = await readGgufHeader(valid);
      let seed = 7;
      const next = () => (seed = (Math.imul(seed, 48271) + 1) >>> 0);
      for (let round = 0; round < 150; round++) {
        const corrupt = Buffer.from(bytes);
        for (let flips = 1 + (next() % 4); flips > 0; flips--) corrupt[next() % dataOffset] = next() & 0xff;
        const path = join(dir, `fuzz-${round}.gguf`);
        writeFileSync(path, corrupt);
        await validateGgufFile(path).catch((error: unknown) => {
          assert.ok(error instanceof GgufValidationError, `round ${round}: ${String(error)}`);
        });
      }
    });
  });

  describe('refuses metadata that llama.cpp fails or aborts on', () => {
    const required = (arch: LlamaFamilyArchitecture) => [
      'general.architecture',
      `${arch}.block_count`,
      `${arch}.context_length`,
      `${arch}.embedding_length`,
      `${arch}.feed_forward_length`,
      `${arch}.attention.head_count`,
      `${arch}.attention.layer_norm_rms_epsilon`,
      'tokenizer.ggml.model',
      'tokenizer.ggml.tokens',
    ];
    for (const architecture of ['llama', 'qwen2'] as const) {
      for (const key of required(architecture)) {
        it(`${architecture} without '${key}'`, async () => {
          await assertRefused(
            await tiny({ architecture, omitKeys: [key] }),
            new RegExp(`missing metadata '${key.replaceAll('.', '\\.')}'`),
          );
        });
      }
    }

    it('with a hyperparameter of the wrong type', async () => {
      await assertRefused(
        await tiny({ overrideKeys: { 'llama.feed_forward_length': ggufValue.int32(128) } }),
        /'llama.feed_forward_length' is a int32; llama.cpp needs a uint32/,
      );
      await assertRefused(
        await tiny({ overrideKeys: { 'llama.attention.layer_norm_rms_epsilon': ggufValue.float64(1e-5) } }),
        /layer_norm_rms_epsilon' is a float64/,
      );
      await assertRefused(
        await tiny({ overrideKeys: { 'general.architecture': ggufValue.uint32(1) } }),
        /'general.architecture' is a uint32/,
      );
    });

    it('with head counts that cannot divide the model', async () => {
      await assertRefused(
        await tiny({ overrideKeys: { 'llama.attention.head_count': ggufValue.uint32(0) } }),
        /head_count' is 0/,
      );
      await assertRefused(
        await tiny({ overrideKeys: { 'llama.attention.head_count_kv': ggufValue.uint32(3) } }),
        /not a multiple of 'llama.attention.head_count_kv' = 3/,
      );
      await assertRefused(
        await tiny({
          overrideKeys: {
            'llama.attention.head_count': ggufValue.uint32(6),
            'llama.attention.head_count_kv': ggufValue.uint32(6),
          },
        }),
        /'llama.embedding_length' = 64 is not a multiple of 'llama.attention.head_count' = 6/,
      );
      await assertRefused(
        await tiny({ overrideKeys: { 'llama.rope.dimension_count': ggufValue.uint32(8) } }),
        /rope.dimension_count' = 8 does not fit the head size 16/,
      );
    });

    it('with per-layer sizes of the wrong length', async () => {
      await assertRefused(
        await tiny({ overrideKeys: { 'llama.feed_forward_length': ggufValue.array('uint32', [128]) } }),
        /has 1 values for 2 layers/,
      );
    });

    it('with a tokenizer whose arrays disagree with the token list', async () => {
      await assertRefused(
        await tiny({ overrideKeys: { 'tokenizer.ggml.scores': ggufValue.array('float32', [0, 1]) } }),
        /'tokenizer.ggml.scores' has 2 entries for \d+ tokens/,
      );
      await assertRefused(
        await tiny({ overrideKeys: { 'tokenizer.ggml.token_type': ggufValue.array('uint8', [1]) } }),
        /'tokenizer.ggml.token_type' is an array of uint8; expected an array of int32/,
      );
      await assertRefused(
        await tiny({ overrideKeys: { 'tokenizer.ggml.tokens': ggufValue.array('string', []) } }),
        /'tokenizer.ggml.tokens' is empty/,
      );
      await assertRefused(
        await tiny({ overrideKeys: { 'tokenizer.ggml.model': ggufValue.string('klingon') } }),
        /'klingon' is not a tokenizer llama.cpp knows/,
      );
    });

    it('with a chat template that is blank or not a string', async () => {
      await assertRefused(
        await tiny({ overrideKeys: { 'tokenizer.chat_template': ggufValue.string(' \n') } }),
        /'tokenizer.chat_template' is blank/,
      );
      await assertRefused(
        await tiny({ overrideKeys: { 'tokenizer.chat_template': ggufValue.array('string', ['{{ x }}']) } }),
        /'tokenizer.chat_template' is a array; llama.cpp needs a string/,
      );
    });

    it('with special token ids outside the vocabulary', async () => {
      const size = tinyVocabulary().tokens.length;
      for (const which of ['bos', 'eos', 'unknown']) {
        const key = `tokenizer.ggml.${which}_token_id`;
        await assertRefused(
          await tiny({ overrideKeys: { [key]: ggufValue.uint32(size) } }),
          new RegExp(`'${key}' = ${size} is outside the ${size}-token vocabulary`),
        );
      }
    });

    it('with a "llama" tokenizer that lacks byte-fallback tokens', async () => {
      const tokens = tinyVocabulary().tokens.map((t) => (t === '<0x0A>' ? '<newline>' : t));
      await assertRefused(
        await tiny({ overrideKeys: { 'tokenizer.ggml.tokens': ggufValue.array('string', tokens) } }),
        /lacks 1 byte-fallback tokens \(<0x0A>/,
      );
    });
  });

  describe('refuses tensors that disagree with the metadata', () => {
    const requiredTensors = [
      'token_embd.weight',
      'output_norm.weight',
      ...['attn_norm', 'attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_norm', 'ffn_gate', 'ffn_up', 'ffn_down'].map(
        (t) => `blk.1.${t}.weight`,
      ),
    ];
    for (const name of requiredTensors) {
      it(`without '${name}'`, async () => {
        await assertRefused(await tiny({ omitTensors: [name] }), new RegExp(`missing tensor '${name}'`));
      });
    }

    it('qwen2 without its attention biases', async () => {
      await assertRefused(
        await tiny({ architecture: 'qwen2', omitTensors: ['blk.0.attn_k.bias'] }),
        /missing tensor 'blk.0.attn_k.bias'/,
      );
    });

    it('with shapes that contradict embedding length, ffn length, kv heads or vocab size', async () => {
      const vocab = tinyVocabulary().tokens.length;
      const cases: [string, number[], string][] = [
        ['blk.0.ffn_up.weight', [96, 64], 'expected \\[128, 64\\]'],
        ['blk.0.ffn_down.weight', [64, 96], 'expected \\[64, 128\\]'],
        ['blk.1.attn_k.weight', [64, 64], 'expected \\[32, 64\\]'],
        ['blk.1.attn_q.weight', [64, 32], 'expected \\[64, 64\\]'],
        ['blk.0.attn_norm.weight', [32], 'expected \\[64\\]'],
        ['token_embd.weight', [vocab + 32, 64], `expected \\[${vocab}, 64\\]`],
        ['output.weight', [vocab - 32, 64], `expected \\[${vocab}, 64\\]`],
      ];
      for (const [name, shape, expected] of cases) {
        await assertRefused(
          await tiny({ overrideShapes: { [name]: shape } }),
          new RegExp(`tensor '${name}' has shape \\[${shape.join(', ')}\\], ${expected}`),
        );
      }
      await assertRefused(
        await tiny({ overrideKeys: { 'llama.vocab_size': ggufValue.uint32(vocab + 1) } }),
        /'llama.vocab_size' = \d+ but the tokenizer has/,
      );
    });

    it('with a tensor llama.cpp would not use', async () => {
      const extra = {
        name: 'blk.7.attn_q.weight',
        shape: [32],
        type: GgmlType.F32,
        values: new Float32Array(32),
      } as const;
      await assertRefused(await tiny({ extraTensors: [extra] }), /unexpected tensor 'blk.7.attn_q.weight'/);
    });

    it('naming several problems at once', async () => {
      await assertRefused(
        await tiny({ omitTensors: ['blk.0.ffn_up.weight', 'blk.1.ffn_up.weight'] }),
        /missing tensor 'blk.0.ffn_up.weight'; missing tensor 'blk.1.ffn_up.weight'/,
      );
    });
  });
});
