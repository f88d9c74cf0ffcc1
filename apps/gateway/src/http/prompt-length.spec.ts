import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startInProcessGateway, type InProcessGateway } from '../testing/in-process-gateway.js';
import { MAX_PROMPT_CHARS, withinPromptLength } from './prompt-length.js';

describe('the prompt length bound (100,000 characters) on every generation route', () => {
  let gateway: InProcessGateway;
  const post = (url: string, body: unknown) =>
    gateway.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });

  before(async () => {
    gateway = await startInProcessGateway({ bodyLimitBytes: 4 * 1_048_576 });
  });
  after(() => gateway?.close());

  it('counts characters, not UTF-16 units: 100,000 emoji are within it, 100,001 are not', () => {
    assert.equal(withinPromptLength('😀'.repeat(MAX_PROMPT_CHARS)), true);
    assert.equal(withinPromptLength('😀'.repeat(MAX_PROMPT_CHARS + 1)), false);
    assert.equal(withinPromptLength('a'.repeat(MAX_PROMPT_CHARS + 1)), false);
  });

  it('refuses a longer prompt on /v1/generate, /v1/completions, /v1/chat/completions, the TGI routes, and over all messages', async () => {
    const long = 'a'.repeat(MAX_PROMPT_CHARS + 1);
    const answers = {
      generate: await post('/v1/generate', { model_id: 'qwen2', inputs: long }),
      completions: await post('/v1/completions', { model: 'qwen2', prompt: long }),
      chat: await post('/v1/chat/completions', { model: 'qwen2', messages: [{ role: 'user', content: long }] }),
      tgi: await post('/models/qwen2/generate', { inputs: long }),
    };
    assert.equal(answers.generate.statusCode, 422);
    assert.match(answers.generate.json().error, /inputs must be shorter than or equal to 100000 characters/);
    assert.equal(answers.completions.statusCode, 400);
    assert.match(answers.completions.json().error.message, /prompt must be a non-empty string of at most 100000/);
    assert.equal(answers.chat.statusCode, 400);
    assert.match(answers.chat.json().error.message, /content must be .* of at most 100000 characters/);
    assert.equal(answers.tgi.statusCode, 422);
    assert.match(answers.tgi.json().error, /`inputs` must have at most 100000 characters/);
    const split = 'a'.repeat(MAX_PROMPT_CHARS / 2 + 1);
    const chat = await post('/v1/chat/completions', {
      model: 'qwen2',
      messages: [
        { role: 'user', content: split },
        { role: 'user', content: [{ type: 'text', text: split }] },
      ],
    });
    assert.equal(chat.statusCode, 400);
    assert.match(chat.json().error.message, /messages must hold at most 100000 characters of text in all/);
    assert.equal(gateway.backend.calls.length + gateway.backend.chatCalls.length, 0, 'no backend saw any of them');
  });
});
