import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertMatchesTgiSchema } from '#backends/testing';
import { SHIPPED_MODELS, startReadyEngine, type RunningEngine } from '#test-support/engine';
import { parseSse, postJson, request } from '#test-support/http-client';

/** Real generation through the engine's HTTP API with the shipped models: parameters behave as TGI documents. */
const letters = (text: string) => (text.match(/[A-Za-z]/g) ?? []).length;

for (const [name, model] of Object.entries(SHIPPED_MODELS)) {
  describe(`engine serving the shipped ${name} model`, () => {
    let engine: RunningEngine;
    const generate = (inputs: string, parameters: Record<string, unknown> = {}) =>
      postJson(`${engine.url}/generate`, { inputs, parameters });

    before(async () => {
      engine = await startReadyEngine(model, ['--sequences', '2']);
    });
    after(() => engine?.stop());

    it('reports itself on /info and /health in TGI shapes', async () => {
      assert.equal((await request(`${engine.url}/health`)).status, 200);
      const info = await request(`${engine.url}/info`);
      assert.equal(info.status, 200);
      assertMatchesTgiSchema('Info', info.json());
      assert.equal(info.json().max_stop_sequences, 4);
      assert.ok(info.json().max_total_tokens >= 512);
    });

    it('writes text that reads like English, not noise', async () => {
      const res = await generate('The', { max_new_tokens: 60 });
      assert.equal(res.status, 200);
      assertMatchesTgiSchema('GenerateResponse', res.json());
      const text: string = res.json().generated_text;
      const words = text.trim().split(/\s+/);
      assert.ok(words.length >= 8, `too few words: ${JSON.stringify(text)}`);
      assert.ok(
        letters(text) / text.replace(/\s/g, '').length > 0.75,
        `mostly letters expected: ${JSON.stringify(text)}`,
      );
      const averageWord = letters(text) / words.length;
      assert.ok(averageWord > 2 && averageWord < 9, `word lengths like English expected: ${JSON.stringify(text)}`);
    });

    it('streams the same text as /generate, one event per token, the last with generated_text and details', async () => {
      const parameters = { max_new_tokens: 40, details: true };
      const plain = (await generate('Once upon a time', parameters)).json();
      const stream = await request(`${engine.url}/generate_stream`, {
        method: 'POST',
        body: { inputs: 'Once upon a time', parameters },
      });
      assert.equal(stream.status, 200);
      assert.match(String(stream.headers['content-type']), /text\/event-stream/);
      const events = parseSse(stream.text);
      for (const event of events) assertMatchesTgiSchema('StreamResponse', event);
      assert.equal(events.length, plain.details.generated_tokens);
      assert.deepEqual(
        events.map((e) => e.index),
        events.map((_, i) => i + 1),
      );
      const last = events.at(-1);
      assert.equal(last.generated_text, plain.generated_text);
      assert.equal(events.map((e) => (e.token.special ? '' : e.token.text)).join(''), plain.generated_text);
      assert.equal(last.details.finish_reason, plain.details.finish_reason);
      assert.equal(last.details.generated_tokens, plain.details.generated_tokens);
      assert.ok(last.details.input_length > 0);
      assert.ok(events.slice(0, -1).every((e) => e.generated_text === null && e.details === null));
      assert.deepEqual(
        events.map((e) => e.token.id),
        plain.details.tokens.map((t: { id: number }) => t.id),
      );
      // Logprobs cost a vocabulary-wide softmax per token: details have them, streams do not by default.
      assert.ok(
        plain.details.tokens.every((t: { logprob: number | null }) => typeof t.logprob === 'number' && t.logprob <= 0),
      );
      assert.ok(events.every((e) => e.token.logprob === null));
    });

    it("reports token counts in TGI's x-prompt-tokens / x-generated-tokens headers", async () => {
      const res = await generate('Once upon a time', { max_new_tokens: 9, details: true });
      assert.equal(Number(res.headers['x-generated-tokens']), res.json().details.generated_tokens);
      const tokenized = (await postJson(`${engine.url}/tokenize`, { inputs: 'Once upon a time' })).json();
      assert.equal(Number(res.headers['x-prompt-tokens']), tokenized.length);
    });

    it('honours the compat route: POST / answers an array, or a stream when asked', async () => {
      const plain = await postJson(`${engine.url}/`, { inputs: 'The', parameters: { max_new_tokens: 5 } });
      assert.equal(plain.status, 200);
      assert.ok(Array.isArray(plain.json()));
      assertMatchesTgiSchema('GenerateResponse', plain.json()[0]);
      const streamed = await postJson(`${engine.url}/`, {
        inputs: 'The',
        stream: true,
        parameters: { max_new_tokens: 5 },
      });
      const events = parseSse(streamed.text);
      assert.equal(events.at(-1).generated_text, plain.json()[0].generated_text);
    });

    it('is deterministic when greedy, and when sampling with a seed', async () => {
      const greedy = await Promise.all([
        generate('The sun', { max_new_tokens: 30 }),
        generate('The sun', { max_new_tokens: 30 }),
      ]);
      assert.equal(greedy[0].json().generated_text, greedy[1].json().generated_text);
      const seeded = { max_new_tokens: 30, do_sample: true, temperature: 1.5, seed: 1234, details: true };
      const a = (await generate('The sun', seeded)).json();
      const b = (await generate('The sun', seeded)).json();
      assert.equal(a.generated_text, b.generated_text);
      assert.equal(a.details.seed, 1234);
      const others = await Promise.all([1, 2, 3].map((seed) => generate('The sun', { ...seeded, seed })));
      assert.ok(
        others.some((r) => r.json().generated_text !== a.generated_text),
        'other seeds should give other text',
      );
    });

    it('samples when temperature, top_k or top_p is set (do_sample implied), as TGI does', async () => {
      const greedy = (await generate('In the', { max_new_tokens: 40, details: true })).json();
      assert.equal(greedy.details.seed, null);
      const hot = await Promise.all(
        [1, 2, 3].map((seed) => generate('In the', { max_new_tokens: 40, temperature: 2.5, seed })),
      );
      assert.ok(
        hot.some((r) => r.json().generated_text !== greedy.generated_text),
        'high temperature should leave the greedy path',
      );
      // top_k 1 and a tiny top_p leave only the most likely token: sampling collapses to greedy.
      const topK1 = (await generate('In the', { max_new_tokens: 40, top_k: 1, temperature: 2.5, seed: 9 })).json();
      const topPTiny = (
        await generate('In the', { max_new_tokens: 40, top_p: 0.0001, temperature: 2.5, seed: 9 })
      ).json();
      assert.equal(topK1.generated_text, greedy.generated_text);
      assert.equal(topPTiny.generated_text, greedy.generated_text);
    });

    it('repetition_penalty changes what is generated', async () => {
      const plain = (await generate('the the the the', { max_new_tokens: 40 })).json().generated_text;
      const penalised = (await generate('the the the the', { max_new_tokens: 40, repetition_penalty: 3 })).json()
        .generated_text;
      assert.notEqual(penalised, plain);
    });

    it('frequency_penalty changes what is generated', async () => {
      const plain = (await generate('the the the the', { max_new_tokens: 40 })).json().generated_text;
      const penalised = (await generate('the the the the', { max_new_tokens: 40, frequency_penalty: 2 })).json()
        .generated_text;
      assert.notEqual(penalised, plain);
    });

    it('stops at max_new_tokens with finish_reason length', async () => {
      const res = (await generate('The', { max_new_tokens: 7, details: true, stop: [] })).json();
      if (res.details.finish_reason === 'length') assert.equal(res.details.generated_tokens, 7);
      else assert.ok(res.details.generated_tokens <= 7);
      assert.equal(res.details.tokens.length, res.details.generated_tokens);
      for (const token of res.details.tokens) assert.ok(token.logprob === null || token.logprob <= 0);
    });

    it('stops at a stop sequence with finish_reason stop_sequence, the sequence kept in the text', async () => {
      const free = (await generate('The', { max_new_tokens: 80 })).json().generated_text as string;
      const stop = free.trim().split(/\s+/)[2]!; // a word we know greedy decoding reaches
      const res = (await generate('The', { max_new_tokens: 80, stop: [stop], details: true })).json();
      assert.equal(res.details.finish_reason, 'stop_sequence');
      assert.ok(res.generated_text.includes(stop));
      assert.ok(res.generated_text.length < free.length);
      assert.ok(free.startsWith(res.generated_text));
    });

    it('ends at the EOS token with finish_reason eos_token, the EOS token special and not in the text', async () => {
      const prompts = ['The end.', 'Yes.', 'He said', 'It is', 'A', 'What is it?', 'No.', 'The'];
      let found: any;
      for (const inputs of prompts) {
        const res = (await generate(inputs, { max_new_tokens: 400, details: true })).json();
        if (res.details.finish_reason === 'eos_token') {
          found = res;
          break;
        }
      }
      assert.ok(found, 'one of the prompts should end with EOS within 400 tokens');
      const last = found.details.tokens.at(-1);
      assert.equal(last.special, true);
      assert.ok(!found.generated_text.includes(last.text));
    });

    it('return_full_text prepends the prompt', async () => {
      const short = (await generate('Once', { max_new_tokens: 10 })).json().generated_text;
      const full = (await generate('Once', { max_new_tokens: 10, return_full_text: true })).json().generated_text;
      assert.equal(full, `Once${short}`);
    });

    it('decoder_input_details returns the prompt tokens with logprobs, the first without', async () => {
      const res = (
        await generate('The cat sat', { max_new_tokens: 3, details: true, decoder_input_details: true })
      ).json();
      assertMatchesTgiSchema('GenerateResponse', res);
      const tokenized = (await postJson(`${engine.url}/tokenize`, { inputs: 'The cat sat' })).json();
      assert.deepEqual(
        res.details.prefill.map((t: { id: number }) => t.id),
        tokenized.map((t: { id: number }) => t.id),
      );
      assert.equal(res.details.prefill[0].logprob, null);
      for (const token of res.details.prefill.slice(1)) assert.ok(token.logprob < 0);
    });

    it('top_n_tokens returns that many alternatives per token, most likely first', async () => {
      const res = (await generate('The', { max_new_tokens: 4, details: true, top_n_tokens: 3 })).json();
      assertMatchesTgiSchema('GenerateResponse', res);
      assert.equal(res.details.top_tokens.length, 4);
      for (const [i, top] of res.details.top_tokens.entries()) {
        assert.equal(top.length, 3);
        assert.ok(top[0].logprob >= top[1].logprob && top[1].logprob >= top[2].logprob);
        assert.equal(top[0].id, res.details.tokens[i].id); // greedy picks the most likely
      }
    });

    it('truncate keeps only the last tokens of the prompt', async () => {
      const res = await request(`${engine.url}/generate_stream`, {
        method: 'POST',
        body: {
          inputs: 'one two three four five six seven eight nine ten',
          parameters: { max_new_tokens: 2, truncate: 3, details: true },
        },
      });
      const bos = (await postJson(`${engine.url}/tokenize`, { inputs: 'x' })).json()[0].stop === 0 ? 1 : 0; // BOS spans nothing
      assert.equal(parseSse(res.text).at(-1).details.input_length, 3 + bos);
    });

    it("generates from the seed's Chinese prompts (byte-fallback tokens) without broken characters", async () => {
      const res = await generate('光合作用的原理是什么？', { max_new_tokens: 32 });
      assert.equal(res.status, 200);
      assert.equal(typeof res.json().generated_text, 'string');
      const tokenized = (await postJson(`${engine.url}/tokenize`, { inputs: '光合作用' })).json();
      assertMatchesTgiSchema('TokenizeResponse', tokenized);
      const spans = new Map<number, string>(
        tokenized.filter((t: any) => t.stop > t.start).map((t: any) => [t.start, t.text]),
      );
      assert.equal([...spans.values()].join('').trim(), '光合作用');
      assert.ok(tokenized.length > spans.size, 'byte-fallback tokens share the span of their character');
    });

    it("tokenizes in TGI's shape with spans that cover the input", async () => {
      const res = await postJson(`${engine.url}/tokenize`, { inputs: 'Hello world' });
      assert.equal(res.status, 200);
      assertMatchesTgiSchema('TokenizeResponse', res.json());
      const tokens = res.json<Array<{ text: string; start: number; stop: number }>>();
      for (let i = 1; i < tokens.length; i++) assert.equal(tokens[i]!.start, tokens[i - 1]!.stop);
    });

    it('exposes TGI-named Prometheus metrics', async () => {
      const res = await request(`${engine.url}/metrics`);
      assert.equal(res.status, 200);
      for (const name of [
        'tgi_request_count',
        'tgi_request_success',
        'tgi_queue_size',
        'tgi_batch_current_size',
        'tgi_request_duration_bucket',
        'tgi_request_mean_time_per_token_duration_bucket',
        'tgi_request_generated_tokens_bucket',
        'tgi_request_queue_duration_bucket',
      ]) {
        assert.match(res.text, new RegExp(`^${name}`, 'm'), name);
      }
      const successes = Number(res.text.match(/^tgi_request_success (\d+)/m)?.[1]);
      assert.ok(successes > 10);
    });
  });
}
