import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatSpread, roundOrders, spreadOf } from './overhead-rounds.js';

describe('bench overhead rounds: leg order', () => {
  it('alternates forward and reversed (ABBA), so each leg runs as often early as late', () => {
    const orders = roundOrders(['direct', 'proxy', 'gateway'], 4);
    assert.deepEqual(orders, [
      ['direct', 'proxy', 'gateway'],
      ['gateway', 'proxy', 'direct'],
      ['direct', 'proxy', 'gateway'],
      ['gateway', 'proxy', 'direct'],
    ]);
    // Over an even number of rounds every leg's mean position is the middle: a steady drift favours none.
    for (const leg of ['direct', 'proxy', 'gateway']) {
      const positions = orders.map((o) => o.indexOf(leg));
      assert.equal(positions.reduce((a, b) => a + b, 0) / positions.length, 1);
    }
  });

  it('runs the order of --legs once for one round, and leaves the given list untouched', () => {
    const legs = ['direct', 'gateway'];
    assert.deepEqual(roundOrders(legs, 1), [['direct', 'gateway']]);
    roundOrders(legs, 2);
    assert.deepEqual(legs, ['direct', 'gateway']);
  });
});

describe('bench overhead rounds: median and range', () => {
  it('takes the middle round for an odd count and the mean of the middle two for an even one', () => {
    assert.deepEqual(spreadOf([3, 1, 2]), { median: 2, min: 1, max: 3 });
    assert.deepEqual(spreadOf([4, 1, 2, 10]), { median: 3, min: 1, max: 10 });
  });

  it('skips rounds without the figure, and has none when no round has it', () => {
    assert.deepEqual(spreadOf([null, 5, undefined, 7]), { median: 6, min: 5, max: 7 });
    assert.equal(spreadOf([null, null]), null);
    assert.equal(spreadOf([]), null);
  });

  it('keeps negative figures (noise larger than the cost) and rounds to the microsecond', () => {
    assert.deepEqual(spreadOf([-0.5, 0.25, 1.0004]), { median: 0.25, min: -0.5, max: 1 });
  });

  it('prints the median with the range, or the figure alone for one round', () => {
    const s = spreadOf([1, 2, 4])!;
    assert.equal(formatSpread(s, 3), '2.000 (1.000–4.000)');
    assert.equal(formatSpread(s, 3, 1, '×'), '2.0× (1.0–4.0)');
    assert.equal(formatSpread(spreadOf([2.5]), 1), '2.500');
    assert.equal(formatSpread(null, 3), '—');
  });
});
