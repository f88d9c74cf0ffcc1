import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { plainChatAnswer, plainChunk, plainUsageChunk } from './plain-chat-json.js';

const plainChunkContent = (data: string) => plainChunk(data)?.content;

/** TGI 3.x's ordinary chunk, as its router serialises it. */
function tgiChunk(content: string, created = 1732000000): string {
  return JSON.stringify({
    id: '',
    object: 'chat.completion.chunk',
    created,
    model: 'meta-llama/Llama-3.1-8B-Instruct',
    system_fingerprint: '3.3.6-native',
    choices: [{ index: 0, delta: { role: 'assistant', content }, logprobs: null, finish_reason: null }],
    usage: null,
  });
}

/** vLLM's ordinary chunk: no fingerprint, no role after the first, no usage. */
function vllmChunk(content: string): string {
  return JSON.stringify({
    id: 'chatcmpl-5f1c9b2a8e',
    object: 'chat.completion.chunk',
    created: 1732000000,
    model: 'Qwen/Qwen2.5-7B-Instruct',
    choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }],
  });
}

/**
 * What reading the chunk whole gives, if it is one the plain reading vouches for (text and finish reason only: no
 * error, usage or logprobs); undefined for any other, and for text that is not JSON.
 */
function chunkByParsing(data: string): { content: string; finishReason: unknown } | undefined {
  let chunk: {
    error?: unknown;
    usage?: unknown;
    choices?: Array<{ delta?: { content?: unknown }; logprobs?: unknown; finish_reason?: unknown }>;
  };
  try {
    chunk = JSON.parse(data) as typeof chunk;
  } catch {
    return undefined;
  }
  const choice = chunk.choices?.[0];
  if (chunk.error !== undefined || chunk.usage != null || choice === undefined || choice.logprobs != null)
    return undefined;
  const content = choice.delta?.content ?? '';
  return typeof content === 'string' ? { content, finishReason: choice.finish_reason } : undefined;
}

/** TGI 3.x's answer to a chat nobody streams. */
function tgiAnswer(content: string, finishReason = 'length'): string {
  return JSON.stringify({
    id: '',
    object: 'chat.completion',
    created: 1732000000,
    model: 'meta-llama/Llama-3.1-8B-Instruct',
    system_fingerprint: '3.3.6-native',
    choices: [{ index: 0, message: { role: 'assistant', content }, logprobs: null, finish_reason: finishReason }],
    usage: { prompt_tokens: 9, completion_tokens: 16, total_tokens: 25 },
  });
}

/** What reading an answer whole gives, if it is one the plain reading vouches for (no logprobs); else undefined. */
function answerByParsing(text: string) {
  let answer: {
    choices?: Array<{ message?: { content?: unknown }; logprobs?: unknown; finish_reason?: unknown }>;
    usage?: { prompt_tokens?: unknown; completion_tokens?: unknown };
  };
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch {
    return undefined;
  }
  const choice = answer.choices?.[0];
  if (choice === undefined || choice.logprobs != null) return undefined;
  return {
    content: choice.message?.content,
    finishReason: choice.finish_reason,
    promptTokens: answer.usage?.prompt_tokens,
    completionTokens: answer.usage?.completion_tokens,
  };
}

/** A small deterministic generator, so a failure names its case. */
function rng(seed: number): () => number {
  let state = seed;
  return () => ((state = (state * 1103515245 + 12345) & 0x7fffffff), state / 0x7fffffff);
}

