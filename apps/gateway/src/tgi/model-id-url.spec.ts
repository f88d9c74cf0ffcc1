import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeSlashInModelId } from './model-id-url.js';

describe('a model id with a raw `/` is encoded before routing', () => {
  it('encodes the one `/` of an id before a TGI route segment, or at the end, keeping the query', () => {
    assert.equal(encodeSlashInModelId('/models/Qwen/Qwen2-7B/generate'), '/models/Qwen%2FQwen2-7B/generate');
    assert.equal(
      encodeSlashInModelId('/models/Qwen/Qwen2-7B/v1/completions'),
      '/models/Qwen%2FQwen2-7B/v1/completions',
    );
    assert.equal(encodeSlashInModelId('/models/Qwen/Qwen2-7B?x=1'), '/models/Qwen%2FQwen2-7B?x=1');
    assert.equal(encodeSlashInModelId('/v1/models/Qwen/Qwen2-7B'), '/v1/models/Qwen%2FQwen2-7B');
  });

  it('leaves plain ids, encoded ids and every other URL as they are', () => {
    for (const url of [
      '/models/qwen2/generate',
      '/models/qwen2/v1/completions',
      '/models/qwen2',
      '/models/Qwen%2FQwen2-7B/info',
      '/models',
      '/models/',
      '/v1/generate',
      '/v1/models',
      '/v1/models/qwen2',
      '/v1/models/a/b/c',
    ])
      assert.equal(encodeSlashInModelId(url), url);
  });
});
