import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { assertMatchesTgiSchema } from '#backends/testing';
import { SHIPPED_MODELS, startReadyEngine, waitUntilIdle, type RunningEngine } from '#test-support/engine';
import { openStream, postJson, request, sseData } from '#test-support/http-client';

/** A streamed answer: its JSON events, after checking that `[DONE]` comes last and only there. */
function streamedEvents(text: string): any[] {
  const data = sseData(text);
  assert.equal(data.at(-1), '[DONE]', `the stream must end with [DONE]: ${text.slice(-300)}`);
  assert.equal(data.filter((d) => d === '[DONE]').length, 1);
  return data.slice(0, -1).map((d) => JSON.parse(d));
}

const hello = [
  { role: 'system', content: 'You answer briefly.' },
  {
    role: 'user',
    content: [
      { type: 'text', text: 'Tell me ' },
      { type: 'text', text: 'about the sun.' },
    ],
  },
];

describe('engine: TGI 3.x routes for OpenAI clients, on the shipped qwen2 model', () => {
  let engine: RunningEngine;
  const chat = (body: Record<string, unknown>) =>
    postJson(`${engine.url}/v1/chat/completions`, { model: 'tgi', messages: hello, ...body });
  const completions = (body: Record<string, unknown>) => postJson(`${engine.url}/v1/completions`, body);

  before(async () => {
    // One sequence: a request is served only once the one before it has given its sequence back.
    engine = await startReadyEngine(SHIPPED_MODELS.qwen2, ['--sequences', '1']);
  });
  after(() => engine?.stop());

  it('answers a chat completion with usage; greedy (temperature 0) and seeded sampling repeat themselves', async () => {
    const greedy = await chat({ max_tokens: 24, temperature: 0 });
    assert.equal(greedy.status, 200);
    const body = greedy.json();
    assertMatchesTgiSchema('ChatCompletion', body);
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.choices.length, 1);
    assert.equal(body.choices[0].message.role, 'assistant');
    assert.ok(['stop', 'length'].includes(body.choices[0].finish_reason), body.choices[0].finish_reason);
    assert.equal(body.choices[0].logprobs, null);
    assert.ok(body.usage.prompt_tokens > 0);
    assert.ok(body.usage.completion_tokens > 0 && body.usage.completion_tokens <= 24);
    assert.equal(body.usage.total_tokens, body.usage.prompt_tokens + body.usage.completion_tokens);
    assert.equal(
      (await chat({ max_tokens: 24, temperature: 0 })).json().choices[0].message.content,
      body.choices[0].message.content,
    );

    const seeded = { max_tokens: 24, temperature: 1.2, seed: 77 };
    const a = (await chat(seeded)).json().choices[0].message.content;
    assert.equal((await chat(seeded)).json().choices[0].message.content, a);
    const others = await Promise.all([1, 2, 3].map(async (seed) => (await chat({ ...seeded, seed })).json()));
    assert.ok(
      others.some((o) => o.choices[0].message.content !== a),
      'other seeds should give other text: sampling is the default',
    );
  });

  it('streams chunks with the role, the finish reason on the last choice chunk, then [DONE]', async () => {
    const plain = (await chat({ max_tokens: 16, temperature: 0 })).json();
    const res = await chat({ max_tokens: 16, temperature: 0, stream: true });
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /text\/event-stream/);
    const events = streamedEvents(res.text);
    for (const event of events) assertMatchesTgiSchema('ChatCompletionChunk', event);
    assert.ok(events.every((e) => e.object === 'chat.completion.chunk' && e.choices.length === 1));
    assert.equal(events[0].choices[0].delta.role, 'assistant');
    assert.ok(events.slice(0, -1).every((e) => e.choices[0].finish_reason === null));
    assert.equal(events.at(-1).choices[0].finish_reason, plain.choices[0].finish_reason);
    assert.equal(events.length, plain.usage.completion_tokens);
    assert.equal(events.map((e) => e.choices[0].delta.content).join(''), plain.choices[0].message.content);
    assert.ok(
      events.every((e) => e.usage === null || e.usage === undefined),
      'no usage without include_usage',
    );
  });

  it('adds a usage chunk with no choices before [DONE] when stream_options.include_usage is set', async () => {
    const res = await chat({ max_tokens: 8, stream: true, stream_options: { include_usage: true } });
    const events = streamedEvents(res.text);
    for (const event of events) assertMatchesTgiSchema('ChatCompletionChunk', event);
    const usage = events.at(-1);
    assert.deepEqual(usage.choices, []);
    assert.equal(usage.usage.completion_tokens, events.length - 1);
    assert.equal(usage.usage.total_tokens, usage.usage.prompt_tokens + usage.usage.completion_tokens);
    assert.ok(events.at(-2).choices[0].finish_reason !== null);
  });

  it('stops at a stop sequence and says so', async () => {
    // Seeded sampling repeats itself: the same request with a stop sequence is the same text, cut there.
    const seeded = { max_tokens: 40, temperature: 1, seed: 21 };
    const free = (await chat(seeded)).json().choices[0].message.content as string;
    const at = [...Array(free.length).keys()].find(
      (k) => k >= 4 && /^\S{3}$/.test(free.slice(k, k + 3)) && free.indexOf(free.slice(k, k + 3)) === k,
    );
    assert.ok(at !== undefined, `a piece to stop at expected in ${JSON.stringify(free)}`);
    const stop = free.slice(at, at + 3);
    const stopped = (await chat({ ...seeded, stop: [stop] })).json();
    assertMatchesTgiSchema('ChatCompletion', stopped);
    assert.equal(stopped.choices[0].finish_reason, 'stop_sequence');
    const content: string = stopped.choices[0].message.content;
    assert.ok(
      content.includes(stop) && free.startsWith(content) && content.length < free.length,
      JSON.stringify({ content, stop }),
    );
  });

  it('returns per-token logprobs with top_logprobs alternatives, streamed or not', async () => {
    const body = (await chat({ max_tokens: 6, logprobs: true, top_logprobs: 3, seed: 5 })).json();
    assertMatchesTgiSchema('ChatCompletion', body);
    const content = body.choices[0].logprobs.content;
    assert.equal(content.length, body.usage.completion_tokens);
    for (const entry of content) {
      assert.ok(entry.logprob <= 0);
      assert.equal(entry.top_logprobs.length, 3);
      const probs = entry.top_logprobs.map((t: { logprob: number }) => t.logprob);
      assert.deepEqual(
        probs,
        [...probs].sort((x, y) => y - x),
        'alternatives come most likely first',
      );
    }
    const streamed = streamedEvents(
      (await chat({ max_tokens: 4, logprobs: true, top_logprobs: 1, stream: true })).text,
    );
    for (const event of streamed) {
      assertMatchesTgiSchema('ChatCompletionChunk', event);
      assert.equal(event.choices[0].logprobs.content.length, 1);
      assert.equal(event.choices[0].logprobs.content[0].top_logprobs.length, 1);
    }
  });

  it('constrains the answer to a JSON schema (OpenAI and TGI forms) and to any JSON', async () => {
    const schema = {
      type: 'object',
      // A bound on the string: a word-salad model would otherwise ramble inside it until max_tokens.
      properties: { name: { type: 'string', maxLength: 24 }, age: { type: 'integer' } },
      required: ['name', 'age'],
    };
    const validate = new Ajv().compile(schema);
    const formats = [
      { type: 'json_schema', json_schema: { name: 'person', schema } },
      { type: 'json', value: schema },
      { type: 'json_schema', value: { name: 'person', schema } },
    ];
    for (const response_format of formats) {
      // Enough room for the grammar to close the object.
      const body = (await chat({ max_tokens: 300, seed: 11, response_format })).json();
      assertMatchesTgiSchema('ChatCompletion', body);
      assert.equal(body.choices[0].finish_reason, 'stop', JSON.stringify({ response_format, choice: body.choices[0] }));
      const parsed = JSON.parse(body.choices[0].message.content);
      assert.ok(validate(parsed), JSON.stringify({ parsed, errors: validate.errors }));
    }
    // Any JSON: the grammar holds (an object opens with a key), though this model seldom closes an object whose
    // keys are unbounded within a small budget; the schema cases above show the close.
    const anyJson = (await chat({ max_tokens: 40, seed: 3, response_format: { type: 'json_object' } })).json();
    assertMatchesTgiSchema('ChatCompletion', anyJson);
    const text: string = anyJson.choices[0].message.content;
    if (anyJson.choices[0].finish_reason === 'stop') assert.doesNotThrow(() => JSON.parse(text));
    else assert.match(text, /^\{\s*("|\})/);

    const generated = await postJson(`${engine.url}/generate`, {
      inputs: 'The person:',
      parameters: { max_new_tokens: 300, seed: 4, do_sample: true, grammar: { type: 'json', value: schema } },
    });
    assert.equal(generated.status, 200);
    assert.ok(validate(JSON.parse(generated.json().generated_text)));
  });

  it('answers /v1/completions whole or streamed, and /v1/models with one ModelInfo', async () => {
    const plain = await completions({ prompt: 'The sun', max_tokens: 12, temperature: 0 });
    assert.equal(plain.status, 200);
    assertMatchesTgiSchema('CompletionFinal', plain.json());
    assert.equal(plain.json().object, 'text_completion');
    assert.equal(plain.json().usage.completion_tokens, 12);
    assert.equal(plain.json().choices[0].finish_reason, 'length');
    const fromArray = await completions({ prompt: ['The sun'], max_tokens: 12, temperature: 0 });
    assert.equal(fromArray.json().choices[0].text, plain.json().choices[0].text);

    const streamed = await completions({ prompt: 'The sun', max_tokens: 12, temperature: 0, stream: true });
    const events = streamedEvents(streamed.text);
    for (const event of events.slice(0, -1)) assertMatchesTgiSchema('Chunk', event);
    assertMatchesTgiSchema('CompletionFinal', events.at(-1));
    assert.ok(events.every((e) => e.object === 'text_completion'));
    assert.equal(events.at(-1).choices[0].finish_reason, 'length');
    assert.deepEqual(events.at(-1).usage, plain.json().usage);
    assert.equal(events.map((e) => e.choices[0].text).join(''), plain.json().choices[0].text);

    const models = await request(`${engine.url}/v1/models`);
    assert.equal(models.status, 200);
    assertMatchesTgiSchema('ModelInfo', models.json());
    assert.equal(models.json().object, 'model');
  });

  it('refuses bad input with 422 in TGI error shape', async () => {
    const cases: Array<[string, string, Record<string, unknown>, RegExp]> = [
      ['chat', 'missing messages', { messages: undefined }, /missing field `messages`/],
      ['chat', 'empty messages', { messages: [] }, /`messages` cannot be empty/],
      ['chat', 'a tool role', { messages: [{ role: 'tool', content: 'x' }] }, /`messages\[0\]\.role` must be one of/],
      ['chat', 'content of a wrong type', { messages: [{ role: 'user', content: 42 }] }, /`messages\[0\]\.content`/],
      ['chat', 'an image part', { messages: [{ role: 'user', content: [{ type: 'image_url' }] }] }, /image_url/],
      ['chat', 'n = 2', { n: 2 }, /`n` must be > 0 and <= 1/],
      ['chat', 'tools', { tools: [{ type: 'function', function: { name: 'f' } }] }, /`tools` are not supported/],
      ['chat', 'tool_choice', { tool_choice: 'required' }, /`tool_choice`/],
      ['chat', 'logit_bias', { logit_bias: { '1': 5 } }, /`logit_bias`/],
      ['chat', 'too many stops', { stop: ['a', 'b', 'c', 'd', 'e'] }, /up to 4 stop sequences/],
      ['chat', 'negative temperature', { temperature: -1 }, /`temperature`/],
      ['chat', 'a regex grammar', { response_format: { type: 'regex', value: 'a+' } }, /regex/],
      [
        'chat',
        'a schema llama.cpp cannot compile',
        { response_format: { type: 'json', value: { $defs: { a: { $ref: '#/$defs/a' } }, $ref: '#/$defs/a' } } },
        /grammar is not valid/,
      ],
      ['chat', 'a budget over the context', { max_tokens: 100_000 }, /must be <=/],
      ['completions', 'a suffix', { prompt: 'a', suffix: 'b' }, /Suffix is not supported/],
      ['completions', 'two prompts', { prompt: ['a', 'b'] }, /batch size of 1/],
      ['completions', 'no prompt', {}, /missing field `prompt`/],
    ];
    for (const [route, what, body, message] of cases) {
      const res = route === 'chat' ? await chat(body) : await completions(body);
      assert.equal(res.status, 422, `${what}: ${res.text}`);
      assertMatchesTgiSchema('ErrorResponse', res.json());
      assert.equal(res.json().error_type, 'validation', what);
      assert.match(res.json().error, message, what);
    }
  });

  it('gives the sequence back when a streaming client disconnects: the next request is served', async () => {
    let seen = 0;
    const stream = openStream(
      `${engine.url}/v1/chat/completions`,
      { messages: hello, max_tokens: 900, stream: true },
      () => {
        if (++seen === 3) stream.abort();
      },
    );
    await stream.done;
    await waitUntilIdle(engine.url, 2_000);
    const next = await chat({ max_tokens: 4 });
    assert.equal(next.status, 200);
    assertMatchesTgiSchema('ChatCompletion', next.json());
  });
});
