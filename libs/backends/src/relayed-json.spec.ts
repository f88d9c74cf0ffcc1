import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventJson, keepRawJson, RelayedTokenEvent } from './relayed-json.js';

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

  it('a token event before the last is relayed unparsed, and reads as the parsed event when asked', () => {
    const text =
      '{"index":3,"token":{"id":7,"text":"error","logprob":-0.25,"special":false},"top_tokens":[],"generated_text":null,"details":null}';
    const event = RelayedTokenEvent.of(text)!;
    assert.ok(event);
    assert.equal(event.generated_text, null);
    assert.equal(event.details, null);
    assert.equal(eventJson(event), text);
    assert.deepEqual(event.token, { id: 7, text: 'error', logprob: -0.25, special: false });
    assert.equal(event.index, 3);
    assert.deepEqual(
      JSON.parse(JSON.stringify(event)),
      JSON.parse(text),
      'serialised as the event itself (a Redis relay)',
    );
  });

  it('the last event, an error, or a text that is not one JSON line is parsed as before', () => {
    const notRelayed = [
      '{"index":4,"token":{"id":1,"text":"x","logprob":0,"special":false},"generated_text":"x","details":{"finish_reason":"length"}}',
      '{"index":4,"token":{"id":1,"text":"x","logprob":0,"special":false},"generated_text":null,"details":{"finish_reason":"length"}}',
      '{"error":"Request failed during generation","error_type":"generation","generated_text":null,"details":null}',
      '{"index":1,"generated_text":null,\n"details":null}',
      '{"index":1,\n"generated_text":null,"details":null}',
      '{"index":1,"error":"x","generated_text":null,"details":null}',
      ' {"generated_text":null,"details":null}',
      '{"text":"\\"generated_text\\":null \\"details\\":null"}',
    ];
    for (const text of notRelayed) assert.equal(RelayedTokenEvent.of(text), undefined, text);
  });

  it('a token event is relayed whether its null members come last, as TGI writes them, or in another order', () => {
    for (const text of [
      '{"index":2,"token":{"id":7,"text":"a","logprob":-0.25,"special":false},"generated_text":null,"details":null}',
      '{"index":2,"generated_text":null,"details":null,"token":{"id":7,"text":"a","logprob":-0.25,"special":false}}',
      '{"details":null,"index":2,"token":{"id":7,"text":"a","logprob":-0.25,"special":false},"generated_text":null}',
    ]) {
      const event = RelayedTokenEvent.of(text);
      assert.ok(event, text);
      assert.equal(eventJson(event), text);
      assert.equal(event.index, 2);
    }
  });
});
