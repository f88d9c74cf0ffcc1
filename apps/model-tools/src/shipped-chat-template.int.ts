import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ChatHistoryItem, Llama, LlamaModel, Token } from 'node-llama-cpp';
import { CHAT_TEMPLATE_KEY, readGgufHeader } from '#gguf';
import { SHIPPED_MODELS } from '#test-support/engine';
import { PLAIN_CHAT_TEMPLATE } from './plain-chat-template.js';

const SYSTEM = 'You are a helpful assistant.';
const conversation: ChatHistoryItem[] = [
  { type: 'system', text: SYSTEM },
  { type: 'user', text: 'Hello there.' },
  { type: 'model', response: [''] },
];

describe('the chat template of the shipped models', () => {
  let llama: Llama;
  before(async () => {
    const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
    llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
  });
  after(() => llama.dispose());

  for (const [name, path] of Object.entries(SHIPPED_MODELS)) {
    describe(name, () => {
      let model: LlamaModel;
      before(async () => {
        model = await llama.loadModel({ modelPath: path });
      });
      after(() => model.dispose());

      const wrapper = async () => {
        const { JinjaTemplateChatWrapper, resolveChatWrapper } = await import('node-llama-cpp');
        const resolved = resolveChatWrapper(model);
        assert.ok(resolved instanceof JinjaTemplateChatWrapper, `resolved to ${resolved.wrapperName}`);
        return resolved;
      };

      it('carries the plain template, which node-llama-cpp renders as a Jinja template', async () => {
        const { metadata } = await readGgufHeader(path);
        assert.equal(metadata.get(CHAT_TEMPLATE_KEY)?.value, PLAIN_CHAT_TEMPLATE);
        const resolved = await wrapper();
        assert.equal(resolved.template, PLAIN_CHAT_TEMPLATE);
        assert.equal(resolved.settings.supportsSystemMessages, true);
      });

      it('renders a system + user conversation as labelled lines, up to the assistant label', async () => {
        const { contextText, stopGenerationTriggers } = (await wrapper()).generateContextState({
          chatHistory: conversation,
        });
        assert.deepEqual(contextText.toJSON(), [
          { type: 'specialToken', value: 'BOS' },
          { type: 'specialTokensText', value: 'System: ' },
          SYSTEM,
          { type: 'specialTokensText', value: '\nUser: ' },
          'Hello there.',
          { type: 'specialTokensText', value: '\nAssistant: ' },
        ]);
        assert.deepEqual(stopGenerationTriggers[0]?.toJSON(), [{ type: 'specialToken', value: 'EOS' }]);
      });

      it('ends an earlier assistant turn with EOS', async () => {
        const { contextText } = (await wrapper()).generateContextState({
          chatHistory: [
            { type: 'user', text: 'Hi.' },
            { type: 'model', response: ['Hello.'] },
            { type: 'user', text: 'Bye.' },
            { type: 'model', response: [''] },
          ],
        });
        assert.deepEqual(contextText.toJSON(), [
          { type: 'specialToken', value: 'BOS' },
          { type: 'specialTokensText', value: 'User: ' },
          'Hi.',
          { type: 'specialTokensText', value: '\nAssistant: ' },
          'Hello.',
          { type: 'specialToken', value: 'EOS' },
          { type: 'specialTokensText', value: '\nUser: ' },
          'Bye.',
          { type: 'specialTokensText', value: '\nAssistant: ' },
        ]);
      });

      it('still loads in llama.cpp and generates from the rendered conversation', async () => {
        const { contextText } = (await wrapper()).generateContextState({ chatHistory: conversation });
        const vocabulary = (await readGgufHeader(path)).metadata.get('tokenizer.ggml.tokens')!.value as string[];
        const prompt = contextText.tokenize(model.tokenizer);
        assert.equal(prompt[0], model.tokens.bos);
        assert.equal(
          model.detokenize(prompt).replaceAll(' \n', '\n').trim(),
          `System: ${SYSTEM}\nUser: Hello there.\nAssistant:`,
        );
        const context = await model.createContext({ contextSize: 128, threads: 1 });
        try {
          const tokens: Token[] = [];
          for await (const token of context.getSequence().evaluate(prompt, { temperature: 0 })) {
            tokens.push(token);
            if (token === model.tokens.eos || tokens.length >= 8) break;
          }
          assert.ok(tokens.length > 0);
          assert.ok(tokens.every((token) => token >= 0 && token < vocabulary.length));
          assert.ok(tokens.length === 8 || tokens.at(-1) === model.tokens.eos, 'stopped early only at EOS');
        } finally {
          await context.dispose();
        }
      });
    });
  }
});
