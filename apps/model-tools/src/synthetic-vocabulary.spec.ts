import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenType } from '#gguf';
import { syntheticVocabulary } from './synthetic-vocabulary.js';

describe('syntheticVocabulary', () => {
  it('starts with <unk>, <s>, </s> and the 256 byte tokens, then unique printable pieces', () => {
    const vocab = syntheticVocabulary(49152);
    assert.equal(vocab.tokens.length, 49152);
    assert.deepEqual(vocab.tokens.slice(0, 5), ['<unk>', '<s>', '</s>', '<0x00>', '<0x01>']);
    assert.equal(vocab.tokens[258], '<0xFF>');
    assert.deepEqual(vocab.tokenTypes.slice(0, 4), [
      TokenType.unknown,
      TokenType.control,
      TokenType.control,
      TokenType.byte,
    ]);
    assert.equal(vocab.tokens[259], '\u2581');
    assert.equal(new Set(vocab.tokens).size, vocab.tokens.length);
    assert.ok(vocab.tokens.slice(259).every((t) => /^\u2581?[\x21-\x7e]*$/.test(t)));
    assert.ok(vocab.tokens.includes('\u2581the'));
    assert.equal(vocab.scores.length, 49152);
    assert.deepEqual([vocab.bosId, vocab.eosId, vocab.unkId], [1, 2, 0]);
  });

  it('refuses a size without room for the byte tokens', () => {
    assert.throws(() => syntheticVocabulary(259), /at least 260/);
  });
});