describe('a chat stream chunk read without parsing it', () => {
  it("reads the text of TGI's and vLLM's ordinary chunks, the role-only opening chunk's empty text too", () => {
    assert.equal(plainChunkContent(tgiChunk(' is')), ' is');
    assert.equal(plainChunkContent(vllmChunk('Hello')), 'Hello');
    assert.equal(plainChunkContent(tgiChunk('')), '');
    assert.equal(plainChunkContent(tgiChunk('日本語 🙂')), '日本語 🙂');
  });

  it('decodes escaped text as JSON does', () => {
    for (const text of ['a\nb', 'say "hi"', 'back\\slash', 'tab\there', '\u0001', 'é\u2028', '</script>', '\\u0041'])
      assert.equal(plainChunkContent(tgiChunk(text)), text, JSON.stringify(text));
    const written = tgiChunk('x').replace('"content":"x"', '"content":"\\u00e9\\/\\ud83d\\ude42"');
    assert.equal(plainChunkContent(written), 'é/🙂');
  });

  it("reads the last chunk's finish reason, with or without text", () => {
    const last = tgiChunk(' end').replace('"finish_reason":null', '"finish_reason":"length"');
    assert.deepEqual(plainChunk(last), { content: ' end', finishReason: 'length' });
    const vllmLast = vllmChunk('').replace('"delta":{"content":""}', '"delta":{}').replace('null}]', '"stop"}]');
    assert.deepEqual(plainChunk(vllmLast), { content: '', finishReason: 'stop' });
    assert.deepEqual(plainChunk(tgiChunk('a')), { content: 'a', finishReason: null });
  });

  it("reads the usage chunk's counts", () => {
    const usage = tgiChunk('').replace(
      /"choices":\[.*\],"usage":null/,
      '"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":16,"total_tokens":28}',
    );
    assert.deepEqual(plainUsageChunk(usage), { promptTokens: 12, completionTokens: 16 });
    assert.equal(plainChunk(usage), undefined);
    assert.equal(plainUsageChunk(tgiChunk('a')), undefined);
    assert.equal(plainUsageChunk(usage.replace('"prompt_tokens":12', '"prompt_tokens":1.5')), undefined);
  });

  it('leaves every other chunk to be parsed whole', () => {
    const ordinary = tgiChunk('a');
    const others = {
      'an unknown finish reason': ordinary.replace('"finish_reason":null', '"finish_reason":"tool_calls"'),
      logprobs: ordinary.replace('"logprobs":null', '"logprobs":{"content":[]}'),
      'a usage': ordinary.replace('"usage":null', '"usage":{"prompt_tokens":1,"completion_tokens":1}'),
      'the usage chunk': ordinary.replace(/"choices":\[.*\]/, '"choices":[]'),
      'an error': '{"error":{"message":"boom","type":"server_error"}}',
      'a second choice': ordinary.replace('"index":0', '"index":1'),
      spacing: ordinary.replace('"id":""', '"id": ""'),
      'another key order': ordinary.replace(
        '"id":"","object":"chat.completion.chunk"',
        '"object":"chat.completion.chunk","id":""',
      ),
      'another object': ordinary.replace('chat.completion.chunk', 'text_completion'),
      'an escape JSON refuses': ordinary.replace('"content":"a"', '"content":"\\x41"'),
      'a short \\u escape': ordinary.replace('"content":"a"', '"content":"\\u00e"'),
      'a raw control character': ordinary.replace('"content":"a"', '"content":"a\u0001"'),
      'a raw line break': ordinary.replace('"content":"a"', '"content":"a\nb"'),
      'an escape in the id': ordinary.replace('"id":""', '"id":"a\\"b"'),
      'a leading zero': ordinary.replace('"created":1732000000', '"created":01732000000'),
      'a fraction': ordinary.replace('"created":1732000000', '"created":1732000000.5'),
      'content that is not a string': ordinary.replace('"content":"a"', '"content":null'),
      'a role without content': ordinary.replace(',"content":"a"', ''),
      'more after the object': `${ordinary} `,
      'two objects': `${ordinary}${ordinary}`,
      'an unclosed string': ordinary.replace('"content":"a"', '"content":"a'),
    };
    for (const [what, data] of Object.entries(others)) assert.equal(plainChunkContent(data), undefined, what);
  });

  it('agrees with parsing the chunk whole on random texts, and vouches for no chunk that is not JSON', () => {
    const random = rng(17);
    const alphabet = ['a', ' ', '"', '\\', '\n', '\u0000', '\u001f', 'é', '🙂', '/', 'u', '{', '}', ',', ':', '0'];
    for (let i = 0; i < 5000; i++) {
      let text = '';
      for (let n = Math.floor(random() * 8); n > 0; n--) text += alphabet[Math.floor(random() * alphabet.length)];
      const data = random() < 0.5 ? tgiChunk(text) : vllmChunk(text);
      assert.equal(plainChunkContent(data), text, `case ${i}: ${data}`);
    }
    // Chunks bent a character at a time: whatever the plain reading accepts, parsing reads the same.
    const marks = ['"', '\\', '{', '}', '[', ']', ',', ':', 'n', '0', ' ', '\n', 'u', 'x'];
    let accepted = 0;
    for (let i = 0; i < 20000; i++) {
      const pick = random();
      const base =
        pick < 0.4
          ? tgiChunk('a\\"b')
          : pick < 0.8
            ? vllmChunk('text')
            : tgiChunk('z').replace('"finish_reason":null', '"finish_reason":"eos_token"');
      const at = Math.floor(random() * base.length);
      const mark = marks[Math.floor(random() * marks.length)]!;
      const kind = random();
      const bent =
        kind < 0.33
          ? base.slice(0, at) + mark + base.slice(at)
          : kind < 0.66
            ? base.slice(0, at) + base.slice(at + 1)
            : base.slice(0, at) + mark + base.slice(at + 1);
      const plain = plainChunkContent(bent);
      if (plain === undefined) continue;
      accepted++;
      assert.deepEqual(plainChunk(bent), chunkByParsing(bent), `case ${i}: ${bent}`);
    }
    assert.ok(accepted > 1000, `${accepted} bent chunks read plainly: the check above compared them`);
  });
});

