import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GenerationOutcome, TgiStreamEvent } from '#backends';
import { estimatedPromptTokens, TokenMeter } from './token-meter.js';

const outcome = (inputTokens: number, outputTokens: number): GenerationOutcome => ({
  generatedText: '',
  finishReason: 'length',
  inputTokens,
  outputTokens,
  seed: null,
  timings: { firstTokenMs: 1, backendMs: 1 },
});
const event = {} as TgiStreamEvent;

describe('TokenMeter: what a request is charged', () => {
  it("charges the backend's own count when it answered, whatever streamed", () => {
    const meter = new TokenMeter({ inputs: 'x'.repeat(400), parameters: {} });
    meter.relays({}).onToken(event);
    assert.equal(meter.charge({ outcome: outcome(7, 5) }), 12);
  });

  it("charges a failure what streamed, plus the prompt's estimate when the backend may have read it", () => {
    const request = { inputs: 'x'.repeat(41), parameters: {} }; // ceil(41 / 4) = 11
    const seen: TgiStreamEvent[] = [];
    const streamed = new TokenMeter(request);
    const relays = streamed.relays({ onToken: (e) => seen.push(e) });
    relays.onToken(event);
    relays.onToken(event);
    assert.equal(seen.length, 2, "the caller's own callback still gets every token");
    assert.equal(streamed.charge({ failure: { type: 'upstream', cutShort: false } }), 13);

    const silent = new TokenMeter(request);
    assert.equal(silent.charge({ failure: { type: 'timeout', cutShort: false } }), 11);
    assert.equal(silent.charge({ failure: { type: undefined, cutShort: true } }), 11);
    for (const type of ['overloaded', 'unavailable', 'validation'] as const)
      assert.equal(silent.charge({ failure: { type, cutShort: false } }), 0, `${type}: refused before any work`);
  });

  it("estimates a chat's prompt from its messages' text", () => {
    const chat = {
      kind: 'chat' as const,
      max_tokens: 8,
      messages: [
        { role: 'system' as const, content: 'abcd' },
        { role: 'user' as const, content: 'efghi' },
      ],
    };
    assert.equal(estimatedPromptTokens(chat), 3);
    const meter = new TokenMeter(chat);
    meter.relays({}).onDelta({ content: 'x', logprobs: null });
    assert.equal(meter.charge({ failure: { type: undefined, cutShort: true } }), 4);
  });
});
