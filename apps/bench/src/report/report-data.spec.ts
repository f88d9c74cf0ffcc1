import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { syntheticRecord } from '../metrics/test-records.js';
import { timeline } from './report-data.js';

describe("timeline (the report's per-window throughput and latency)", () => {
  // 10 answers a second for 10 s, then two stragglers 50 ms after the load stopped.
  const steady = Array.from({ length: 100 }, (_, i) =>
    syntheticRecord({ id: i, intended_ms: i * 100, sent_ms: i * 100, end_ms: i * 100 + 50 }),
  );
  const stragglers = [10_020, 10_050].map((end, i) =>
    syntheticRecord({ id: 100 + i, intended_ms: end - 100, sent_ms: end - 100, end_ms: end }),
  );

  it('puts each answer in the window it ended in, at the steady rate', () => {
    const { window_s, windows } = timeline(steady, { startMs: 0, stopMs: 10_000 });
    assert.equal(window_s, 1);
    assert.equal(windows.length, 10);
    assert.deepEqual(
      windows.map((w) => w.qps),
      Array(10).fill(10),
    );
    assert.equal(
      windows.reduce((n, w) => n + w.ok, 0),
      100,
    );
  });

  it('folds a last sliver of a window into the one before instead of drawing a spike', () => {
    const { windows } = timeline([...steady, ...stragglers], { startMs: 0, stopMs: 10_000 });
    assert.equal(windows.length, 10);
    assert.equal(
      windows.reduce((n, w) => n + w.ok, 0),
      102,
      'no answer lost',
    );
    const last = windows.at(-1)!;
    assert.equal(last.t_s, 10.05);
    assert.ok(last.qps < 12, `last window ${last.qps}/s, not the 40/s a 50 ms window would show`);
  });
});
