import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GgmlType, readGgufHeader, type WritableGgmlType } from '#gguf';
import { SafetensorsFile } from './safetensors-reader.js';
import { generateGreedy } from './testing/generate.js';
import { TINY, writeTinyCheckpoint, type TinyCheckpointOptions } from './testing/tiny-checkpoint.js';
import { exportTrainedModel } from './trained-model-export.js';
import { ggufTensorName } from './checkpoint.js';
import { PLAIN_CHAT_TEMPLATE } from './plain-chat-template.js';

describe('exportTrainedModel', () => {
  let dir: string;
  let count = 0;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'export-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function exported(options: TinyCheckpointOptions, type: WritableGgmlType = GgmlType.Q8_0) {
    const checkpointDir = join(dir, `checkpoint-${count}`);
    writeTinyCheckpoint(checkpointDir, options);
    const out = join(dir, `model-${count++}.gguf`);
    const result = await exportTrainedModel({ checkpointDir, out, type });
    return { checkpointDir, out, result };
  }

  it('renames Hugging Face tensors to llama.cpp names', () => {
    assert.equal(ggufTensorName('model.embed_tokens.weight'), 'token_embd.weight');
    assert.equal(ggufTensorName('model.norm.weight'), 'output_norm.weight');
    assert.equal(ggufTensorName('lm_head.weight'), 'output.weight');
    assert.equal(ggufTensorName('model.layers.11.input_layernorm.weight'), 'blk.11.attn_norm.weight');
    assert.equal(ggufTensorName('model.layers.0.self_attn.q_proj.bias'), 'blk.0.attn_q.bias');
    assert.equal(ggufTensorName('model.layers.0.self_attn.o_proj.weight'), 'blk.0.attn_output.weight');
    assert.equal(ggufTensorName('model.layers.3.post_attention_layernorm.weight'), 'blk.3.ffn_norm.weight');
    assert.equal(ggufTensorName('model.layers.3.mlp.gate_proj.weight'), 'blk.3.ffn_gate.weight');
    assert.equal(ggufTensorName('model.layers.3.mlp.up_proj.weight'), 'blk.3.ffn_up.weight');
    assert.equal(ggufTensorName('model.layers.3.mlp.down_proj.weight'), 'blk.3.ffn_down.weight');
    assert.equal(ggufTensorName('model.layers.3.self_attn.rotary_emb.inv_freq'), undefined);
  });

  it('copies every tensor’s values unchanged at F32, under its llama.cpp name', async () => {
    const { checkpointDir, out } = await exported({ architecture: 'qwen2', weights: 'random' }, GgmlType.F32);
    const header = await readGgufHeader(out);
    const file = readFileSync(out);
    const checkpoint = await SafetensorsFile.open(join(checkpointDir, 'model.safetensors'));
    const source = readFileSync(join(checkpointDir, 'model.safetensors'));
    try {
      assert.equal(header.tensors.length, checkpoint.tensors.size);
      for (const tensor of checkpoint.tensors.values()) {
        const written = header.tensors.find((t) => t.name === ggufTensorName(tensor.name));
        assert.ok(written, tensor.name);
        assert.deepEqual(written.shape, tensor.shape, tensor.name);
        assert.equal(written.typeName, 'F32');
        const at = header.dataOffset + written.offset;
        assert.ok(
          file.subarray(at, at + written.byteSize).equals(source.subarray(tensor.begin, tensor.end)),
          tensor.name,
        );
      }
    } finally {
      await checkpoint.close();
    }
  });

  it('writes hyperparameters, tokenizer and provenance from the JSON files', async () => {
    const { out } = await exported({ architecture: 'llama', weights: 'random' });
    const { metadata, tensors } = await readGgufHeader(out);
    const value = (key: string) => metadata.get(key)?.value;
    assert.equal(value('general.architecture'), 'llama');
    assert.equal(value('general.name'), 'tiny-llama');
    assert.equal(value('general.license'), 'CC0-1.0');
    assert.equal(value('general.description'), 'a test checkpoint');
    assert.equal(value('general.dataset.0.description'), 'made up by a test');
    assert.equal(value('general.file_type'), 7);
    assert.equal(value('llama.embedding_length'), TINY.dim);
    assert.equal(value('llama.block_count'), TINY.layers);
    assert.equal(value('llama.feed_forward_length'), TINY.ffn);
    assert.equal(value('llama.attention.head_count'), TINY.heads);
    assert.equal(value('llama.attention.head_count_kv'), TINY.kvHeads);
    assert.equal(value('llama.context_length'), 256);
    assert.equal(value('llama.rope.dimension_count'), TINY.dim / TINY.heads);
    assert.equal(value('llama.rope.freq_base'), 10000);
    assert.equal(value('llama.vocab_size'), TINY.vocab);
    assert.equal(value('tokenizer.ggml.model'), 'llama');
    assert.equal((value('tokenizer.ggml.tokens') as string[]).length, TINY.vocab);
    assert.equal(value('tokenizer.ggml.add_bos_token'), true);
    assert.equal(value('tokenizer.ggml.add_eos_token'), false);
    assert.equal(value('tokenizer.ggml.add_space_prefix'), true);
    assert.equal(value('tokenizer.chat_template'), PLAIN_CHAT_TEMPLATE);
    assert.equal([...metadata.keys()].at(-1), 'tokenizer.chat_template', 'last, where set-chat-template adds it');
    assert.deepEqual(new Set(tensors.map((t) => t.typeName)), new Set(['Q8_0', 'F32']));
    assert.equal(tensors.find((t) => t.name === 'blk.0.attn_norm.weight')!.typeName, 'F32');
  });

  for (const architecture of ['llama', 'qwen2'] as const) {
    it(`exports a ${architecture} checkpoint that llama.cpp runs as trained (t -> t + 1)`, async () => {
      const { out } = await exported({ architecture, weights: 'successor' });
      const generation = await generateGreedy(out, '!', 6);
      const last = generation.promptTokens.at(-1)!;
      assert.deepEqual(
        generation.tokens,
        [1, 2, 3, 4, 5, 6].map((i) => last + i),
      );
    });
  }

  it('leaves output.weight out when the embeddings are tied, and llama.cpp reuses token_embd', async () => {
    const { out } = await exported({ architecture: 'llama', weights: 'successor', tied: true });
    const { tensors } = await readGgufHeader(out);
    assert.equal(
      tensors.some((t) => t.name === 'output.weight'),
      false,
    );
    const generation = await generateGreedy(out, '!', 3);
    assert.deepEqual(generation.tokens, new Array(3).fill(generation.promptTokens.at(-1)));
  });

  it('stores matrices whose rows are not whole blocks as F16, and says so', async () => {
    const { result, out } = await exported({
      architecture: 'llama',
      weights: 'random',
      edit: (tensors, config) => {
        config['intermediate_size'] = 48;
        for (const [name, tensor] of Object.entries(tensors)) {
          if (name.includes('mlp.')) {
            tensor.shape = name.includes('down') ? [TINY.dim, 48] : [48, TINY.dim];
            tensor.values = new Float32Array(48 * TINY.dim).fill(0.01);
          }
        }
      },
    });
    assert.deepEqual(result.notes, [
      'blk.0.ffn_down.weight: rows of 48 are not whole 32-value blocks, stored as F16',
      'blk.1.ffn_down.weight: rows of 48 are not whole 32-value blocks, stored as F16',
    ]);
    const { tensors } = await readGgufHeader(out);
    assert.equal(tensors.find((t) => t.name === 'blk.0.ffn_down.weight')!.typeName, 'F16');
    assert.equal(tensors.find((t) => t.name === 'blk.0.ffn_up.weight')!.typeName, 'Q8_0');
  });

  describe('refuses', () => {
    const refuse = async (options: Omit<TinyCheckpointOptions, 'architecture' | 'weights'>, reason: RegExp) => {
      await assert.rejects(exported({ architecture: 'qwen2', weights: 'random', ...options }), reason);
    };

    it('a checkpoint missing a tensor', async () => {
      await refuse(
        { edit: (t) => delete t['model.layers.1.self_attn.k_proj.bias'] },
        /missing tensor for 'blk.1.attn_k.bias'/,
      );
    });

    it('a tensor whose shape contradicts config.json', async () => {
      await refuse(
        { edit: (t) => (t['model.layers.0.mlp.up_proj.weight']!.shape = [TINY.dim, TINY.ffn]) },
        /'model.layers.0.mlp.up_proj.weight' has shape \[320,64\], config.json implies \[64,320\]/,
      );
    });

    it('tensors with no llama.cpp name', async () => {
      await refuse(
        { edit: (t) => (t['model.rotary.inv_freq'] = { shape: [2], values: new Float32Array(2) }) },
        /no llama.cpp equivalent: model.rotary.inv_freq/,
      );
    });

    it('weights that are not finite', async () => {
      await refuse(
        { edit: (t) => (t['model.layers.0.mlp.up_proj.weight']!.values[5] = NaN) },
        /'model.layers.0.mlp.up_proj.weight' contains NaN/,
      );
    });

    it('a config.json with a missing or mistyped key, naming it', async () => {
      await refuse(
        { edit: (_, config) => delete config['rms_norm_eps'] },
        /config.json: "rms_norm_eps" must be a positive number, got nothing/,
      );
      await refuse(
        { edit: (_, config) => (config['num_hidden_layers'] = '2') },
        /"num_hidden_layers" must be a positive integer, got "2"/,
      );
      await refuse(
        { edit: (_, config) => (config['architecture'] = 'gpt2') },
        /"architecture" must be "llama" or "qwen2"/,
      );
    });

    it('a vocabulary size that disagrees with tokenizer.json', async () => {
      await refuse(
        { edit: (_, config) => (config['vocab_size'] = 321) },
        /tokenizer.json has 320 tokens but config.json says vocab_size 321/,
      );
    });
  });
});
