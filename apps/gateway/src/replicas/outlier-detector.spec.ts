import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mostEjected, OutlierDetector, OutlierRecord } from './outlier-detector.js';

function detector(failures = 3) {
  let now = 1_000_000;
  const outliers = new OutlierDetector({ failures, ejectionMs: 1000, maxEjectionMs: 2500 }, () => now);
  return { outliers, advance: (ms: number) => (now += ms), now: () => now };
}

describe('OutlierDetector', () => {
  it('ejects a replica after `failures` failed calls in a row; a success in between starts the count again', () => {
    const { outliers } = detector(3);
    const [a, b] = [new OutlierRecord(), new OutlierRecord()];
    assert.equal(outliers.failure(a, [a, b]), false);
    assert.equal(outliers.failure(a, [a, b]), false);
    outliers.success(a);
    assert.equal(outliers.failure(a, [a, b]), false);
    assert.equal(outliers.failure(a, [a, b]), false);
    assert.equal(outliers.failure(a, [a, b]), true);
    assert.equal(a.ejected, true);
    assert.equal(a.ejections, 1);
  });

  it('lets an ejected replica back only on a ready probe after its time, which grows with each ejection up to the cap', () => {
    const { outliers, advance, now } = detector(1);
    const [a, b] = [new OutlierRecord(), new OutlierRecord()];
    const ejectedFor: number[] = [];
    for (let round = 0; round < 4; round++) {
      assert.equal(outliers.failure(a, [a, b]), true);
      ejectedFor.push(a.ejectedUntil! - now());
      assert.equal(outliers.probe(a, true), false, 'too early');
      advance(a.ejectedUntil! - now());
      assert.equal(outliers.probe(a, false), false, 'not ready');
      assert.equal(outliers.probe(a, true), true);
      assert.equal(a.ejected, false);
    }
    assert.deepEqual(ejectedFor, [1000, 2000, 2500, 2500]);
  });

  it('never ejects every replica: one of two, one of three, two of four, none of one', () => {
    assert.deepEqual([1, 2, 3, 4, 10].map(mostEjected), [0, 1, 1, 2, 5]);
    const { outliers } = detector(1);
    const [a, b] = [new OutlierRecord(), new OutlierRecord()];
    assert.equal(outliers.failure(a, [a, b]), true);
    assert.equal(outliers.failure(b, [a, b]), false, 'the last one in stays in');
    assert.equal(b.ejected, false);
    const alone = new OutlierRecord();
    assert.equal(outliers.failure(alone, [alone]), false);
  });

  it('ejects nothing with failures 0 (off)', () => {
    const { outliers } = detector(0);
    const [a, b] = [new OutlierRecord(), new OutlierRecord()];
    for (let i = 0; i < 10; i++) assert.equal(outliers.failure(a, [a, b]), false);
  });
});
