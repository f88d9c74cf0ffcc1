import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { CountedHistogram } from './counted-histogram.js';

const BUCKETS = [0.005, 0.01, 0.5, 1, 2.5];
/** Below the first bound, on bounds, between them, above the last. */
const VALUES = [0.001, 0.005, 0.0051, 0.3, 1, 2.4999, 2.5, 7, 0];

/** The same histogram both ways: prom-client's own, and ours. */
function both(labelNames: string[]) {
  const theirs = new Registry();
  const ours = new Registry();
  const histogram = new Histogram({
    name: 'h_seconds',
    help: 'help text',
    labelNames,
    buckets: BUCKETS,
    registers: [theirs],
  });
  const counted = new CountedHistogram('h_seconds', 'help text', labelNames, BUCKETS, ours);
  return { theirs, ours, histogram, counted };
}

describe('CountedHistogram', () => {
  it("writes the same exposition and JSON as prom-client's Histogram fed the same values", async () => {
    const { theirs, ours, histogram, counted } = both(['model']);
    for (const [model, values] of [
      ['a', VALUES],
      ['b"\\\n', VALUES.slice(3)],
    ] as const) {
      const series = counted.labels(model);
      for (const value of values) {
        histogram.labels(model).observe(value);
        series.observe(value);
      }
    }
    assert.equal(await ours.metrics(), await theirs.metrics());
    assert.deepEqual(await ours.getMetricsAsJSON(), await theirs.getMetricsAsJSON());
  });

  it('shows a labelled series from its first value, an unlabelled one from the start, as prom-client does', async () => {
    const labelled = both(['model']);
    labelled.counted.labels('never-observed');
    assert.equal(await labelled.ours.metrics(), await labelled.theirs.metrics());
    const unlabelled = both([]);
    assert.equal(await unlabelled.ours.metrics(), await unlabelled.theirs.metrics());
    assert.match(await unlabelled.ours.metrics(), /^h_seconds_count 0$/m);
  });

  it('counts no value that is not a finite number, and resets to zero with its registry', async () => {
    const { ours, counted } = both([]);
    const series = counted.labels();
    for (const value of [NaN, Infinity, -Infinity, 0.2]) series.observe(value);
    assert.match(await ours.metrics(), /^h_seconds_count 1$/m);
    assert.match(await ours.metrics(), /^h_seconds_sum 0.2$/m);
    ours.resetMetrics();
    assert.match(await ours.metrics(), /^h_seconds_count 0$/m);
    assert.match(await ours.metrics(), /^h_seconds_bucket\{le="\+Inf"\} 0$/m);
  });
});
