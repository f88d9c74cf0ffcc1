import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { captureStatsd, type StatsdCapture } from './testing/statsd-capture.js';
import { StatsdMetrics } from './statsd-metrics.js';

describe('StatsdMetrics (hot-shots, read off the wire)', () => {
  let capture: StatsdCapture;
  before(async () => {
    capture = await captureStatsd();
  });
  after(() => capture.close());

  async function recorded(prefix: string, record: (metrics: StatsdMetrics) => void) {
    capture.lines.length = 0;
    capture.datagramBytes.length = 0;
    const metrics = new StatsdMetrics(
      { host: '127.0.0.1', port: capture.port, prefix, maxBufferBytes: 1400, flushIntervalMs: 60_000 },
      (e) => assert.fail(e),
    );
    record(metrics);
    await metrics.close(); // sends the batched counters and the buffer
    await sleep(50);
  }

  it("sends a served request as the guide's counters (summed) and timers (one value per request, 0.01 ms)", async () => {
    await recorded('', (metrics) => {
      metrics.recordRequest({
        modelId: 'qwen2',
        outcome: 'ok',
        latencyMs: 120.123456,
        inputTokens: 10,
        outputTokens: 64,
        queueMs: 0.5,
        timeToFirstTokenMs: 20,
        overheadMs: 0.3,
      });
      metrics.recordRequest({
        modelId: 'qwen2',
        outcome: 'ok',
        latencyMs: 80,
        inputTokens: 7,
        outputTokens: 128,
        queueMs: 0,
        timeToFirstTokenMs: 15,
        overheadMs: 0.2,
      });
    });
    assert.equal(capture.counter('requests.total'), 2);
    assert.equal(capture.counter('requests.model.qwen2'), 2);
    assert.equal(capture.counter('requests.model.qwen2.input_tokens'), 17);
    assert.equal(capture.counter('requests.model.qwen2.output_tokens'), 192);
    assert.deepEqual(capture.timings('request.latency'), [120.12, 80]);
    assert.deepEqual(capture.timings('request.model.qwen2.latency'), [120.12, 80]);
    assert.deepEqual(capture.timings('request.ttft'), [20, 15]);
    assert.ok(capture.lines.includes('requests.total:2|c'), 'counters go out summed, one line per key');
  });

  it("batches many requests' timers into datagrams within the buffer's bound, every value in order", async () => {
    const latencies = Array.from({ length: 120 }, (_, i) => 1000 + i / 100);
    await recorded('prod.', (metrics) => {
      for (const latencyMs of latencies)
        metrics.recordRequest({
          modelId: 'qwen2',
          outcome: 'ok',
          latencyMs,
          queueMs: 1,
          timeToFirstTokenMs: 2,
          overheadMs: 0.1,
        });
    });
    assert.deepEqual(capture.timings('prod.request.latency'), latencies);
    assert.deepEqual(capture.timings('prod.request.model.qwen2.latency'), latencies);
    assert.ok(capture.datagramBytes.length > 1, 'more than one datagram');
    assert.ok(
      capture.datagramBytes.every((bytes) => bytes <= 1400),
      `every datagram within 1400 bytes: ${capture.datagramBytes.join(', ')}`,
    );
    // Batched: each datagram but the last filled to within one request's lines of the bound.
    assert.ok(
      capture.datagramBytes.slice(0, -2).every((bytes) => bytes > 1400 - 200),
      capture.datagramBytes.join(', '),
    );
  });

  it('counts a failure by type, and gives a request for no served model no per-model key', async () => {
    await recorded('', (metrics) => {
      metrics.recordRequest({ modelId: 'llama3', outcome: 'timeout', latencyMs: 300 });
      metrics.recordRequest({ modelId: null, outcome: 'model_not_found', latencyMs: 1 });
    });
    assert.equal(capture.counter('requests.total'), 2);
    assert.equal(capture.counter('requests.errors.timeout'), 1);
    assert.equal(capture.counter('requests.model.llama3.errors.timeout'), 1);
    assert.equal(capture.counter('requests.errors.model_not_found'), 1);
    assert.equal(capture.timings('request.latency').length, 2);
    assert.equal(capture.counter('requests.model.llama3.input_tokens'), 0, 'no tokens for a failed request');
    assert.ok([...capture.keys()].every((key) => !key.includes('null')));
  });

  it('puts STATSD_PREFIX in front of every key, with or without its trailing dot', async () => {
    for (const prefix of ['prod', 'prod.']) {
      await recorded(prefix, (metrics) => metrics.recordRequest({ modelId: 'qwen2', outcome: 'ok', latencyMs: 1 }));
      assert.equal(capture.counter('prod.requests.total'), 1);
      assert.ok(
        [...capture.keys()].every((key) => key.startsWith('prod.')),
        [...capture.keys()].join(),
      );
    }
  });
});