describe('a chat answer read without parsing it', () => {
  it("reads TGI's ordinary answer: its text, finish reason and usage", () => {
    assert.deepEqual(plainChatAnswer(tgiAnswer('Hi "there"\n', 'stop')), {
      content: 'Hi "there"\n',
      finishReason: 'stop',
      promptTokens: 9,
      completionTokens: 16,
    });
    const withoutFingerprint = tgiAnswer('x').replace(',"system_fingerprint":"3.3.6-native"', '');
    assert.equal(plainChatAnswer(withoutFingerprint)?.content, 'x');
  });

  it('leaves every other answer to be parsed whole', () => {
    const ordinary = tgiAnswer('a');
    const others = {
      logprobs: ordinary.replace('"logprobs":null', '"logprobs":{"content":[]}'),
      'an unknown finish reason': ordinary.replace('"finish_reason":"length"', '"finish_reason":"tool_calls"'),
      'no usage': ordinary.replace(/,"usage":\{.*\}\}$/, '}'),
      "vLLM's message": ordinary.replace('"content":"a"}', '"content":"a","tool_calls":[]}'),
      'a chunk': ordinary.replace('"chat.completion"', '"chat.completion.chunk"'),
      'an error': '{"error":{"message":"boom","type":"server_error"}}',
      spacing: ordinary.replace('"usage":{', '"usage": {'),
      'a negative count': ordinary.replace('"prompt_tokens":9', '"prompt_tokens":-9'),
      'a fractional count': ordinary.replace('"prompt_tokens":9', '"prompt_tokens":9.0'),
    };
    for (const [what, text] of Object.entries(others)) assert.equal(plainChatAnswer(text), undefined, what);
  });

  it('vouches for no answer that reads otherwise when parsed whole', () => {
    const random = rng(29);
    const marks = ['"', '\\', '{', '}', '[', ']', ',', ':', 'n', '0', '9', ' ', 'u', 'x'];
    let accepted = 0;
    for (let i = 0; i < 20000; i++) {
      const base = tgiAnswer('te\\"xt');
      const at = Math.floor(random() * base.length);
      const mark = marks[Math.floor(random() * marks.length)]!;
      const bent = base.slice(0, at) + mark + base.slice(at + (random() < 0.5 ? 0 : 1));
      const plain = plainChatAnswer(bent);
      if (plain === undefined) continue;
      accepted++;
      assert.deepEqual(plain, answerByParsing(bent), `case ${i}: ${bent}`);
    }
    assert.ok(accepted > 1000, `${accepted} bent answers read plainly: the check above compared them`);
  });
});
