import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IncrementalDecoder, StopSequenceMatcher } from './incremental-decoder.js';

/** A byte-level detokenizer: token n is byte n, so a CJK character takes three tokens. */
const bytes = {
  detokenize: (tokens: readonly number[]) => new TextDecoder().decode(Uint8Array.from(tokens)),
};

describe('IncrementalDecoder', () => {
  it('holds back the bytes of an incomplete character and releases it whole', () => {
    const decoder = new IncrementalDecoder(bytes, []);
    const pieces = [...new TextEncoder().encode('a光b')].map((t) => decoder.push(t));
    assert.deepEqual(pieces, ['a', '', '', '光', 'b']);
  });

  it('peeks at what a token would add without taking it', () => {
    const decoder = new IncrementalDecoder(bytes, []);
    const [first, second, third] = new TextEncoder().encode('光');
    decoder.push(first!);
    assert.equal(decoder.peek(second!), '');
    assert.equal(decoder.peek('a'.charCodeAt(0)), '\uFFFDa');
    decoder.push(second!);
    assert.equal(decoder.peek(third!), '光');
    assert.equal(decoder.push(third!), '光');
  });

  it('flushes what is pending at the end', () => {
    const decoder = new IncrementalDecoder(bytes, []);
    const [first, second] = new TextEncoder().encode('光');
    decoder.push(first!);
    decoder.push(second!);
    assert.equal(decoder.flush(), '\uFFFD');
  });
});

describe('StopSequenceMatcher', () => {
  it('finds a stop sequence split across pieces', () => {
    const matcher = new StopSequenceMatcher(['END']);
    assert.equal(matcher.push('the E'), undefined);
    assert.equal(matcher.push('N'), undefined);
    assert.equal(matcher.push('D.'), 'END');
  });

  it('finds single-character stops and ignores text already searched', () => {
    const matcher = new StopSequenceMatcher(['.']);
    assert.equal(matcher.push('abc'), undefined);
    assert.equal(matcher.push('d. e'), '.');
  });

  it('never matches without stop sequences', () => {
    assert.equal(new StopSequenceMatcher([]).push('anything'), undefined);
  });
});
