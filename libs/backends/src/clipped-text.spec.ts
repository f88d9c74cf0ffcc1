import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clipText } from './clipped-text.js';

describe('clipText', () => {
  it('leaves text within the bound as it is', () => {
    assert.equal(clipText('short', 10), 'short');
    assert.equal(clipText('x'.repeat(1000), 1000), 'x'.repeat(1000));
  });

  it('cuts longer text to the bound, saying how many characters were left out', () => {
    const clipped = clipText('k'.repeat(500_000), 1000);
    assert.ok([...clipped].length <= 1000, `${[...clipped].length} characters`);
    const kept = clipped.match(/^k+/)![0].length;
    assert.equal(clipped, `${'k'.repeat(kept)}… (${500_000 - kept} more characters)`);
  });

  it('counts and cuts by code point, never between the halves of an emoji', () => {
    const clipped = clipText('😀'.repeat(2000), 100);
    assert.ok([...clipped].length <= 100);
    assert.doesNotMatch(clipped, /[\uD800-\uDBFF](?![\uDC00-\uDFFF])/, 'no lone high surrogate');
    const kept = [...clipped.match(/^(?:😀)+/u)![0]].length;
    assert.match(clipped, new RegExp(`… \\(${2000 - kept} more characters\\)$`));
  });
});
