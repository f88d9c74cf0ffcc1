import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChatDelta } from '#backends';
import { cutAtStop, StopSequenceHoldback } from './stop-sequence-holdback.js';

const delta = (content: string, logprob?: number): ChatDelta => ({
  content,
  logprobs: logprob === undefined ? null : [{ token: content, logprob, bytes: null, top_logprobs: [] }],
});

/** Pushes each piece, then flushes; returns what would go out, delta by delta. */
function stream(stops: string[], pieces: string[]): string[] {
  const holdback = new StopSequenceHoldback(stops);
  const sent = pieces.flatMap((piece) => holdback.push(delta(piece)));
  return [...sent, ...holdback.flush()].map((d) => d.content);
}

describe('stop sequences are left out of OpenAI answers', () => {
  it('cuts a whole text at the first stop sequence, after an echoed prompt', () => {
    assert.equal(cutAtStop('one two. three. four', ['.', 'three']), 'one two');
    assert.equal(cutAtStop('no stop here', ['.']), 'no stop here');
    assert.equal(cutAtStop('A. said: b. c', ['.'], 'A. said:'.length), 'A. said: b');
  });

  it('sends nothing of a stop sequence split over several deltas, and nothing after it', () => {
    assert.deepEqual(stream(['END'], ['The', ' king E', 'N', 'D and more']), ['The', ' king ']);
    assert.deepEqual(stream(['\n\n'], ['a\n', '\nb']), ['a']);
  });

  it('holds back only while a stop could still be starting, then lets the held deltas go', () => {
    const holdback = new StopSequenceHoldback(['END']);
    assert.deepEqual(holdback.push(delta('a E')), []);
    assert.deepEqual(
      holdback.push(delta('x')).map((d) => d.content),
      ['a E', 'x'],
    );
    assert.deepEqual(holdback.push(delta('EN')), []);
    assert.deepEqual(
      holdback.flush().map((d) => d.content),
      ['EN'],
      'a stop that never completed is text',
    );
  });

  it('keeps the logprobs of the deltas before the stop with their text', () => {
    const holdback = new StopSequenceHoldback(['!']);
    assert.deepEqual(holdback.push(delta('hi', -0.5)), [delta('hi', -0.5)]);
    const [cut] = holdback.push(delta('yo!', -1));
    assert.equal(cut?.content, 'yo');
    assert.deepEqual(
      cut?.logprobs?.map((l) => l.logprob),
      [-1],
    );
    assert.deepEqual(holdback.push(delta('later')), []);
  });

  it('passes every delta straight through when the request has no stop sequences', () => {
    assert.deepEqual(stream([], ['a', 'b']), ['a', 'b']);
  });
});
