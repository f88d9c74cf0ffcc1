import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyze, distribution } from './summarize.js';
import { streamedRecord, syntheticRecord } from './test-records.js';

describe('aggregates over a run', () => {
  // Window: measurement from 0 to a load stop at 1000 ms; one answer ends after it, at 1500 ms (the drain).
  const window = { startMs: 0, stopMs: 1000 };
  const records = [
    streamedRecord(0, [20, 30, 40], { id: 0, model: 'qwen2', usage: { input_tokens: 5, output_tokens: 3 } }), // e2e 41
    streamedRecord(100, [150, 170], { id: 1, model: 'llama3', usage: { input_tokens: 7, output_tokens: 2 } }), // e2e 71
    syntheticRecord({
      id: 2,
      model: 'qwen2',
      stream: false,
      intended_ms: 200,
      sent_ms: 200,
      end_ms: 1500,
      usage: { input_tokens: 4, output_tokens: 10 },
    }), // e2e 1300
    syntheticRecord({
      id: 3,
      model: 'llama3',
      intended_ms: 300,
      sent_ms: 340,
      end_ms: 400,
      ok: false,
      status: 429,
      error_type: 'overloaded',
      usage: null,
    }),
    syntheticRecord({
      id: 4,
      model: 'qwen2',
      intended_ms: 400,
      sent_ms: null,
      end_ms: null,
      ok: false,
      status: null,
      error_type: 'dropped',
      usage: null,
    }),
    // Warm-up: out of the request counts and latencies; its answer, inside the window, is throughput.
    syntheticRecord({ id: 5, model: 'qwen2', intended_ms: -50, sent_ms: -50, end_ms: 500, warmup: true }),
  ];
  const { overall, perModel } = analyze(records, { window, lateThresholdMs: 10 });
  const s = overall.summary;

  it('counts requests, failures (dropped included) and late sends', () => {
    assert.deepEqual(s.requests, { total: 5, ok: 3, failed: 2, dropped: 1, late: 1 });
    assert.equal(s.error_rate, 0.4);
    assert.deepEqual(s.errors_by_type, { overloaded: 1, dropped: 1 });
  });

  it('measures over the window from the start of measurement to the load stop', () => {
    assert.equal(s.duration_s, 1);
  });

  it("counts throughput as answers that ended inside the window, tokens by the server's usage", () => {
    // Inside [0, 1000]: ids 0, 1, 5 succeeded (the warm-up one too), id 3 failed; id 2 ended in the drain.
    assert.equal(s.throughput.qps, 3);
    assert.equal(s.throughput.responses_per_s, 4);
    assert.equal(s.throughput.output_tokens_per_s, 3 + 2 + 1);
    assert.equal(s.throughput.input_tokens_per_s, 5 + 7 + 10);
    // Totals are over the measured successes, wherever they ended.
    assert.deepEqual(s.tokens, { input: 16, output: 15 });
  });

  it('builds latency distributions from successful requests only', () => {
    assert.deepEqual([...overall.samples.e2e], [41, 71, 1300]);
    assert.equal(s.latency_ms.e2e.p50, 71);
    assert.equal(s.latency_ms.e2e.max, 1300);
    assert.deepEqual([...overall.samples.ttft], [20, 50]);
    assert.deepEqual([...overall.samples.tpot], [10, 20]);
    assert.deepEqual([...overall.samples.itl], [10, 10, 20]);
  });

  it('splits the same figures per model, over the same duration', () => {
    assert.deepEqual([...perModel.keys()], ['llama3', 'qwen2']);
    const qwen = perModel.get('qwen2')!.summary;
    assert.deepEqual(qwen.requests, { total: 3, ok: 2, failed: 1, dropped: 1, late: 0 });
    assert.equal(qwen.duration_s, 1);
    assert.equal(qwen.throughput.qps, 2);
    assert.equal(qwen.latency_ms.e2e.count, 2);
    const llama = perModel.get('llama3')!.summary;
    assert.deepEqual(llama.errors_by_type, { overloaded: 1 });
    assert.equal(llama.latency_ms.ttft.p50, 50);
  });

  it('reports a metric without samples as count 0 and nulls, not zeros', () => {
    const empty = distribution(new Float64Array(0));
    assert.deepEqual(empty, {
      count: 0,
      min: null,
      mean: null,
      p50: null,
      p90: null,
      p95: null,
      p99: null,
      p99_9: null,
      max: null,
    });
    assert.deepEqual(s.latency_ms.server_ttft, empty);
  });

  it('handles a run with no requests at all', () => {
    const nothing = analyze([], { window, lateThresholdMs: 10 }).overall.summary;
    assert.equal(nothing.requests.total, 0);
    assert.equal(nothing.error_rate, 0);
    assert.equal(nothing.throughput.qps, 0);
    assert.equal(nothing.latency_ms.e2e.p99, null);
  });

  it('keeps the gateway-reported timings as their own distributions', () => {
    const withServer = syntheticRecord({ server: { latency_ms: 50, queue_ms: 2, ttft_ms: 12 } });
    const a = analyze([withServer], { window, lateThresholdMs: 10 }).overall.summary;
    assert.equal(a.latency_ms.server_ttft.p50, 12);
    assert.equal(a.latency_ms.queue.p50, 2);
  });
});
