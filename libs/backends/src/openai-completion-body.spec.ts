import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from './gateway-error.js';
import type { ChatGenerationRequest } from './inference-backend.js';
import { toChatBody } from './openai-chat-body.js';
import { toCompletionBody } from './openai-completion-body.js';
import { testChatRequest } from './testing/chat-request.js';

describe('toCompletionBody: TGI parameters as an OpenAI-protocol completion', () => {
  it('maps every parameter that has a counterpart, streamed with the usage asked for', () => {
    const body = toCompletionBody(
      'Once',
      {
        max_new_tokens: 32,
        temperature: 0.7,
        top_p: 0.9,
        top_k: 40,
        seed: 7,
        stop: ['\n'],
        frequency_penalty: 0.5,
        repetition_penalty: 1.1,
        details: true,
      },
      'served',
    );
    assert.deepEqual(body, {
      model: 'served',
      prompt: 'Once',
      max_tokens: 32,
      temperature: 0.7,
      top_p: 0.9,
      top_k: 40,
      seed: 7,
      stop: ['\n'],
      frequency_penalty: 0.5,
      repetition_penalty: 1.1,
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('decodes greedily where TGI does (no sampling asked for) with temperature 0, and leaves out filters', () => {
    assert.equal(toCompletionBody('x', {}, undefined).temperature, 0);
    assert.equal(toCompletionBody('x', { do_sample: false, seed: 3 }, undefined).temperature, 0);
    // TGI's rule: temperature 1 alone is no logits warper, so still greedy.
    assert.equal(toCompletionBody('x', { temperature: 1 }, undefined).temperature, 0);
    const greedyWithFilters = toCompletionBody('x', { do_sample: false, top_p: 1, top_k: 0 }, undefined);
    assert.deepEqual(
      [greedyWithFilters.temperature, greedyWithFilters.top_p, greedyWithFilters.top_k],
      [0, undefined, undefined],
    );
    assert.equal('model' in toCompletionBody('x', {}, undefined), false, 'no model: the server uses its one');
  });

  it('samples at TGI temperature 1 when do_sample or any warper is set', () => {
    assert.equal(toCompletionBody('x', { do_sample: true }, undefined).temperature, 1);
    assert.equal(toCompletionBody('x', { top_k: 5 }, undefined).temperature, 1);
    assert.equal(toCompletionBody('x', { top_p: 0.5 }, undefined).temperature, 1);
    assert.equal(toCompletionBody('x', { do_sample: false, temperature: 0.3 }, undefined).temperature, 0.3);
  });

  it('refuses with 422 every parameter it cannot send, naming them', () => {
    const refusal = (parameters: Record<string, unknown>) => {
      try {
        toCompletionBody('x', parameters, undefined);
      } catch (error) {
        assert.ok(error instanceof GatewayError);
        return error;
      }
      return assert.fail('expected a refusal');
    };
    const error = refusal({ top_n_tokens: 2, typical_p: 0.5, grammar: { type: 'regex', value: 'a+' } });
    assert.deepEqual([error.type, error.status, error.param], ['validation', 422, 'top_n_tokens']);
    assert.match(error.message, /`top_n_tokens`, `typical_p`, `grammar`: leave them out/);
    for (const name of ['decoder_input_details', 'truncate', 'watermark', 'adapter_id'])
      assert.match(
        refusal({ [name]: name === 'truncate' ? 8 : name === 'adapter_id' ? 'lora' : true }).message,
        new RegExp(`\`${name}\``),
      );
    assert.match(refusal({ best_of: 2 }).message, /`best_of`: leave it out/);
  });

  it('accepts the unmappable ones at their TGI defaults (they ask for nothing)', () => {
    assert.doesNotThrow(() =>
      toCompletionBody(
        'x',
        { top_n_tokens: 0, decoder_input_details: false, best_of: 1, watermark: false, grammar: null, truncate: null },
        undefined,
      ),
    );
  });
});

describe('toChatBody: a gateway chat request as an OpenAI-protocol chat completion', () => {
  it('sends the fields as they are, streamed with usage, the served model named', () => {
    const body = JSON.parse(toChatBody(testChatRequest('Hi', { temperature: 0, seed: 1, stop: ['.'] }), 'served'));
    assert.deepEqual(body, {
      model: 'served',
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 64,
      temperature: 0,
      seed: 1,
      stop: ['.'],
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it("turns TGI's grammar back into OpenAI's response_format, and refuses a regex", () => {
    const format = (response_format: ChatGenerationRequest['response_format']) =>
      JSON.parse(toChatBody(testChatRequest('Hi', { response_format }), undefined)).response_format;
    assert.deepEqual(format({ type: 'json', value: { type: 'object' } }), { type: 'json_object' });
    const schema = { type: 'object', properties: { a: { type: 'string' } } };
    assert.deepEqual(format({ type: 'json', value: schema }), {
      type: 'json_schema',
      json_schema: { name: 'response', schema },
    });
    assert.deepEqual(format({ type: 'json_schema', value: { name: 'person', schema } }), {
      type: 'json_schema',
      json_schema: { name: 'person', schema },
    });
    assert.throws(() => format({ type: 'regex', value: 'a+' }), {
      name: 'GatewayError',
      message: /regex response_format/,
    });
  });
});
