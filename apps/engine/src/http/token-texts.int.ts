import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertMatchesTgiSchema } from '#backends/testing';
import { SHIPPED_MODELS, startReadyEngine, type RunningEngine } from '#test-support/engine';
import { postJson } from '#test-support/http-client';

interface Token {
  id: number;
  text: string;
  logprob: number | null;
  special?: boolean;
}

const PROMPT = 'The cat sat on the mat and looked at';

for (const [name, model] of Object.entries(SHIPPED_MODELS)) {
  describe(`engine: token texts keep their leading space, on the shipped ${name} model`, () => {
    let engine: RunningEngine;
    const generate = async (inputs: string, parameters: Record<string, unknown>) => {
      const res = await postJson(`${engine.url}/generate`, { inputs, parameters });
      assert.equal(res.status, 200, res.text);
      assertMatchesTgiSchema('GenerateResponse', res.json());
      return res.json().details as { tokens: Token[]; top_tokens: Token[][]; prefill: Token[] };
    };

    before(async () => {
      engine = await startReadyEngine(model);
    });
    after(() => engine?.stop());

    it('greedy: the top token is the chosen one, with the same text', async () => {
      const details = await generate(PROMPT, { max_new_tokens: 24, details: true, top_n_tokens: 3 });
      assert.equal(details.top_tokens.length, details.tokens.length);
      for (const [i, token] of details.tokens.entries()) {
        const [first] = details.top_tokens[i]!;
        assert.equal(first!.id, token.id);
        assert.equal(first!.text, token.text, `token ${i}`);
        assert.equal(first!.special, token.special);
      }
      const alternatives = details.top_tokens.flat().filter((t) => !t.special);
      assert.ok(
        alternatives.some((t) => t.text.startsWith(' ')),
        `some alternative starts a word: ${JSON.stringify(alternatives.map((t) => t.text))}`,
      );
    });

    it("prefill texts after BOS concatenate to the input; BOS shows its own text, as TGI's decode does", async () => {
      for (const inputs of [PROMPT, 'Hello  world,\tand 光合作用 of the day']) {
        const { prefill } = await generate(inputs, { max_new_tokens: 1, details: true, decoder_input_details: true });
        assert.equal(prefill[0]!.text, '<s>');
        assert.equal(
          prefill
            .slice(1)
            .map((t) => t.text)
            .join(''),
          inputs,
        );
        assert.ok(prefill.slice(2).some((t) => t.text.startsWith(' ')));
      }
    });

    it('the chat route: each top_logprobs[0].token is its content token, texts as the answer reads', async () => {
      const res = await postJson(`${engine.url}/v1/chat/completions`, {
        messages: [{ role: 'user', content: PROMPT }],
        max_tokens: 16,
        temperature: 0,
        logprobs: true,
        top_logprobs: 2,
      });
      assertMatchesTgiSchema('ChatCompletion', res.json());
      const choice = res.json().choices[0];
      const content = choice.logprobs.content as Array<{ token: string; top_logprobs: Array<{ token: string }> }>;
      for (const entry of content) assert.equal(entry.top_logprobs[0]!.token, entry.token);
      const joined = content.map((c) => c.token).join('');
      const answer: string = choice.message.content;
      assert.ok(joined === answer || joined === `${answer}</s>`, JSON.stringify({ joined, answer }));
    });

    it("/tokenize: each span's text is that slice of the input, leading spaces kept; BOS spans nothing", async () => {
      const inputs = 'Hello world of 光';
      const res = await postJson(`${engine.url}/tokenize`, { inputs });
      assertMatchesTgiSchema('TokenizeResponse', res.json());
      const tokens = res.json<Array<{ id: number; text: string; start: number; stop: number }>>();
      assert.deepEqual(tokens[0], { id: 1, text: '', start: 0, stop: 0 });
      const bytes = Buffer.from(inputs);
      for (const token of tokens) assert.equal(token.text, bytes.subarray(token.start, token.stop).toString());
      assert.ok(tokens.some((t) => t.text === ' of' || t.text.startsWith(' wor')));
      assert.equal(tokens.at(-1)!.stop, bytes.length);
    });
  });
}
