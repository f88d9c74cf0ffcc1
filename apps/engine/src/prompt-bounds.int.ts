import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { getLlama, LlamaLogLevel, type Llama, type LlamaModel } from 'node-llama-cpp';
import { REPO_ROOT } from '#test-support/engine';
import { PromptBounds } from './prompt-bounds.js';

/** The bounds against the shipped model's real tokenizer, loaded in this process (1,024 tokens per sequence). */
describe('PromptBounds with the shipped qwen2 model', () => {
  let llama: Llama;
  let model: LlamaModel;
  let bounds: PromptBounds;
  const maxInputTokens = 1023;

  before(async () => {
    llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
    model = await llama.loadModel({ modelPath: `${REPO_ROOT}models/qwen2-tiny-q8_0.gguf` });
    const vocabularySize = model.fileInfo.metadata.tokenizer?.ggml?.tokens?.length ?? 0;
    assert.ok(vocabularySize > 0);
    bounds = PromptBounds.forModel(model, vocabularySize, maxInputTokens);
  });
  after(async () => {
    await model?.dispose();
    await llama?.dispose();
  });

  it("knows the vocabulary's longest token, so that no prompt of more characters than it allows can fit", () => {
    assert.ok(bounds.longestTokenChars >= 2 && bounds.longestTokenChars <= 64, String(bounds.longestTokenChars));
  });

  it('refuses 100,000 emoji by their characters at once, without tokenizing them (one tokenization took seconds)', async () => {
    const started = performance.now();
    await assert.rejects(bounds.fit('😀'.repeat(100_000)), (error: Error) => {
      assert.match(error.message, /`inputs` must have less than 1023 tokens\. Given: 100000 characters/);
      return true;
    });
    assert.ok(performance.now() - started < 200, `${Math.round(performance.now() - started)} ms`);
  });

  it('refuses a prompt within the characters but far over in tokens slice by slice, the event loop turning meanwhile', async () => {
    const prompt = '😀'.repeat(Math.floor((maxInputTokens * bounds.longestTokenChars) / 2)); // 4 byte tokens each
    let last = performance.now();
    let longestGap = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 1);
    try {
      await assert.rejects(bounds.fit(prompt), /must have less than 1023 tokens\. Given: more than \d+ tokens/);
    } finally {
      clearInterval(ticker);
    }
    assert.ok(longestGap < 250, `the event loop was held ${Math.round(longestGap)} ms`);
  });

  it('passes a prompt that fits unchanged, and one a little over on to the exact count', async () => {
    const words = 'the quick brown fox jumps over the lazy dog '.repeat(40);
    assert.equal(await bounds.fit(words), words);
    const over = 'the quick brown fox jumps over the lazy dog '.repeat(100); // over 4,096 characters: counted in slices
    const tokens = model.tokenize(over).length;
    assert.ok(tokens > maxInputTokens && tokens < 2 * maxInputTokens, `${tokens} tokens`);
    assert.equal(await bounds.fit(over), over, 'left to the exact count after tokenization (TGI wording there)');
  });

  it('with truncate, tokenizes only the end of a long prompt, and that end keeps the same last tokens', async () => {
    const prompt = Array.from({ length: 6000 }, (_, i) => `word${i % 97}`).join(' ');
    const end = await bounds.fit(prompt, 100);
    assert.ok(end.length < prompt.length / 4, `kept ${end.length} of ${prompt.length} characters`);
    assert.ok(prompt.endsWith(end));
    assert.deepEqual(model.tokenize(end).slice(-100), model.tokenize(prompt).slice(-100));
  });
});
