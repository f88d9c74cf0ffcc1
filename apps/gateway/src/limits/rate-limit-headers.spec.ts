import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openAiDuration, rateLimitHeaders, retryAfterSeconds } from './rate-limit-headers.js';

describe('rate-limit headers', () => {
  it("writes durations as OpenAI's headers do (Go's form)", () => {
    assert.equal(openAiDuration(0), '0s');
    assert.equal(openAiDuration(250), '250ms');
    assert.equal(openAiDuration(1000), '1s');
    assert.equal(openAiDuration(1500), '1.5s');
    assert.equal(openAiDuration(59_001), '59.001s');
    assert.equal(openAiDuration(60_000), '1m0s');
    assert.equal(openAiDuration(360_000), '6m0s');
    assert.equal(openAiDuration(90_500), '1m30.5s');
  });

  it('rounds Retry-After up to whole seconds, never below 1', () => {
    assert.equal(retryAfterSeconds(0), 1);
    assert.equal(retryAfterSeconds(1), 1);
    assert.equal(retryAfterSeconds(1001), 2);
    assert.equal(retryAfterSeconds(60_000), 60);
  });

  it('sends the trio of each limit the key has, and only those', () => {
    assert.deepEqual(rateLimitHeaders({ requests: { limit: 60, remaining: 59, resetMs: 60_000 } }), {
      'x-ratelimit-limit-requests': '60',
      'x-ratelimit-remaining-requests': '59',
      'x-ratelimit-reset-requests': '1m0s',
    });
    assert.deepEqual(rateLimitHeaders({ tokens: { limit: 1000, remaining: 0, resetMs: 1234 } }), {
      'x-ratelimit-limit-tokens': '1000',
      'x-ratelimit-remaining-tokens': '0',
      'x-ratelimit-reset-tokens': '1.234s',
    });
    assert.deepEqual(rateLimitHeaders({}), {});
  });
});
