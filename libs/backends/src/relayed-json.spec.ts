import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventJson, keepRawJson } from './relayed-json.js';

describe('relaying an event as the backend wrote it', () => {
  it('an unchanged event goes out as its own text; a copy, however alike, is serialised', () => {
    const text = '{"index":1,"token":{"id":5,"text":"\\u00e9","logprob":-0.50,"special":false},"generated_text":null}';
    const event = JSON.parse(text) as Record<string, unknown>;
    keepRawJson(event, text);
    assert.equal(eventJson(event), text);
    const copy = { ...event, details: null };
    assert.equal(eventJson(copy), JSON.stringify(copy));
  });

  it('text with a line break is not kept: it would not be one SSE data line', () => {
    const text = '{"a":\n1}';
    const event = JSON.parse(text) as object;
    keepRawJson(event, text);
    assert.equal(eventJson(event), '{"a":1}');
  });
});
