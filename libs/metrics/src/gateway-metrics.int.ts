import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { GatewayMetrics } from './gateway-metrics.js';
import type { RequestRecord } from './request-record.js';
import { captureStatsd, type StatsdCapture } from './testing/statsd-capture.js';
import { parsePrometheusText } from './testing/prometheus-text.js';

const served = (latencyMs: number): RequestRecord => ({
  modelId: 'qwen2',
  outcome: 'ok',
  latencyMs,
  inputTokens: 3,
  outputTokens: 5,
  queueMs: 0,
  timeToFirstTokenMs: 10,
  overheadMs: 0.2,
});

/**
 * GatewayMetrics records finished requests in batches: whatever reads the figures (a scrape, the console, StatsD's
 * flush, close) must still see every request that finished before it, once.
 */
describe('GatewayMetrics: finished requests recorded in batches', () => {
  let capture: StatsdCapture;
  before(async () => {
    capture = await captureStatsd();
  });
  after(() => capture.close());

  const gatewayMetrics = (flushIntervalMs = 60_000) =>
    new GatewayMetrics(
      { host: '127.0.0.1', port: capture.port, prefix: '', maxBufferBytes: 8192, flushIntervalMs },
      { onStatsdError: (e) => assert.fail(e), processMetrics: false },
    );

  it('a scrape and the console count every finished request, fewer than a batch, and count it once', async () => {
    const metrics = gatewayMetrics();
    for (let i = 0; i < 5; i++) metrics.requestFinished(served(100 + i));
    const first = parsePrometheusText(await metrics.prometheus.exposition());
    assert.equal(first.get('sluice_requests_total{model="qwen2",outcome="ok",route="generate"}'), 5);
    assert.equal(first.get('sluice_request_duration_seconds_count{model="qwen2"}'), 5);
    assert.equal(first.get('sluice_tokens_total{model="qwen2",kind="output"}'), 25);
    metrics.requestFinished(served(200));
    assert.equal(metrics.lastMinuteOf('qwen2').requests, 6);
    assert.equal(metrics.lastMinuteTotal().requests, 6);
    const second = parsePrometheusText(await metrics.prometheus.exposition());
    assert.equal(second.get('sluice_requests_total{model="qwen2",outcome="ok",route="generate"}'), 6);
    assert.equal(second.get('sluice_request_duration_seconds_count{model="qwen2"}'), 6);
    await metrics.close();
  });

  it('a histogram read on its own counts them too', async () => {
    const metrics = gatewayMetrics();
    for (let i = 0; i < 3; i++) metrics.requestFinished(served(50));
    const histogram = await metrics.prometheus.registry.getSingleMetricAsString('sluice_request_duration_seconds');
    assert.match(histogram, /^sluice_request_duration_seconds_count\{model="qwen2"\} 3$/m);
    await metrics.close();
  });

  it('StatsD gets every request at its next flush and at close, in order, none twice', async () => {
    capture.lines.length = 0;
    const metrics = gatewayMetrics(100);
    const latencies = Array.from({ length: 150 }, (_, i) => 10 + i); // two batches and a part
    for (const latency of latencies.slice(0, 100)) metrics.requestFinished(served(latency));
    // The part of a batch held goes out with the next flush (every 100 ms here; a busy machine may be late).
    for (let waited = 0; capture.timings('request.latency').length < 100 && waited < 5_000; waited += 50)
      await sleep(50);
    assert.deepEqual(capture.timings('request.latency'), latencies.slice(0, 100));
    for (const latency of latencies.slice(100)) metrics.requestFinished(served(latency));
    await metrics.close();
    await sleep(50);
    assert.deepEqual(capture.timings('request.latency'), latencies);
    assert.equal(capture.counter('requests.total'), 150);
  });

  it("the console's last minute places a request by when it finished, not when it was recorded", async () => {
    mock.timers.enable({ apis: ['Date'], now: Date.parse('2026-12-07T12:00:00Z') });
    try {
      const metrics = gatewayMetrics();
      metrics.requestFinished(served(100));
      mock.timers.tick(61_000); // read a minute and more later: the request is out of the window
      assert.equal(metrics.lastMinuteTotal().requests, 0);
      metrics.requestFinished(served(100));
      assert.equal(metrics.lastMinuteTotal().requests, 1);
      await metrics.close();
    } finally {
      mock.timers.reset();
    }
  });
});
