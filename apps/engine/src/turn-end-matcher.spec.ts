import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TurnEndMatcher } from './turn-end-matcher.js';

describe('TurnEndMatcher', () => {
  const run = (markers: string[], pieces: string[]) => {
    const matcher = new TurnEndMatcher(markers);
    const shown: string[] = [];
    for (const piece of pieces) {
      const { text, ended } = matcher.push(piece);
      shown.push(text);
      if (ended) return { shown, ended: true };
    }
    shown.push(matcher.flush());
    return { shown, ended: false };
  };

  it('passes text through unchanged when there is no marker', () => {
    assert.deepEqual(run([], ['a', '#', 'b']), { shown: ['a', '#', 'b', ''], ended: false });
  });

  it('holds back what may start a marker and drops the marker, even split across pieces', () => {
    const { shown, ended } = run(['\n### User'], ['Hello', '\n#', '## Us', 'er', ' more']);
    assert.equal(ended, true);
    assert.equal(shown.join(''), 'Hello');
    assert.deepEqual(shown.slice(0, 2), ['Hello', '']);
  });

  it('releases held text that turned out not to be a marker', () => {
    const { shown, ended } = run(['### User'], ['a ##', '# Q', 'uiz']);
    assert.equal(ended, false);
    assert.equal(shown.join(''), 'a ### Quiz');
    assert.equal(shown[0], 'a ');
  });

  it('ends at the earliest of several markers', () => {
    assert.equal(run(['<end>', 'B'], ['xx<end>yyB']).shown.join(''), 'xx');
  });
});
