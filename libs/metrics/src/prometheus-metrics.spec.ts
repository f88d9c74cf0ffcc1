import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePrometheusText } from './testing/prometheus-text.js';
import { PrometheusMetrics } from './prometheus-metrics.js';

const samples = async (metrics: PrometheusMetrics) => parsePrometheusText(await metrics.exposition());

describe('PrometheusMetrics', () => {
  it('counts requests by model and outcome, every outcome of a seen model starting at 0', async () => {
    const metrics = new PrometheusMetrics({ processMetrics: false });
    metrics.recordRequest({
      modelId: 'qwen2',
      outcome: 'ok',
      latencyMs: 200,
      inputTokens: 5,
      outputTokens: 9,
      queueMs: 1,
      timeToFirstTokenMs: 30,
      overheadMs: 0.4,
    });
    metrics.recordRequest({ modelId: null, outcome: 'validation', latencyMs: 1 });
    const s = await samples(metrics);
    assert.equal(s.get('sluice_requests_total{model="qwen2",outcome="ok",route="generate"}'), 1);
    assert.equal(s.get('sluice_requests_total{model="qwen2",outcome="timeout",route="generate"}'), 0);
    assert.equal(s.get('sluice_requests_total{model="",outcome="validation",route="generate"}'), 1);
    assert.equal(s.get('sluice_tokens_total{model="qwen2",kind="input"}'), 5);
    assert.equal(s.get('sluice_tokens_total{model="qwen2",kind="output"}'), 9);
    assert.equal(s.get('sluice_request_duration_seconds_bucket{le="0.25",model="qwen2"}'), 1);
    assert.equal(s.get('sluice_request_duration_seconds_bucket{le="0.1",model="qwen2"}'), 0);
    assert.equal(s.get('sluice_gateway_overhead_seconds_bucket{le="0.0005"}'), 1);
    assert.equal(s.get('sluice_time_to_first_token_seconds_count{model="qwen2"}'), 1);
  });

  it('sets the model gauges, the cold start and the service rate once known', async () => {
    const metrics = new PrometheusMetrics({ processMetrics: false });
    const admission = { serviceRatePerS: 78.5, predictedWaitMs: 250 };
    metrics.setModelGauges('qwen2', {
      inFlight: 3,
      queued: 7,
      ready: true,
      state: 'ready',
      restarts: 0,
      coldStartMs: 2500,
      ...admission,
    });
    const cold = { serviceRatePerS: null, predictedWaitMs: 0 };
    metrics.setModelGauges('llama3', {
      inFlight: 0,
      queued: 0,
      ready: false,
      state: 'failed',
      restarts: 2,
      coldStartMs: null,
      ...cold,
    });
    metrics.setInFlight(10);
    const s = await samples(metrics);
    assert.equal(s.get('sluice_model_in_flight{model="qwen2"}'), 3);
    assert.equal(s.get('sluice_model_queued{model="qwen2"}'), 7);
    assert.equal(s.get('sluice_model_ready{model="qwen2"}'), 1);
    assert.equal(s.get('sluice_model_ready{model="llama3"}'), 0);
    assert.equal(s.get('sluice_model_state{model="llama3",state="failed"}'), 1);
    assert.equal(s.get('sluice_model_state{model="llama3",state="loading"}'), 0);
    assert.equal(s.get('sluice_model_state{model="qwen2",state="ready"}'), 1);
    assert.equal(s.get('sluice_model_restarts{model="llama3"}'), 2);
    assert.equal(s.get('sluice_model_cold_start_seconds{model="qwen2"}'), 2.5);
    assert.equal(s.has('sluice_model_cold_start_seconds{model="llama3"}'), false);
    assert.equal(s.get('sluice_model_service_rate{model="qwen2"}'), 78.5);
    assert.equal(s.has('sluice_model_service_rate{model="llama3"}'), false);
    assert.equal(s.get('sluice_model_predicted_wait_seconds{model="qwen2"}'), 0.25);
    assert.equal(s.get('sluice_model_predicted_wait_seconds{model="llama3"}'), 0);
    assert.equal(s.get('sluice_in_flight_requests'), 10);
  });
});
