import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientHealthMonitor } from './client-health.js';

const thresholds = { maxLoopDelayMs: 50, maxScheduleLagMs: 20 };

describe('client saturation detection', () => {
  it('marks a run invalid when the event loop was blocked', async () => {
    const monitor = new ClientHealthMonitor();
    monitor.start();
    // Block the loop for 120 ms at a time, as a client drowning in work would.
    for (let i = 0; i < 8; i++) {
      const until = performance.now() + 120;
      while (performance.now() < until);
      await new Promise((r) => setImmediate(r));
    }
    const report = monitor.finish([], thresholds);
    assert.equal(report.valid, false);
    assert.ok(report.event_loop_delay_ms.p99 > 50, JSON.stringify(report.event_loop_delay_ms));
    assert.match(report.reasons[0]!, /client saturated: event-loop delay p99 .* > 50 ms \(--max-loop-delay-ms\)/);
  });

  it('marks a run invalid when open-loop sends were late beyond the threshold', () => {
    const monitor = new ClientHealthMonitor();
    monitor.start();
    const lags = Array.from({ length: 100 }, (_, i) => (i < 95 ? 1 : 40));
    const report = monitor.finish(lags, thresholds);
    assert.equal(report.schedule_lag_ms.p99, 40);
    assert.equal(report.valid, false);
    assert.ok(report.reasons.some((r) => /schedule lag p99 40 ms > 20 ms/.test(r)));
  });

  it('passes a quiet run and reports the thresholds it used', async () => {
    const monitor = new ClientHealthMonitor();
    monitor.start();
    await new Promise((r) => setTimeout(r, 100));
    const report = monitor.finish([0.5, 1, 2], { maxLoopDelayMs: 1e6, maxScheduleLagMs: 20 });
    assert.equal(report.valid, true, report.reasons.join('; '));
    assert.deepEqual(report.thresholds, { max_loop_delay_ms: 1e6, max_schedule_lag_ms: 20 });
    assert.equal(report.schedule_lag_ms.count, 3);
  });

  it('carries other reasons the run is not a measurement', () => {
    const monitor = new ClientHealthMonitor();
    monitor.start();
    const report = monitor.finish([], { maxLoopDelayMs: 1e6, maxScheduleLagMs: 1e6 }, [
      'no request succeeded: there is no latency to report',
    ]);
    assert.equal(report.valid, false);
  });
});
